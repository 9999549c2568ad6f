"""Tests of the Ask action's goal checks, feedback and result, the limits a goal puts on a
question, and the Memory services' snapshots (pure Python: no rclpy)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest

from robot_memory.core import EpisodicMemory, FactKey
from robot_memory.core.active import ActiveQuestion, FinalAnswer, GoToPlace
from robot_memory.core.ask import (
    ASK_MAX_LOOKS,
    ASK_QUESTION_MAX_CHARS,
    AskLimits,
    ask_feedback,
    ask_goal,
    ask_result,
    scope_room_id,
)
from robot_memory.core.planner import PlannerParams, VoIPlanner
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.snapshots import ChangeKind, changes_between, objects_at
from robot_memory.exceptions import InvalidInputError
from tests.conftest import MONDAY_S
from tests.test_active import MUG, _reply

HOUR = 3600.0


def test_modules_do_not_import_rclpy() -> None:
    code = ('import sys; import robot_memory.core.ask, robot_memory.core.snapshots; '
            'sys.exit(1 if "rclpy" in sys.modules else 0)')
    assert subprocess.run([sys.executable, '-c', code], check=False).returncode == 0


# ------------------------------------------------------------------ goals
def test_a_plain_goal_has_no_limits() -> None:
    goal = ask_goal('  Where is my mug? ', 0.0, '', -1, 0.0)
    assert goal.question == 'Where is my mug?'
    assert goal.limits == AskLimits()


def test_a_goal_with_every_limit() -> None:
    goal = ask_goal('Where is my mug?', MONDAY_S, 'Living room', 2, 12.5)
    assert goal.limits == AskLimits(at_s=MONDAY_S, scope_room='room:living_room', max_looks=2,
                                    max_distance_m=12.5)


@pytest.mark.parametrize(('question', 'at_s', 'scope', 'max_looks', 'distance', 'message'), [
    ('', 0.0, '', -1, 0.0, 'question: empty'),
    ('   ', 0.0, '', -1, 0.0, 'question: empty'),
    ('x' * (ASK_QUESTION_MAX_CHARS + 1), 0.0, '', -1, 0.0,
     f'question: {ASK_QUESTION_MAX_CHARS + 1} characters (at most {ASK_QUESTION_MAX_CHARS})'),
    ('q', math.nan, '', -1, 0.0, 'at: nan s is no time (0 = now, else seconds ≥ 0)'),
    ('q', -5.0, '', -1, 0.0, 'at: -5.0 s is no time (0 = now, else seconds ≥ 0)'),
    ('q', math.inf, '', -1, 0.0, 'at: inf s is no time (0 = now, else seconds ≥ 0)'),
    ('q', 0.0, 'k' * 201, -1, 0.0, 'scope: not a room name (201 characters)'),
    ('q', 0.0, 'kit\x00chen', -1, 0.0, 'scope: not a room name (8 characters)'),
    ('q', 0.0, '', -2, 0.0, "max_looks: -2 (valid: -1 = the planner's own, 0 … 1000)"),
    ('q', 0.0, '', 2**31 - 1, 0.0,
     f"max_looks: {2**31 - 1} (valid: -1 = the planner's own, 0 … {ASK_MAX_LOOKS})"),
    ('q', 0.0, '', -1, math.nan, 'max_distance_m: nan (valid: 0 = no limit, up to 100000)'),
    ('q', 0.0, '', -1, -1.0, 'max_distance_m: -1.0 (valid: 0 = no limit, up to 100000)'),
    ('q', 0.0, '', -1, 1e300, 'max_distance_m: 1e+300 (valid: 0 = no limit, up to 100000)'),
])
def test_hostile_goals_are_refused_naming_the_field(question: str, at_s: float, scope: str,
                                                    max_looks: int, distance: float,
                                                    message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        ask_goal(question, at_s, scope, max_looks, distance)
    assert str(err.value) == message


@pytest.mark.parametrize(('scope', 'room_id'), [
    ('kitchen', 'room:kitchen'), ('Living  Room', 'room:living_room'),
    ('room:study', 'room:study')])
def test_a_scope_names_a_room_as_the_asker_writes_it(scope: str, room_id: str) -> None:
    assert scope_room_id(scope) == room_id


# --------------------------------------------------------- feedback, result
def test_feedback_says_memorys_answer_and_the_best_hypothesis_probability() -> None:
    fb = ask_feedback('moving', ['place:kitchen/0'], 'The mug is in the kitchen.',
                      [('room:kitchen', 0.7), ('room:study', 0.3)], 'place:study/0')
    assert fb.phase == 'moving' and fb.places_looked == ('place:kitchen/0',)
    assert fb.belief == 'The mug is in the kitchen.' and fb.confidence == pytest.approx(0.7)
    assert fb.next_place == 'place:study/0'
    bare = ask_feedback('belief', [], None, [('room:study', math.nan)], None)
    assert (bare.belief, bare.confidence, bare.next_place) == ('room:study', 0.0, '')


def test_a_result_carries_answer_value_evidence_and_stop_reason() -> None:
    result = ask_result({
        'id': 'q1', 'ok': True, 'answer': 'The mug is in the kitchen.',
        'value': {'room': 'room:kitchen'}, 'confidence': 0.91, 'needs_verification': False,
        'evidence': [{'object_id': 'object:1', 'obs_ids': [4, 7]},
                     {'object_id': 'object:1', 'obs_ids': [7, 9]}, 'junk'],
        'path': ['place:kitchen/0'], 'stop_reason': 'confident enough'})
    assert result.ok and not result.canceled
    assert json.loads(result.value_json) == {'room': 'room:kitchen'}
    assert result.evidence_ids == ('4', '7', '9')
    assert result.evidence_object_ids == ('object:1',)
    assert result.places_looked == ('place:kitchen/0',)
    assert result.stop_reason == 'confident enough' and result.confidence == 0.91


@pytest.mark.parametrize('confidence', [math.nan, 'high', None, -3, 7])
def test_a_result_keeps_confidence_between_0_and_1(confidence: Any) -> None:
    assert 0.0 <= ask_result({'confidence': confidence}).confidence <= 1.0


def test_a_canceled_or_failed_answer_ends_without_success() -> None:
    canceled = ask_result({'ok': False, 'answer': None, 'error': 'the question was canceled',
                           'stop_reason': 'canceled'})
    assert canceled.canceled and not canceled.ok
    assert canceled.answer == 'the question was canceled'
    failed = ask_result({'ok': False, 'error': 'boom'})
    assert not failed.ok and not failed.canceled and failed.answer == 'boom'


# ------------------------------------------------------------------ limits
def _question(layout: SceneGraph, limits: AskLimits) -> ActiveQuestion:
    return ActiveQuestion({'query': MUG}, 'q1', VoIPlanner(PlannerParams(cost_per_m=0.01)),
                          layout=layout, limits=limits)


def test_max_looks_0_answers_from_memory_alone(two_room_graph: SceneGraph) -> None:
    q = _question(two_room_graph, AskLimits(max_looks=0))
    step = q.on_reply(_reply(q.start(), [('room:kitchen', 0.6), ('room:study', 0.4)]))
    assert isinstance(step, FinalAnswer)
    assert step.result['stop_reason'] == 'look budget spent' and step.result['path'] == []


def test_a_scope_keeps_the_looks_in_its_room(two_room_graph: SceneGraph) -> None:
    q = _question(two_room_graph, AskLimits(scope_room='room:study'))
    step = q.on_reply(_reply(q.start(), [('room:kitchen', 0.6), ('room:study', 0.4)]),
                      robot_place='place:kitchen/0')
    assert isinstance(step, GoToPlace) and step.place_id == 'place:study/0'
    unknown = _question(two_room_graph, AskLimits(scope_room='room:attic'))
    final = unknown.on_reply(_reply(unknown.start(), [('room:kitchen', 0.6)]))
    assert isinstance(final, FinalAnswer)
    assert final.result['stop_reason'] == 'no places in room:attic'


def test_a_travel_budget_stops_before_a_trip_too_long(two_room_graph: SceneGraph) -> None:
    q = _question(two_room_graph, AskLimits(max_distance_m=3.0))  # the trip is 4 m
    step = q.on_reply(_reply(q.start(), [('room:kitchen', 0.6), ('room:study', 0.4, [])]),
                      robot_place='place:study/0')
    assert isinstance(step, FinalAnswer)
    assert step.result['stop_reason'] == 'travel budget spent'


def test_at_is_the_clock_of_every_request(two_room_graph: SceneGraph) -> None:
    q = ActiveQuestion('Where is my mug?', 'q7', limits=AskLimits(at_s=MONDAY_S))
    first = q.start()
    assert first.request == {'id': 'q7/1', 'mode': 'layout', 'now_s': MONDAY_S}
    second = q.on_reply({'id': 'q7/1', 'ok': True, 'layout': two_room_graph.to_dict()})
    assert second.request['now_s'] == MONDAY_S
    q.on_reply(_reply(second, [('room:kitchen', 0.6), ('room:study', 0.4)]),
               robot_place='place:study/0')
    third = q.on_arrived()
    assert third.request['now_s'] == MONDAY_S and third.request['query'] == MUG


def test_a_question_keeps_its_latest_belief_for_feedback(two_room_graph: SceneGraph) -> None:
    q = _question(two_room_graph, AskLimits())
    q.on_reply(_reply(q.start(), [('room:kitchen', 0.6), ('room:study', 0.4)]))
    assert q.latest_answer == 'The mug is in the kitchen.'
    assert [h.value for h in q.belief] == ['room:kitchen', 'room:study']


# --------------------------------------------------------------- snapshots
def _memory() -> EpisodicMemory:
    memory = EpisodicMemory()
    t0 = MONDAY_S + 9 * HOUR
    memory.create_object('object:mug', t0, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: ('on', 'object:table'), FactKey.STATE: ''}, (1,), color='red')
    memory.create_object('object:laptop', t0, 'laptop', {
        FactKey.POSITION: (6.0, 1.0, 0.7), FactKey.ROOM: 'room:study',
        FactKey.SUPPORT: None, FactKey.STATE: 'closed'}, (2,))
    memory.set_fact('object:mug', t0 + 3 * HOUR, FactKey.POSITION, (6.5, 2.0, 0.8), (7,))
    memory.set_fact('object:mug', t0 + 3 * HOUR, FactKey.ROOM, 'room:study', (7,))
    memory.set_fact('object:laptop', t0 + 4 * HOUR, FactKey.STATE, 'open', (8,))
    memory.create_object('object:keys', t0 + 5 * HOUR, 'keys', {
        FactKey.POSITION: (2.0, 3.0, 0.9), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: None, FactKey.STATE: ''}, (9,))
    return memory


def test_objects_at_a_time_are_the_world_as_known_then() -> None:
    memory = _memory()
    t, before = objects_at(memory, MONDAY_S + 10 * HOUR)
    assert t == MONDAY_S + 10 * HOUR
    assert [(o.object_id, o.room) for o in before] == [('object:laptop', 'room:study'),
                                                       ('object:mug', 'room:kitchen')]
    mug = before[1]
    assert (mug.class_name, mug.support, mug.color, mug.position_m) == \
        ('mug', 'object:table', 'red', (1.0, 1.0, 0.8))
    assert mug.evidence_ids == ('1',) and 0.0 < mug.p_still_there <= 1.0
    now, after = objects_at(memory, 0.0, room='Kitchen')
    assert now == memory.now_s and [o.object_id for o in after] == ['object:keys']
    _, mugs = objects_at(memory, 0.0, class_name='mug')
    assert [(o.object_id, o.room) for o in mugs] == [('object:mug', 'room:study')]


def test_changes_between_two_times_by_kind() -> None:
    memory = _memory()
    changes = changes_between(memory, MONDAY_S + 10 * HOUR, 0.0)
    kinds = {(c.object_id, c.kind) for c in changes}
    assert kinds == {('object:keys', ChangeKind.ADDED), ('object:mug', ChangeKind.MOVED),
                     ('object:laptop', ChangeKind.STATE_CHANGED)}
    moved = next(c for c in changes if c.kind is ChangeKind.MOVED)
    assert (moved.room_before, moved.room_after, moved.class_name) == \
        ('room:kitchen', 'room:study', 'mug')
    assert moved.position_after_m == (6.5, 2.0, 0.8)
    state = next(c for c in changes if c.kind is ChangeKind.STATE_CHANGED)
    assert (state.state_before, state.state_after) == ('closed', 'open')
    assert [kind.code for kind in ChangeKind] == [0, 1, 2, 3]
    kitchen = changes_between(memory, MONDAY_S + 10 * HOUR, 0.0, room='kitchen')
    assert {c.object_id for c in kitchen} == {'object:keys', 'object:mug'}


@pytest.mark.parametrize(('since', 'until', 'room', 'message'), [
    (math.nan, 0.0, '', 'since: nan s is no time (0 = now, else seconds ≥ 0)'),
    (0.0, -1.0, '', 'until: -1.0 s is no time (0 = now, else seconds ≥ 0)'),
    (MONDAY_S + 20 * HOUR, MONDAY_S, '', f'until ({MONDAY_S} s) is before since '
                                         f'({MONDAY_S + 20 * HOUR} s)'),
    (0.0, 0.0, 'r' * 10_000, 'room: not a name (10000 characters)'),
])
def test_hostile_change_requests_are_refused(since: float, until: float, room: str,
                                             message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        changes_between(_memory(), since, until, room)
    assert str(err.value) == message
