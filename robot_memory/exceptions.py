"""The exception hierarchy of robot_memory: one root, named subclasses."""

from __future__ import annotations

__all__ = [
    'BlockedPoseError',
    'CorruptStoreError',
    'InvalidInputError',
    'OutOfOrderError',
    'RobotMemoryError',
    'StoreError',
    'UnknownNodeError',
    'WorldMismatchError',
]


class RobotMemoryError(Exception):
    """Root of every error raised on purpose by robot_memory."""


class UnknownNodeError(RobotMemoryError, KeyError):
    """A scene-graph or memory lookup named a node that does not exist."""

    def __str__(self) -> str:
        # KeyError would quote the message; keep it readable.
        return str(self.args[0]) if self.args else ''


class InvalidInputError(RobotMemoryError, ValueError):
    """An observation, frame or parameter is malformed (NaN, wrong shape, unknown value)."""


class OutOfOrderError(InvalidInputError):
    """An event is stamped before a fact it would have to change."""


class BlockedPoseError(InvalidInputError):
    """A simulator was asked to put the robot where it cannot stand (in a wall, off the map)."""


class StoreError(RobotMemoryError):
    """A memory file cannot be opened, read or written."""


class CorruptStoreError(StoreError):
    """A memory file is damaged or is not a robot_memory file."""


class WorldMismatchError(StoreError):
    """A memory file was built in another world than the one it is opened for."""
