"""Plain functions behind `robot-memory sim` and `robot-memory bench sim`."""

from __future__ import annotations

import collections
import logging
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.exceptions import InvalidInputError
from robot_memory.progress import StageBar
from robot_memory.sim.backend import BuiltinSim, SimConfig, load_scenario
from robot_memory.sim.clock import sim_time
from robot_memory.sim.detector import load_detector
from robot_memory.sim.recording import McapRecorder
from robot_memory.sim.renderer import CameraConfig
from robot_memory.sim.topdown import save_topdown

__all__ = ['bench_habitat', 'bench_sim', 'run_sim']

log = logging.getLogger(__name__)


def run_sim(seed: int, days: int, out_dir: Path, world: str = 'apartment',
            progress: bool = True, scenario: str | Path | None = None,
            detector: str | None = None, sim: Any = None, world_style: str = 'home',
            attributes: str = 'pixels') -> dict[str, Any]:
    """Simulate `days` days of patrols; write truth.json, map.png and recording.mcap.

    `detector` (a preset or YAML file) makes the recorded labels those of a detector that errs.
    `sim`: another simulator with household activity (Habitat days) instead of the built-in.
    `world_style`: home or flat (`sim/appearance.py`); `attributes` labels: the recorded
    labels carry each object's colour and state (pixels: a class only).
    """
    if days < 1:
        raise InvalidInputError(f'days must be ≥ 1, got {days}')
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = load_scenario(scenario, world=world, seed=seed) if scenario else SimConfig(
        world=world, seed=seed, world_style=world_style)
    if detector is not None:
        config = replace(config, detector=load_detector(detector))
    config = replace(config, detector=config.detector.with_attributes(attributes))
    wall_start = time.perf_counter()
    sim = sim if sim is not None else BuiltinSim(config)
    mcap_path = out_dir / 'recording.mcap'
    frames_per_day: list[int] = []
    with McapRecorder(mcap_path) as recorder, StageBar(progress) as bar:
        bar.stage('simulating', days)
        for day in range(days):
            n = 0
            for frame in sim.patrol_day(day):
                recorder.write_frame(frame)
                n += 1
            frames_per_day.append(n)
            bar.advance(f'day {day + 1}/{days}: {n} frames')
        sim.step(max(0.0, sim_time(days) - sim.now_s))
    truth = sim.truth
    events = collections.Counter(e.kind for e in sim.activity.events)
    truth_path = truth.save_json(out_dir / 'truth.json', extra={
        'world': sim.world.to_dict(),
        'events': [{'stamp_s': e.stamp_s, 'kind': e.kind, 'obj_id': e.obj_id, 'cause': e.cause,
                    'support': e.support, 'state': e.state, 'moved': e.moved}
                   for e in sim.activity.events],
    })
    map_path = save_topdown(sim.world, out_dir / 'map.png', truth.at(sim.now_s - 1e-3),
                            [(x, y) for _, x, y in sim.trail],
                            title=f'{sim.world.kind} seed {seed}, {days} day(s)')
    summary = {
        'seed': seed,
        'days': days,
        'world': sim.world.kind,
        'detector': detector or 'perfect',
        'rooms': len(sim.world.rooms),
        'furniture': len(sim.world.furniture),
        'objects_initial': len(sim.world.initial_state.objects),
        'objects_final': len(sim.activity.state.objects),
        'frames': sum(frames_per_day),
        'frames_per_day': frames_per_day,
        'events': dict(sorted(events.items())),
        'truth_intervals': truth.num_intervals(),
        'truth_hash': truth.hash(),
        'truth': str(truth_path),
        'map': str(map_path),
        'mcap': str(mcap_path),
        'wall_s': round(time.perf_counter() - wall_start, 2),
    }
    log.info('simulated %s', summary)
    return summary


