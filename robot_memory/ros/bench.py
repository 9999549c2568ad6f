"""`robot-memory bench ros`: camera transport from sim_bridge_node to memory_node.

Both nodes run as separate processes on a private domain; the bridge re-sends pre-rendered
views at a fixed rate (its `stream` mode, so rendering does not compete for the CPU) and the
memory node ingests as it would on a robot. Figures come from the memory node's diagnostics
over the measured window, after a warm-up:

- `fps`: depth frames received per second;
- `latency_ms_p50/p95`: from the writer's source timestamp to the subscription callback
  (DDS delivery plus the executor's wait), per depth image;
- `dropped`: frames lost on the way (gaps in the writer's sequence numbers) or left without
  a partner message (not paired into a frame).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.paths import share_file

__all__ = ['PROFILES', 'bench_ros']

PROFILES = ('shm', 'default')


def _number(values: dict[str, str], key: str) -> float:
    try:
        return float(values.get(key, 0) or 0)
    except ValueError:
        return 0.0


def _sum(values: dict[str, str], prefix: str) -> float:
    return sum(_number(values, k) for k in values if k.startswith(prefix))


def _run_profile(profile: str, domain_id: int, width: int, height: int, rate_hz: float,
                 duration_s: float, warmup_s: float, workdir: Path) -> dict[str, Any]:
    from diagnostic_msgs.msg import DiagnosticArray

    from robot_memory.ros.conversions import diagnostic_values
    from robot_memory.ros.probe import NodeProcess, Probe, ros_env

    xml = share_file('config', 'fastdds_shm.xml') if profile == 'shm' else None
    env = ros_env(domain_id, xml)
    window = max(int(rate_hz * duration_s), 10)
    memory = NodeProcess('memory_node', {
        'db_path': str(workdir / f'bench_{profile}.db'), 'use_embeddings': False,
        'sensor_qos_reliable': True, 'sensor_queue_msgs': 10,
        'latency_window_frames': window, 'diagnostics_period_s': 0.5,
        'markers_period_s': 5.0}, env, workdir / f'memory_{profile}.log')
    bridge = NodeProcess('sim_bridge_node', {
        'mode': 'stream', 'width_px': width, 'height_px': height, 'frame_rate_hz': rate_hz,
        'start_after_subscribers': 1, 'start_delay_s': 1.0}, env,
        workdir / f'bridge_{profile}.log')
    latest: dict[str, dict[str, str]] = {}

    def on_diagnostics(msg: Any) -> None:
        for status in msg.status:
            if status.name.startswith('memory_node'):
                latest['memory'] = {**diagnostic_values(status), '_t': str(time.monotonic())}

    try:
        with Probe(domain_id, 'bench_probe') as probe:
            probe.subscribe(DiagnosticArray, 'diagnostics', 10, on_diagnostics)
            started = probe.spin_until(
                lambda: _number(latest.get('memory', {}), 'frames.received') > 0, 90.0)
            if not started:
                logs = '\n'.join(f'--- {p.node}\n{p.log()[-2000:]}' for p in (bridge, memory))
                raise InvalidInputError(f'no frames reached memory_node with the {profile} '
                                        f'profile\n{logs}')
            probe.spin_for(warmup_s)
            first = dict(latest['memory'])
            probe.spin_for(duration_s)
            last = dict(latest['memory'])
    finally:
        bridge.stop()
        memory.stop()
    elapsed = _number(last, '_t') - _number(first, '_t')
    frames = _number(last, 'frames.received') - _number(first, 'frames.received')
    lost = (_number(last, 'dropped.transport_lost.depth')
            - _number(first, 'dropped.transport_lost.depth'))
    unpaired = (_sum(last, 'dropped.no_') - _sum(first, 'dropped.no_')
                + _number(last, 'dropped.queue_full') - _number(first, 'dropped.queue_full'))
    return {
        'fps': round(frames / elapsed, 2) if elapsed > 0 else 0.0,
        'latency_ms_p50': _number(last, 'latency_ms_p50'),
        'latency_ms_p95': _number(last, 'latency_ms_p95'),
        'dropped': int(lost + unpaired),
        'frames': int(frames),
        'duration_s': round(elapsed, 2),
        'middleware_ms_p50': _number(last, 'middleware_ms_p50'),
        'middleware_ms_p95': _number(last, 'middleware_ms_p95'),
        'messages_lost': int(_sum(last, 'dropped.transport_lost.')
                             - _sum(first, 'dropped.transport_lost.')),
        'ingest_fps': _number(last, 'ingest_rate_hz'),
        'ingest_ms_p50': _number(last, 'ingest_ms_p50'),
        'ingest_queue_dropped': int(_number(last, 'dropped.ingest_queue_full')
                                    - _number(first, 'dropped.ingest_queue_full')),
    }


def bench_ros(width: int = 640, height: int = 480, rate_hz: float = 30.0,
              duration_s: float = 8.0, warmup_s: float = 2.0,
              profiles: tuple[str, ...] = PROFILES, domain_id: int | None = None
              ) -> dict[str, Any]:
    """Measure bridge → memory node transport with each Fast DDS profile; the first leads."""
    unknown = set(profiles) - set(PROFILES)
    if unknown or not profiles:
        raise InvalidInputError(f'profiles {sorted(unknown) or "none"}; valid: '
                                f'{", ".join(PROFILES)}')
    if rate_hz <= 0 or duration_s <= 0 or width <= 0 or height <= 0:
        raise InvalidInputError('width, height, rate_hz and duration_s must be positive')
    base_domain = domain_id if domain_id is not None else 100 + os.getpid() % 90
    results = {}
    with tempfile.TemporaryDirectory(prefix='robot_memory_bench_') as tmp:
        for k, profile in enumerate(profiles):
            results[profile] = _run_profile(profile, (base_domain + k) % 200 + 1, width,
                                            height, rate_hz, duration_s, warmup_s, Path(tmp))
    lead, *others = profiles
    out: dict[str, Any] = {**results[lead], 'profile': lead, 'width': width,
                           'height': height, 'rate_hz': rate_hz}
    for profile in others:
        out[f'{profile}_profile'] = results[profile]
    return out
