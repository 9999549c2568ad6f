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


# ------------------------------------------------------------------ first mutation run's survivors
def test_an_objects_own_moves_shrink_its_time_constant_towards_its_class_by_the_formula() -> None:
    """Mutants: `w * cls` → `w / cls`, `w + moves` → `w - moves`, a move's exposure subtracted."""
    from robot_memory.core.staleness import DAY_S, StalenessModel

    model = StalenessModel()  # prior 2 days for movable things, class weight 1, instance 2
    model.record_stay('mug', 'object:1', 1.0 * DAY_S)
    model.record_move('mug', 'object:1', 0.5 * DAY_S)
    mug_class = model.tau('mug')
    assert (mug_class.tau_s / DAY_S, mug_class.exposure_s / DAY_S, mug_class.moves) == \
        pytest.approx((1.75, 1.5, 1))  # (2 + 1.5) / (1 + 1)
    # (2 · 1.75 + 1.5) / (2 + 1)
    assert model.tau('mug', 'object:1').tau_s / DAY_S == pytest.approx(5.0 / 3.0)
    assert model.tau('mug', 'object:2').tau_s == mug_class.tau_s  # no evidence of its own
    assert model.p_still_there('mug', DAY_S, 'object:1') == pytest.approx(np.exp(-0.6))


def test_the_planner_looks_where_value_less_cost_is_highest_not_where_it_is_cheapest() -> None:
    """Mutant: candidates ranked by cost alone (the nearest informative place wins)."""
    from robot_memory.core import PlaceAttributes

    layout = _far_apart(10.0)
    layout.add_place('place:mid', PlaceAttributes('room:hall', (2.5, 0.0, 0.0)))
    layout.connect_places('place:near', 'place:mid')
    layout.connect_places('place:mid', 'place:far')
    belief = [Hypothesis('mid', 0.1, frozenset({'place:mid'})),
              Hypothesis('far', 0.5, frozenset({'place:far'})),
              Hypothesis('near', 0.4, frozenset({'place:near'}))]
    planner = VoIPlanner(PlannerParams(cost_per_m=0.004))
    # The robot stands at the near place and has looked from it.
    decision = planner.decide(belief, 'place:near', layout, exclude=frozenset({'place:near'}))
    by_place = {place: (value, cost) for place, value, cost in decision.candidates}
    assert by_place['place:mid'][1] < by_place['place:far'][1]  # the far one is dearer …
    assert by_place['place:far'][0] - by_place['place:far'][1] > \
        by_place['place:mid'][0] - by_place['place:mid'][1]  # … and worth more net
    assert decision.place == 'place:far'


@pytest.mark.parametrize('first', ['unconfirmed', 'absent', 'furniture'])
def test_only_confirmed_present_movable_objects_are_looked_for_and_each_is_checked(
        first: str) -> None:
    """Mutants: `confirmed and present` → `or`; a skipped object ending the loop (`break`)."""
    skipped = Track('object:0', 'mug', 'red', (0.1, 0.0, 3.0), (0.1, 0.1, 0.1),
                    'furniture' if first == 'furniture' else 'movable', MONDAY_S - 60,
                    session=0, present=first != 'absent', confirmed=first != 'unconfirmed')
    checked = Track('object:1', 'cup', 'blue', (-0.1, 0.0, 3.0), (0.1, 0.1, 0.1), 'movable',
                    MONDAY_S - 60, session=0, present=True, confirmed=True)
    views = list(clear_views(_frame(6.0), {'object:0': skipped, 'object:1': checked},
                             max_range_m=8.0, margin_px=4, min_size_px=1.0,
                             occlusion_margin_m=0.1, occlusion_tolerance_m=0.3))
    assert [v.track.object_id for v in views] == ['object:1']


@pytest.mark.parametrize(('words', 'seconds'), [('20 minutes ago', 1200.0),
                                                ('5 minutes ago', 300.0),
                                                ('2 hours ago', 7200.0)])
