"""The memory core: types, scene graph, episodic memory, buffer, staleness, store.

Pure Python over numpy / networkx / sqlite3; never imports rclpy or open3d.
"""

from robot_memory.core.buffer import (
    BufferParams,
    BufferStats,
    Candidate,
    ChangeKind,
    EvictionPolicy,
    ShortTermBuffer,
)
from robot_memory.core.clock import MemoryClock
from robot_memory.core.consolidation import (
    ConsolidationParams,
    ConsolidationStats,
    Consolidator,
    ObservedFacts,
)
from robot_memory.core.episodic import (
    Episode,
    EpisodicMemory,
    Interval,
    ObjectFacts,
    ObjectHistory,
    ObjectState,
    WorldDiff,
    WorldView,
)
from robot_memory.core.events import (
    Event,
    FactChanged,
    FactKey,
    IdentityRepaired,
    IdentitySplit,
    LayoutSet,
    ObjectCreated,
    ObjectLost,
    ObjectSeen,
    ObjectsMerged,
    PositionRefined,
)
from robot_memory.core.scene_graph import (
    EdgeKind,
    Layer,
    ObjectAttributes,
    PlaceAttributes,
    RoomAttributes,
    SceneGraph,
)
from robot_memory.core.staleness import StalenessModel, StalenessParams
from robot_memory.core.store import MemoryStore
from robot_memory.core.types import (
    CameraIntrinsics,
    Frame,
    ObjectObservation,
    SegmentLabel,
    StampedPose,
)

__all__ = [
    'BufferParams',
    'BufferStats',
    'CameraIntrinsics',
    'Candidate',
    'ChangeKind',
    'ConsolidationParams',
    'ConsolidationStats',
    'Consolidator',
    'EdgeKind',
    'Episode',
    'EpisodicMemory',
    'Event',
    'EvictionPolicy',
    'FactChanged',
    'FactKey',
    'Frame',
    'IdentityRepaired',
    'IdentitySplit',
    'Interval',
    'Layer',
    'LayoutSet',
    'MemoryClock',
    'MemoryStore',
    'ObjectAttributes',
    'ObjectCreated',
    'ObjectFacts',
    'ObjectHistory',
    'ObjectLost',
    'ObjectObservation',
    'ObjectSeen',
    'ObjectState',
    'ObjectsMerged',
    'ObservedFacts',
    'PlaceAttributes',
    'PositionRefined',
    'RoomAttributes',
    'SceneGraph',
    'SegmentLabel',
    'ShortTermBuffer',
    'StalenessModel',
    'StalenessParams',
    'StampedPose',
    'WorldDiff',
    'WorldView',
]
