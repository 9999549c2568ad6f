"""A full disk: memory goes on mapping, the store reports and retries, nothing is lost.

Uses a small tmpfs (mounting needs root; the test skips and says so elsewhere), grown again
with `mount -o remount` once the store has failed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from robot_memory.core import MemoryStore
from robot_memory.service import MemoryService, MemoryServiceParams

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 160 kB filesystem at tmp_path/disk."""
    disk = tmp_path / 'disk'
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip('mounting a small tmpfs needs root')
    result = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', str(disk)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here: {result.stderr.strip()}')
    try:
        yield disk
    finally:
        subprocess.run(['umount', '-l', str(disk)], capture_output=True)


def test_a_full_disk_keeps_mapping_and_writes_everything_once_space_is_back(
        small_disk: Path) -> None:
    from robot_memory.sim.backend import BuiltinSim, SimConfig
    from robot_memory.sim.renderer import CameraConfig

    sim = BuiltinSim(SimConfig(world='apartment', seed=1,
                               camera=CameraConfig(width=160, height=120)))
    service = MemoryService(MemoryServiceParams(db_path=str(small_disk / 'memory.db'),
                                                use_embeddings=False, commit_interval_s=0.0),
                            layout=sim.scene_graph())
    frames = iter(sim.patrol_day(0))
    for frame in frames:
        service.ingest(frame)
        if service.store_error:
            break
    assert service.store_error and 'database or disk is full' in service.store_error
    committed = service.store.last_seq - service.store.pending
    for frame in frames:  # the rest of the patrol: memory keeps mapping
        service.ingest(frame)
    stats = service.diagnostics()
    assert stats['store_pending_events'] > 0 and stats['store_failures'] > 1
    assert 'disk is full' in stats['store_error']
    assert service.memory.num_events == service.store.last_seq > committed
    subprocess.run(['mount', '-o', 'remount,size=32m', str(small_disk)], check=True)
    service.flush()  # space is back: the waiting events go in
    assert service.store_error is None and service.store.pending == 0
    written = service.store.last_seq
    service.close()
    with MemoryStore(small_disk / 'memory.db', read_only=True) as store:
        memory = store.load()
        assert store.loaded_seq == written
    assert memory.num_objects() == service.memory.num_objects()

