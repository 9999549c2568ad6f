"""The patrol days of the LA-EQA benchmark: memory built through perception, frame records.

`patrol` runs the simulated days through the mapping pipeline and keeps, beside the memory, what
the frame-retrieval baseline stores of every frame and when each true object was seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import Frame
from robot_memory.perception.pipeline import MappingPipeline
from robot_memory.sim.detector import DetectorConfig

__all__ = ['FrameRecord', 'Patrolled', 'patrol']


@dataclass(slots=True)
class FrameRecord:
    """What the frame-retrieval baseline keeps of one frame (after ReMEmbR)."""

    stamp_s: float
    room_id: str
    detections: list[tuple[str, str, str, tuple[float, float, float]]]


@dataclass(slots=True)
class Patrolled:
    """The state after the patrol days."""

    sim: Any
    memory: EpisodicMemory
    pipeline: MappingPipeline
    layout: SceneGraph
    records: list[FrameRecord]
    seen_gt: dict[str, list[float]] = field(default_factory=dict)


def patrol(seed: int, days: int, world: str = 'apartment', progress: Any = None,
           detector: DetectorConfig | None = None, sim: Any = None,
           world_style: str = 'home') -> Patrolled:
    """Run `days` of patrols through perception; keep frame records for the baseline.

    `sim`: another simulator with household activity (Habitat days); else the built-in one.
    """
    from robot_memory.sim.backend import BuiltinSim, SimConfig

    if sim is None:
        sim = BuiltinSim(SimConfig(world=world, seed=seed, world_style=world_style,
                                   detector=detector or DetectorConfig()))
    layout = sim.scene_graph()
    memory = EpisodicMemory()
    memory.set_layout(layout, sim.now_s)
    pipeline = MappingPipeline(memory, layout)
    out = Patrolled(sim, memory, pipeline, layout, [])
    for day in range(days):
        for frame in sim.patrol_day(day):
            _ingest(out, frame, record=True)
        if progress is not None:
            progress(day)
    pipeline.flush()
    return out


def _ingest(state: Patrolled, frame: Frame, record: bool) -> None:
    result = state.pipeline.process(frame)
    if not record:
        return
    truth = state.sim.frame_truth(frame.frame_index)
    for seg in result.segment_objects:
        gt = truth.get(seg)
        if gt is not None:
            state.seen_gt.setdefault(gt, []).append(frame.stamp_s)
    x, y = float(frame.map_T_camera[0, 3]), float(frame.map_T_camera[1, 3])
    room = state.layout.find_room_at(x, y) or ''
    dets = [(o.observation.label, o.observation.attributes.get('color', ''),
             o.observation.attributes.get('state', ''), o.observation.centroid_m)
            for o in result.seen]
    state.records.append(FrameRecord(frame.stamp_s, room, dets))
