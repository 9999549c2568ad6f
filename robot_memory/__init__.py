"""robot_memory: long-term episodic memory for mobile robots on ROS 2."""

from robot_memory.exceptions import (
    CorruptStoreError,
    InvalidInputError,
    OutOfOrderError,
    RobotMemoryError,
    StoreError,
    UnknownNodeError,
)

__version__ = '0.1.0'

__all__ = [
    'CorruptStoreError',
    'InvalidInputError',
    'OutOfOrderError',
    'RobotMemoryError',
    'StoreError',
    'UnknownNodeError',
    '__version__',
]
