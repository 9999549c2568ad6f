"""One memory per world: a memory file says which world it is of, and another world's is refused.

A Habitat run once wrote its frames into the file of an earlier built-in-simulator run and
answered with a sofa outside the house (issue #28, item 7).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from robot_memory.core import EpisodicMemory, FactKey, MemoryStore, SceneGraph
from robot_memory.exceptions import InvalidInputError, WorldMismatchError
from robot_memory.service import MemoryService, MemoryServiceParams
from tests.conftest import MONDAY_S


def _filled(path: Path, world_id: str) -> None:
    """A memory file of `world_id` holding one mug."""
    memory = EpisodicMemory()
    memory.create_object('object:1', MONDAY_S, 'mug', {FactKey.POSITION: (1.0, 2.0, 0.8),
                                                      FactKey.ROOM: 'room:kitchen'})
    with MemoryStore(path) as store:
        store.claim_world(world_id)
        store.sync(memory)


def test_a_memory_file_takes_the_first_world_it_is_opened_for_and_keeps_it(
        tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    with MemoryStore(path) as store:
        assert store.world_id == ''
        store.claim_world('')  # names no world: checks nothing, records nothing
        assert store.world_id == ''
        store.claim_world('builtin:apartment:0')
        store.claim_world('builtin:apartment:0')
    with MemoryStore(path, read_only=True) as store:
        assert store.world_id == 'builtin:apartment:0'
        with pytest.raises(WorldMismatchError, match=(
                f"^{path} holds the memory of world 'builtin:apartment:0', not of "
                "'habitat:house.glb:0'$")):
            store.claim_world('habitat:house.glb:0')


def test_the_service_refuses_another_worlds_file_naming_both_and_the_ways_out(
        tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    _filled(path, 'builtin:apartment:0')
    before = path.read_bytes()
    with pytest.raises(WorldMismatchError) as refused:
        MemoryService(MemoryServiceParams(db_path=str(path), use_embeddings=False,
                                          world_id='habitat:house.glb:0'))
    message = str(refused.value)
    assert "'builtin:apartment:0'" in message and "'habitat:house.glb:0'" in message
    assert 'other_world: new' in message and 'other_world: continue' in message
    assert path.read_bytes() == before  # refused files stay as they were


def test_continue_uses_another_worlds_file_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    _filled(path, 'builtin:apartment:0')
    service = MemoryService(MemoryServiceParams(db_path=str(path), use_embeddings=False,
                                                world_id='site-b', other_world='continue'))
    assert service.memory.num_objects() == 1
    assert service.store is not None and service.store.world_id == 'builtin:apartment:0'
    service.close()


def test_new_moves_another_worlds_file_aside_and_starts_an_empty_memory(tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    _filled(path, 'builtin:apartment:0')
    service = MemoryService(MemoryServiceParams(db_path=str(path), use_embeddings=False,
                                                world_id='habitat:house.glb:0',
                                                other_world='new'))
    assert service.memory.num_objects() == 0
    service.close()
    aside = [p for p in tmp_path.iterdir() if p.name != 'memory.db']
    assert len(aside) == 1 and aside[0].name.startswith('memory.builtin_apartment_0.')
    with MemoryStore(aside[0], read_only=True) as old:  # nothing of it lost
        assert old.world_id == 'builtin:apartment:0' and old.load().num_objects() == 1
    with MemoryStore(path, read_only=True) as new:
        assert new.world_id == 'habitat:house.glb:0'


def test_an_unknown_other_world_choice_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="other_world must be one of refuse, continue, "
                                                "new, got 'merge'"):
        MemoryServiceParams(other_world='merge')


@pytest.mark.ros
@pytest.mark.timeout(90)
def test_memory_node_given_another_worlds_file_exits_2_with_one_line(tmp_path: Path) -> None:
    pytest.importorskip('rclpy', reason='rclpy is not installed')
    from robot_memory.ros.probe import ros_env

    path = tmp_path / 'memory.db'
    _filled(path, 'builtin:apartment:0')
    result = subprocess.run(
        [sys.executable, '-m', 'robot_memory.ros.memory_node', '--ros-args', '-p',
         f'db_path:={path}', '-p', 'world_id:=builtin:house:3', '-p', 'use_embeddings:=false'],
        env=ros_env(231 + os.getpid() % 2), capture_output=True, text=True, timeout=80,
        check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "holds the memory of world 'builtin:apartment:0', not of 'builtin:house:3'" in output
    assert 'Traceback' not in output


@pytest.mark.ros
@pytest.mark.timeout(150)
def test_memory_node_refuses_a_layout_of_another_world_until_its_own_comes(
        tmp_path: Path, two_room_graph: SceneGraph) -> None:
    """The simulator bridge sends its world with the layout: a memory_node started without
    `world_id` (beside a bridge started by hand) still keeps another world out of its file."""
    pytest.importorskip('rclpy', reason='rclpy is not installed')
    from std_msgs.msg import String

    from robot_memory.ros import qos
    from tests.test_ros_robustness import Graph

    db = tmp_path / 'memory.db'
    _filled(db, 'builtin:apartment:0')
    graph = Graph(tmp_path)
    layout_pub = graph.probe.publisher(String, 'map/layout', qos.latched(1))

    def send(world_id: str) -> None:
        layout_pub.publish(String(data=json.dumps({'world_id': world_id,
                                                   'layout': two_room_graph.to_dict()})))

    send('habitat:house.glb:0')
    try:
        node = graph.start('memory', db_path=str(db), use_embeddings=False,
                           diagnostics_period_s=0.3)
        graph.wait(lambda: graph.value('errors.world_mismatch') >= 1, 60.0,
                   'the layout of another world refused')
        assert graph.value('layout.rooms') == 0
        assert ("holds the memory of world 'builtin:apartment:0', not of "
                "'habitat:house.glb:0'") in node.log()
        send('builtin:apartment:0')
        graph.wait(lambda: graph.value('layout.rooms') == 2, 60.0, "its own world's layout")
        assert node.alive()
    finally:
        graph.close()
    with MemoryStore(db, read_only=True) as store:
        assert store.world_id == 'builtin:apartment:0'
