"""`robot-memory bench ingest`: frames → perception → buffer → memory → store, timed per stage.

Frames are rendered by the built-in simulator first (rendering is not part of the memory's
cost on a robot), then replayed through the whole ingestion path at 640×480.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.store import MemoryStore
from robot_memory.perception.attributes import AttributeModel, SegmentPixels
from robot_memory.perception.pipeline import STAGES, MappingPipeline

__all__ = ['bench_ingest']


class _TimedModel:
    """An attribute model that keeps the time it spends and the segments it is asked about."""

    def __init__(self, model: AttributeModel) -> None:
        self.model = model
        self.seconds = 0.0
        self.asked = 0

    @property
    def read_error(self) -> float:
        return self.model.read_error

    def knows(self, label: str) -> bool:
        return self.model.knows(label)

    def guesses(self, segments: Sequence[SegmentPixels]) -> list[str]:
        return self.model.guesses(segments)

    def states(self, segments: Sequence[SegmentPixels]) -> list[str]:
        t0 = time.perf_counter()
        out = self.model.states(segments)
        self.seconds += time.perf_counter() - t0
        self.asked += sum(1 for s in segments if self.model.knows(s.label))
        return out


def _attribute_model(spec: str, tiny_dir: Path) -> _TimedModel:
    from robot_memory.perception.attribute_models import make_attribute_model, save_random_clip

    if spec == 'tiny':
        return _TimedModel(make_attribute_model(save_random_clip(tiny_dir)))
    return _TimedModel(make_attribute_model(spec))


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_ingest(seed: int = 0, days: int = 1, world: str = 'apartment',
                 width: int = 640, height: int = 480, attribute_model: str = 'pixels',
                 world_style: str = 'home') -> dict[str, Any]:
    """Render a patrol, then time its ingestion frame by frame.

    `attribute_model`: 'pixels' (the built-in reader), a model directory, or 'tiny' (a random
    tiny CLIP written to a temporary directory: its time, not its answers).
    """
    from robot_memory.sim.backend import BuiltinSim, SimConfig
    from robot_memory.sim.renderer import CameraConfig

    sim = BuiltinSim(SimConfig(world=world, seed=seed, world_style=world_style,
                               camera=CameraConfig(width=width, height=height)))
    layout = sim.scene_graph()
    frames = [f for day in range(days) for f in sim.patrol_day(day)]
    rss_before = _peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        model = _attribute_model(attribute_model, Path(tmp) / 'tiny_clip')
        store = MemoryStore(Path(tmp) / 'bench.db')
        memory = store.load()
        memory.set_layout(layout, frames[0].stamp_s)
        pipeline = MappingPipeline(memory, layout, attribute_model=model)
        per_frame: list[float] = []
        store_ms: list[float] = []
        start = time.perf_counter()
        for frame in frames:
            t0 = time.perf_counter()
            pipeline.process(frame)
            t1 = time.perf_counter()
            store.sync(memory)
            t2 = time.perf_counter()
            per_frame.append((t2 - t0) * 1e3)
            store_ms.append((t2 - t1) * 1e3)
        total = time.perf_counter() - start
        store.close()
    n = len(frames)
    stages = {stage: pipeline.timings_ms.get(stage, 0.0) / n for stage in STAGES}
    stages['store'] = float(np.mean(store_ms))
    return {
        'fps': n / total,
        'frames': n,
        'width': width,
        'height': height,
        'ms_per_frame_p50': float(np.percentile(per_frame, 50)),
        'ms_per_frame_p95': float(np.percentile(per_frame, 95)),
        'stage_ms_mean': stages,
        'slowest_stage': max(stages, key=stages.__getitem__),
        'objects_in_memory': memory.num_objects(),
        'attribute_model': attribute_model,
        'world_style': world_style,
        # Time the state model took per segment of a class with states (in 'extract').
        'attribute_ms_per_segment': (1e3 * model.seconds / model.asked
                                     if model.asked else None),
        'peak_rss_mb': _peak_rss_mb(),
        'peak_rss_mb_before_ingest': rss_before,
    }
