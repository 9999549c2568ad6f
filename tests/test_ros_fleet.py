"""Two robots, one home, one fleet memory: a question robot A's planner answers from robot B.

Robot B patrolled the kitchen, living room and study (its memory built with the simulator,
shipped with the replicator as B). Robot A runs the real node graph over DDS — bridge
patrolling the other three rooms, memory_node with `fleet_dsn` (replicating A, pulling B),
planner_node with `fleet_dsn` — against a real PostgreSQL server. Asked about something only
B saw, A's planner answers from the fleet view, naming B as the robot that saw it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip('rclpy', reason='rclpy is not installed')
pytest.importorskip('open3d', reason='the built-in simulator needs open3d')
pytest.importorskip('psycopg', reason='psycopg is not installed')

from robot_memory.core import MemoryStore
from robot_memory.eval.laeqa import patrol
from robot_memory.fleet.replicator import Replicator
from robot_memory.fleet.schema import add_robot, connect
from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig
from tests.test_ros_nodes import HEIGHT, RATE_HZ, WIDTH, Graph

pytestmark = pytest.mark.ros
ALPHA_ROOMS = ('bathroom', 'bedroom', 'hallway')
BETA_ROOMS = ('kitchen', 'living_room', 'study')


@pytest.mark.timeout(300)
def test_a_planner_answers_what_only_the_other_robot_saw(fleet_database: Any,
                                                         tmp_path: Path) -> None:
    postgres = fleet_database  # a fleet of two: alpha and beta alone
    dsns = {}
    for robot in ('alpha', 'beta'):
        add_robot(postgres.dsn, robot, f'{robot}-secret-pw')
        dsns[robot] = postgres.dsn_for(f'robot_{robot}', f'{robot}-secret-pw')
    camera = CameraConfig(width=WIDTH, height=HEIGHT)
    beta = patrol(0, 1, sim=BuiltinSim(SimConfig(seed=0, patrol_rooms=BETA_ROOMS,
                                                 camera=camera))).memory
    with MemoryStore(tmp_path / 'beta.db') as store:
        store.sync(beta)
    with Replicator(tmp_path / 'beta.db', dsns['beta'], 'beta') as replicator:
        assert replicator.sync() > 0

    graph = Graph(tmp_path)
    try:
        graph.start('memory_node', db_path=str(tmp_path / 'alpha.db'), use_embeddings=False,
                    sensor_qos_reliable=True, diagnostics_period_s=0.3,
                    fleet_dsn=dsns['alpha'], robot_id='alpha', fleet_sync_period_s=0.5)
        graph.start('planner_node', max_steps=2, memory_timeout_s=20.0, goal_timeout_s=40.0,
                    fleet_dsn=dsns['alpha'])
        graph.start('sim_bridge_node', mode='patrol', patrol_days=1, width_px=WIDTH,
                    height_px=HEIGHT, frame_rate_hz=RATE_HZ, start_after_subscribers=1,
                    start_delay_s=1.0, patrol_rooms=','.join(ALPHA_ROOMS))
        graph.wait(lambda: graph.value('sim_bridge_node', 'frames_published') > 0 and
                   graph.diagnostics.get('sim_bridge_node', {}).get('busy') == 'False' and
                   graph.value('memory_node', 'frames.ingested') >=
                   graph.value('sim_bridge_node', 'frames_published'), 150.0,
                   "alpha's patrol in memory")
        graph.wait(lambda: graph.diagnostics['memory_node'].get('fleet.connected') == 'True'
                   and graph.value('memory_node', 'fleet.robots') == 2  # beta and alpha
                   and graph.value('memory_node', 'fleet.backlog') == 0, 30.0,
                   'the fleet link to ship alpha and see beta')
        with MemoryStore(tmp_path / 'alpha.db', read_only=True) as store:
            alpha = store.load()
        seen_by_alpha = {s.label for s in alpha.at(alpha.now_s).objects.values()}
        only_beta = Counter(s.label for s in beta.at(beta.now_s).objects.values()
                            if s.label not in seen_by_alpha and s.mobility == 'movable')
        label = sorted(lab for lab, n in only_beta.items() if n == 1)[0]
        truth = next(s for s in beta.at(beta.now_s).objects.values() if s.label == label)
        answer = graph.request({'id': 'fleet-1', 'question':
                                f'Where is the {label.replace("_", " ")}?'},
                               topic='question', timeout_s=120.0)
        assert answer['ok'] is True, answer
        assert answer['value']['room'] == truth.room_id, answer
        assert answer['evidence'][0]['robot'] == 'beta', answer['evidence']
        # alone, alpha's own memory has never heard of it
        local = graph.request({'id': 'local-1', 'question':
                               f'Where is the {label.replace("_", " ")}?'})
        assert local['value'] is None or local['value'].get('room') != truth.room_id
    finally:
        codes = graph.close()
    assert codes == {'memory_node': 0, 'planner_node': 0, 'sim_bridge_node': 0}, \
        graph.failed_logs
    with connect(postgres.dsn) as conn:  # alpha's own events went to the server on the way
        shipped = conn.execute("SELECT count(*) FROM events WHERE robot_id = 'alpha'"
                               ).fetchone()[0]
    with MemoryStore(tmp_path / 'alpha.db', read_only=True) as store:
        assert shipped == store.last_seq > 0
