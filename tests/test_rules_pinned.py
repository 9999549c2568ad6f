"""Rules that decline to act, each pinned by a test of its own (issue #33).

A mutation audit found these rules could be switched off with no test noticing, because the
tests around them also passed when memory acted anyway. Each test here states the rule and
fails on the one-line mutant named in its docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

from robot_memory.core import SceneGraph
from robot_memory.core.planner import PlannerParams, VoIPlanner, evsi
from robot_memory.core.query_engine import Hypothesis
from robot_memory.core.types import CameraIntrinsics, Frame
from robot_memory.perception.association import Track, associate
from robot_memory.perception.negative import clear_views
from tests.conftest import MONDAY_S


def _mug(object_id: str, x_m: float) -> Track:
    """A red mug confirmed in an earlier patrol, not seen in this one."""
    return Track(object_id, 'mug', 'red', (x_m, 0.0, 0.8), (0.1, 0.1, 0.1), 'movable', 0.0,
                 session=0, present=False, confirmed=True)


def test_a_newcomer_between_two_vacated_look_alikes_is_not_given_either() -> None:
    """Mutant: `elif len(eligible) > 1:` → `> 99` (the nearer twin's identity is guessed)."""
    twins = [_mug('object:1', 1.0), _mug('object:2', 4.0)]
    newcomer = [('mug', 'red', (2.0, 0.0, 0.8))]  # away from both spots, nearer the first
    assert associate(newcomer, twins, 1, vacated={0, 1}, arrived=[True]) == [None]
    # What the rule leaves alone: at a vacated one's own spot it is that one, and with only
    # one of them gone, the arrival is the one that left.
    assert associate([('mug', 'red', (4.1, 0.0, 0.8))], twins, 1, vacated={0, 1},
                     arrived=[True]) == [1]
    assert associate(newcomer, twins, 1, vacated={1}, arrived=[True]) == [1]


def _far_apart(distance_m: float) -> SceneGraph:
    from robot_memory.core import PlaceAttributes, RoomAttributes

    graph = SceneGraph('hall')
    graph.add_room('room:hall', RoomAttributes(
        'hall', 'hall', ((0.0, -1.0), (distance_m + 1.0, -1.0), (distance_m + 1.0, 1.0),
                         (0.0, 1.0))))
    graph.add_place('place:near', PlaceAttributes('room:hall', (0.5, 0.0, 0.0)))
    graph.add_place('place:far', PlaceAttributes('room:hall', (0.5 + distance_m, 0.0, 0.0)))
    graph.connect_places('place:near', 'place:far')
    return graph


def test_the_robot_does_not_drive_further_than_the_answer_is_worth() -> None:
    """Mutant: `if value - cost <= 0:` → `<= -inf` (it drives 40 m for a value of 0.36)."""
    layout = _far_apart(40.0)
    belief = [Hypothesis('room:hall/near', 0.6, frozenset({'place:near'})),
              Hypothesis('room:hall/far', 0.4, frozenset({'place:far'}))]
    # The robot stands at the near spot, already looked at: only the far one is left.
    value = evsi(belief, 'place:far', 0.9)
    assert 0.3 < value < 0.4
    dear = VoIPlanner(PlannerParams(cost_per_m=10 * value / 40.0))
    decision = dear.decide(belief, 'place:near', layout, exclude=frozenset({'place:near'}))
    assert decision.place is None
    assert decision.reason == 'looking costs more than it is worth'
    assert decision.cost == pytest.approx(10 * value)
    cheap = VoIPlanner(PlannerParams(cost_per_m=0.1 * value / 40.0))
    assert cheap.decide(belief, 'place:near', layout,
                        exclude=frozenset({'place:near'})).place == 'place:far'


CAM = CameraIntrinsics(64, 48, 60.0, 60.0, 32.0, 24.0)


def _frame(depth_m: float) -> Frame:
    """A camera at the map origin, its optical axis the map z axis, seeing one depth."""
    return Frame(MONDAY_S, np.zeros((48, 64, 3), np.uint8),
                 np.full((48, 64), depth_m, np.float32), np.zeros((48, 64), np.int32), {},
                 np.eye(4), CAM)


@pytest.mark.parametrize(('depth_m', 'clear'), [
    (1.0, False),  # a chair 2 m in front of the mug's spot: occluded, no evidence
    (2.9, True),  # the table top where the mug stood: seen empty
    (3.0, True),
    (6.0, True),   # the wall behind: the spot is empty and in view
])
def test_a_spot_behind_something_nearer_is_not_evidence_the_object_left(
        depth_m: float, clear: bool) -> None:
    """Mutant: the occlusion test disabled (`depth_m < z - near_face - 1e9`)."""
    mug = Track('object:1', 'mug', 'red', (0.0, 0.0, 3.0), (0.1, 0.1, 0.1), 'movable',
                MONDAY_S - 60, session=0, present=True, confirmed=True)
    views = list(clear_views(_frame(depth_m), {'object:1': mug}, max_range_m=8.0,
                             margin_px=4, min_size_px=1.0, occlusion_margin_m=0.1,
                             occlusion_tolerance_m=0.3))
    assert [v.track.object_id for v in views] == (['object:1'] if clear else [])
