"""Run by the Habitat side interpreter (not collected by pytest): drive the Habitat backend on
a generated scene and print one JSON object of what it found, for test_habitat_real.py.

    HABITAT_PYTHON check_scene.py SCENE.glb [--semantic-check error|warn|off]

Needs the scene's NAME.truth.json beside it. Builds memory from a full patrol with the
project's MemoryService (no embeddings: the side environment has no torch) and compares the
objects in memory with the truth: found (a true object with a remembered one of its class
within 0.5 m) and phantoms (remembered objects near no true object of their class).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from robot_memory.exceptions import BlockedPoseError, RobotMemoryError
from robot_memory.service import MemoryService, MemoryServiceParams
from robot_memory.sim.habitat_backend import HabitatConfig, HabitatSim

MATCH_M = 0.5
RESULT = 'check_scene result: '  # the line to read (habitat-sim logs on stdout too)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('scene')
    parser.add_argument('--semantic-check', default='error')
    parser.add_argument('--frames', type=int, default=120)
    args = parser.parse_args()
    truth = json.loads(Path(args.scene).with_suffix('.truth.json').read_text())
    out: dict = {}
    config = HabitatConfig(scene_path=args.scene, semantic_check=args.semantic_check,
                           patrol_fraction=1.0, patrol_start_hours=(9.0,))
    try:
        sim = HabitatSim(config)
    except RobotMemoryError as exc:
        print(RESULT + json.dumps({'error': type(exc).__name__, 'message': str(exc)}))
        return 0
    with sim:
        graph = sim.scene_graph()
        out['diagnostics'] = sim.diagnostics
        out['rooms'] = sorted(graph.get_room(r).name for r in graph.rooms)
        out['places'] = len(graph.places)
        # camera mounting, at the dock
        frame = sim.observe()
        out['camera_z_m'] = float(frame.map_T_camera[2, 3])
        out['base_z_m'] = float(sim.pose.position_m[2])
        # observe() speed at 640x480 (teleports between views, no travel)
        views = [(*graph.get_place(p).position_m[:2], k * math.tau / 8)
                 for p in sorted(graph.places) for k in range(8)]
        render, convert, total = [], [], []
        for i in range(args.frames):
            sim.teleport(*views[i % len(views)])
            t0 = time.perf_counter()
            sim.observe()
            total.append(time.perf_counter() - t0)
            render.append(sim.last_observe_ms[0])
            convert.append(sim.last_observe_ms[1])
        out['observe_fps'] = args.frames / sum(total)
        out['render_ms'] = sorted(render)[len(render) // 2]
        out['convert_ms'] = sorted(convert)[len(convert) // 2]
        # teleports: into a wall (snapped or refused), far outside (refused)
        out['teleport'] = {}
        for name, (x, y) in (('outside', (100.0, 100.0)),):
            try:
                sim.teleport(x, y, 0.0)
                out['teleport'][name] = 'moved'
            except BlockedPoseError as exc:
                out['teleport'][name] = f'BlockedPoseError: {exc}'
        # memory from a full patrol
        sim.reset()
        with tempfile.TemporaryDirectory() as tmp:
            service = MemoryService(MemoryServiceParams(db_path=f'{tmp}/m.db',
                                                        use_embeddings=False), layout=graph)
            frames = list(sim.patrol_day(0))
            for f in frames:
                service.ingest(f)
            view = service.memory.at(sim.now_s)
            remembered = [(s.label, s.position_m) for s in view.objects.values()
                          if s.position_m is not None]
            service.close()
    out['patrol_frames'] = len(frames)

    def near(label: str, position, candidates) -> bool:
        return any(c == label and math.dist(position[:2], p[:2]) <= MATCH_M
                   for c, p in candidates)

    true = [(o['category'], o['map_center']) for o in truth['objects']]
    out['truth_objects'] = len(true)
    out['found'] = sorted(c for c, p in true if near(c, p, remembered))
    out['missed'] = sorted(c for c, p in true if not near(c, p, remembered))
    out['phantoms'] = sorted(c for c, p in remembered if not near(c, p, true))
    print(RESULT + json.dumps(out, default=str))
    return 0


if __name__ == '__main__':
    sys.exit(main())