def test_minutes_ago_are_minutes_and_hours_ago_are_hours(words: str, seconds: float) -> None:
    """Mutant: "N minutes ago" read as N hours."""
    from robot_memory.core.clock import MemoryClock
    from robot_memory.language.timeexpr import find_times

    now = MONDAY_S + 10 * 3600.0
    (found,) = find_times(f'where was my mug {words}?', MemoryClock(), now)
    assert found.range.start_s == pytest.approx(now - seconds)


def test_a_memory_saved_and_loaded_keeps_its_discoveries_and_its_views() -> None:
    """Mutants: `discovered` or `place_views` left out of `to_dict` / `load_dict`; `__eq__`
    with `or` (any two memories equal)."""
    from robot_memory.core import EpisodicMemory, FactKey

    memory = EpisodicMemory()
    memory.create_object('object:1', MONDAY_S, 'mug', {FactKey.POSITION: (1.0, 0.0, 0.8)},
                         discovered=True)
    memory.create_object('object:2', MONDAY_S + 5, 'cup', {FactKey.POSITION: (2.0, 0.0, 0.8)})
    memory.observe_place('place:kitchen/0', MONDAY_S + 10)
    memory.observe_place('place:kitchen/0', MONDAY_S + 3600)
    loaded = EpisodicMemory()
    loaded.load_dict(memory.to_dict())
    assert loaded.is_discovery('object:1') and not loaded.is_discovery('object:2')
    assert loaded.place_observed_s('place:kitchen/0') == MONDAY_S + 3600
    assert loaded.place_views(MONDAY_S, MONDAY_S + 7200) == memory.place_views(
        MONDAY_S, MONDAY_S + 7200)
    assert loaded == memory
    other = EpisodicMemory()
    other.create_object('object:1', MONDAY_S, 'mug', {FactKey.POSITION: (1.0, 0.0, 0.8)})
    assert other != memory  # the same mug, not a discovery: another memory


@pytest.mark.parametrize(('belief', 'reason'), [
    ([], 'looking cannot change this answer'),
    ([Hypothesis('kitchen', 0.98, frozenset({'place:far'})),
      Hypothesis('hall', 0.02, frozenset({'place:near'}))], 'confident enough'),
    ([Hypothesis('kitchen', 0.6, frozenset()), Hypothesis('hall', 0.4, frozenset())],
     'no observation is informative'),
])
def test_the_planner_answers_at_once_when_looking_cannot_help(
        belief: list[Hypothesis], reason: str) -> None:
    """Mutants in `decide`'s three stopping branches (no belief, confident, nothing to see)."""
    decision = VoIPlanner().decide(belief, 'place:near', _far_apart(10.0))
    assert decision.place is None and decision.reason == reason
    assert decision.value == 0.0 and decision.cost == 0.0
    if belief:
        assert decision.p_error == pytest.approx(1 - max(h.prob for h in belief))


def test_a_refined_position_moves_a_present_object_without_a_move_and_never_an_absent_one(
        ) -> None:
    """Mutants in `refine_position` (the presence check, the value written)."""
    from robot_memory.core import EpisodicMemory, FactKey

    memory = EpisodicMemory()
    memory.create_object('object:1', MONDAY_S, 'mug', {FactKey.POSITION: (1.0, 0.0, 0.8)})
    assert memory.refine_position('object:1', MONDAY_S + 60, (1.05, 0.02, 0.8))
    now = memory.at(MONDAY_S + 120)
    assert now.objects['object:1'].position_m == pytest.approx((1.05, 0.02, 0.8))
    assert not memory.diff(MONDAY_S + 1, MONDAY_S + 120).moved  # a refinement, not a move
    memory.lose('object:1', MONDAY_S + 200)
    assert not memory.refine_position('object:1', MONDAY_S + 300, (3.0, 0.0, 0.8))
    assert [h.object_id for h in memory.iter_objects()] == ['object:1']
