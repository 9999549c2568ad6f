"""`robot-memory bringup`, `robot-memory ingest` and `robot-memory bench ros`.

Registered by `robot_memory/cli.py` when rclpy and the message packages import.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from robot_memory._console import console, emit, out
from robot_memory.progress import Working

__all__ = ['register']

if importlib.util.find_spec('rclpy') is None:
    # The CLI registers these commands only where ROS 2 is installed.
    raise ImportError('rclpy is not installed')

def bringup_cmd(
    sim: Annotated[str, typer.Option(help='Simulator: builtin, or none (a real robot).')]
    = 'builtin',
    params: Annotated[list[Path] | None, typer.Option(
        '--params', help='Parameter YAML applied after the package defaults (repeatable).')]
    = None,
    days: Annotated[int, typer.Option(help='Days of simulated patrols before the '
                                           'questions (0: none).')] = 0,
    question: Annotated[list[str] | None, typer.Option(
        '--question', '-q', help='Ask this after the patrol, then stop (repeatable).')] = None,
    db: Annotated[Path | None, typer.Option(help='Memory file (overrides db_path).')] = None,
    width: Annotated[int | None, typer.Option(help='Simulated image width (px).')] = None,
    height: Annotated[int | None, typer.Option(help='Simulated image height (px).')] = None,
    rate_hz: Annotated[float | None, typer.Option(help='Simulated frames per second.')] = None,
    domain_id: Annotated[int | None, typer.Option(help='ROS_DOMAIN_ID for this graph.')]
    = None,
    as_json: Annotated[bool, typer.Option('--json', help='Print answers as JSON lines.')]
    = False,
) -> None:
    """Run sim bridge + memory + planner in one process (no `ros2 launch` needed)."""
    from robot_memory.ros.bringup import Bringup
    from robot_memory.ros.paths import share_file

    files = [share_file('config', 'robot_memory.yaml')]
    if sim == 'builtin':
        files.append(share_file('config', 'sim.yaml'))
    files += list(params or [])
    bridge: dict[str, Any] = {}
    if days > 0:
        bridge.update(mode='patrol', patrol_days=days)
    for key, value in (('width_px', width), ('height_px', height), ('frame_rate_hz', rate_hz)):
        if value is not None:
            bridge[key] = value
    memory = {'db_path': str(db.resolve())} if db is not None else {}
    graph = Bringup(sim, files, {'sim_bridge_node': bridge, 'memory_node': memory},
                    domain_id=domain_id)
    if not question:
        console.print('bringup running; Ctrl-C stops it')
        graph.spin_forever()
        return
    with Working('patrolling…') as status:
        answers = graph.run(question, progress=lambda note: status.update(note))
    for asked, answer in zip(question, answers, strict=True):
        if as_json:
            sys.stdout.write(json.dumps({'question': asked, 'reply': answer}) + '\n')
        elif answer is None:
            out.print(f'[bold]{asked}[/]\n  [red]no answer in time[/]')
        else:
            out.print(f'[bold]{asked}[/]\n  {answer.get("answer") or answer.get("error")} '
                      f'(confidence {answer.get("confidence", 0):.2f}, looked at '
                      f'{answer.get("path") or "nothing"})')
    if any(a is None for a in answers):
        raise typer.Exit(1)


def ingest_cmd(
    bag: Annotated[Path, typer.Option('--bag', help='MCAP recording of the standard topics.')],
    db: Annotated[Path, typer.Option('--db', help='Memory file to build or extend.')],
    layout: Annotated[Path | None, typer.Option(
        help='Rooms and places (SceneGraph JSON/YAML, or a map/layout message JSON) when '
             'the recording has no map/layout.')] = None,
    world: Annotated[str | None, typer.Option(
        help='Or: take rooms and places from this built-in world (the recording of '
             '`robot-memory sim`), with --seed.')] = None,
    seed: Annotated[int, typer.Option(help='Seed of --world.')] = 0,
    tolerance_s: Annotated[float, typer.Option(help='Stamp pairing tolerance (s).')] = 0.02,
    color: Annotated[bool, typer.Option(help='Pair colour images into frames.')] = True,
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
) -> None:
    """Build memory offline from an MCAP recording, exactly as memory_node would live."""
    from robot_memory.ros.bag import ingest_bag
    from robot_memory.ros.layouts import load_layout, parse_layout_msg

    given = None
    if layout is not None:
        text = layout.read_text(encoding='utf-8')
        given = (parse_layout_msg(text) if layout.suffix == '.json'
                 else (None, load_layout(str(layout))))
    elif world is not None:
        from robot_memory.sim.clock import SIM_EPOCH_S
        from robot_memory.sim.world import World

        given = (SIM_EPOCH_S, World.named(world, seed).scene_graph())
    with Working(f'ingesting {bag}…'):
        result = ingest_bag(bag, db, given, tolerance_s, color)
    emit(result, as_json, 'ingest')


def bench_ros_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    width: Annotated[int, typer.Option(help='Image width (px).')] = 640,
    height: Annotated[int, typer.Option(help='Image height (px).')] = 480,
    rate_hz: Annotated[float, typer.Option(help='Frames per second sent.')] = 30.0,
    duration_s: Annotated[float, typer.Option(help='Measured seconds per profile.')] = 10.0,
    warmup_s: Annotated[float, typer.Option(help='Seconds before measuring.')] = 2.0,
    profile: Annotated[list[str] | None, typer.Option(
        help='Fast DDS profiles in order (shm, default); the first leads.')] = None,
) -> None:
    """Bridge → memory node transport at 640×480 across processes: shared memory vs default."""
    from robot_memory.ros.bench import PROFILES, bench_ros

    with Working('benchmarking ROS transport…'):
        result = bench_ros(width, height, rate_hz, duration_s, warmup_s,
                           profiles=tuple(profile) if profile else PROFILES)
    emit(result, as_json, 'bench ros')


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the ROS commands to the `robot-memory` command."""
    app.command('bringup')(bringup_cmd)
    app.command('ingest')(ingest_cmd)
    bench_app.command('ros')(bench_ros_cmd)