def bench_sim(frames: int = 300, width: int = 640, height: int = 480,
              seed: int = 0) -> dict[str, Any]:
    """Frames per second of `observe()` (render + segments + labels) on one thread."""
    if frames < 1:
        raise InvalidInputError(f'frames must be ≥ 1, got {frames}')
    import open3d as o3d

    # Keep Open3D's own pools quiet and on one thread where it allows it; ray casting is told
    # nthreads=1 explicitly by the renderer.
    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    sim = BuiltinSim(SimConfig(world='apartment', seed=seed,
                               camera=CameraConfig(width=width, height=height)))
    views = [p for p in sim.world.places if p.door < 0]
    poses = [(p.position_m[0], p.position_m[1], k * math.tau / 8) for p in views for k in range(8)]
    sim.observe()  # builds the scene (BVH) once, outside the timing
    times = []
    for i in range(frames):
        x, y, yaw = poses[i % len(poses)]
        sim.teleport(x, y, yaw)  # the benchmark measures rendering, not travel
        t0 = time.perf_counter()
        sim.observe()
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    return {
        'fps': round(frames / float(np.sum(times)), 1),
        'width': width,
        'height': height,
        'frames': frames,
        'objects': len(sim.activity.state.objects),
        'triangles': sim.renderer.triangles,
        'ms_per_frame_p50': round(float(np.percentile(ms, 50)), 2),
        'ms_per_frame_p95': round(float(np.percentile(ms, 95)), 2),
        'threads': 1,
        'stride': sim.config.render.stride,
    }


def bench_habitat(scene: str | None = None, config: str | Path | None = None,
                  frames: int = 200) -> dict[str, Any]:
    """Frames per second of the Habitat backend's `observe()` at 640×480, render vs conversion.

    The robot is put on each view place in eight directions in turn (teleports, no travel);
    `render_ms` is habitat-sim's `get_sensor_observations()` (RGB + depth + semantic),
    `convert_ms` the backend's conversion into a `Frame` (segments, labels, depth, pose).
    """
    if frames < 1:
        raise InvalidInputError(f'frames must be ≥ 1, got {frames}')
    from robot_memory.sim.habitat_backend import HabitatConfig, HabitatSim

    if config is not None:
        cfg = HabitatConfig.from_yaml(config)
        cfg = replace(cfg, scene_path=scene) if scene else cfg
    elif scene:
        cfg = HabitatConfig(scene_path=scene)
    else:
        raise InvalidInputError('bench habitat needs --scene FILE or --config FILE')
    cfg = replace(cfg, sensor_width_px=640, sensor_height_px=480)
    with HabitatSim(cfg) as sim:
        graph = sim.scene_graph()
        poses = [(*graph.get_place(p).position_m[:2], k * math.tau / 8)
                 for p in sorted(graph.places) for k in range(8)]
        sim.observe()  # first frame: caches and lazy setup outside the timing
        total, render, convert = [], [], []
        for i in range(frames):
            x, y, yaw = poses[i % len(poses)]
            sim.teleport(x, y, yaw)
            t0 = time.perf_counter()
            sim.observe()
            total.append(time.perf_counter() - t0)
            render.append(sim.last_observe_ms[0])
            convert.append(sim.last_observe_ms[1])
        diagnostics = sim.diagnostics
    ms = np.array(total) * 1e3
    return {
        'observe_fps': round(frames / float(np.sum(total)), 1),
        'render_ms': round(float(np.median(render)), 2),
        'convert_ms': round(float(np.median(convert)), 2),
        'observe_ms_p50': round(float(np.percentile(ms, 50)), 2),
        'observe_ms_p95': round(float(np.percentile(ms, 95)), 2),
        'width': 640,
        'height': 480,
        'frames': frames,
        'places': len(graph.places),
        'rooms': len(graph.rooms),
        'scene': cfg.scene_path,
        'navmesh_above_floor_m': diagnostics.get('navmesh_above_floor_m'),
        'semantic_alignment': diagnostics.get('semantic_alignment'),
    }
