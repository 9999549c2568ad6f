"""Tests of the active-question state machine (pure Python: the planner node's logic)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from robot_memory.core.active import (
    ActiveQuestion,
    FinalAnswer,
    GoToPlace,
    MemoryRequest,
    Phase,
    discount_visited,
    room_of_place,
)
from robot_memory.core.planner import PlannerParams, VoIPlanner
from robot_memory.core.query_engine import Hypothesis
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError
from tests.conftest import MONDAY_S

MUG = {'type': 'WhereIs', 'target': {'label': 'mug', 'color': '', 'room': '', 'text': ''},
       'category': 'present'}


def _reply(request: MemoryRequest, belief: list[tuple[Any, ...]] | None = None,
           room: str = 'room:kitchen', last_seen_s: float = MONDAY_S, ok: bool = True,
           **extra: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {
        'id': request.request_id, 'ok': ok, 'query': MUG,
        'answer': f'The mug is in the {room.split(":")[1]}.',
        'value': {'object_id': 'object:000001', 'label': 'mug', 'room': room,
                  'last_seen_s': last_seen_s, 'present': True},
        'confidence': 0.5, 'needs_verification': True,
        'evidence': [{'object_id': 'object:000001', 'stamp_s': last_seen_s}], 'error': '',
    }
    if belief is not None:
        # (room, prob) or (room, prob, places); by default the room's one place
        reply['belief'] = [{'value': h[0], 'prob': h[1],
                            'places': h[2] if len(h) > 2 else [f'place:{h[0].split(":")[1]}/0']}
                           for h in belief]
    reply.update(extra)
    return reply


@pytest.fixture
def question(two_room_graph: SceneGraph) -> ActiveQuestion:
    return ActiveQuestion({'query': MUG}, 'q1', VoIPlanner(PlannerParams(cost_per_m=0.01)),
                          layout=two_room_graph)


def test_module_does_not_import_rclpy() -> None:
    code = ('import sys; import robot_memory.core.active; '
            'sys.exit(1 if "rclpy" in sys.modules else 0)')
    assert subprocess.run([sys.executable, '-c', code], check=False).returncode == 0


def test_start_without_a_layout_asks_for_it_then_for_the_belief(
        two_room_graph: SceneGraph) -> None:
    q = ActiveQuestion('Where is my mug?', 'q7')
    first = q.start()
    assert first.request == {'id': 'q7/1', 'mode': 'layout'}
    assert q.phase is Phase.LAYOUT
    second = q.on_reply({'id': 'q7/1', 'ok': True, 'layout': two_room_graph.to_dict()})
    assert isinstance(second, MemoryRequest)
    assert second.request == {'id': 'q7/2', 'question': 'Where is my mug?', 'mode': 'belief'}
    assert q.layout == two_room_graph


def test_confident_memory_answers_without_moving(question: ActiveQuestion) -> None:
    request = question.start()
    assert request.request['mode'] == 'belief' and request.request['query'] == MUG
    step = question.on_reply(_reply(request, [('room:kitchen', 0.97), ('room:study', 0.03)]))
    assert isinstance(step, FinalAnswer)
    result = step.result
    assert result['ok'] and result['path'] == [] and result['rooms_visited'] == []
    assert result['stop_reason'] == 'confident enough'
    assert result['confidence'] == pytest.approx(0.97)
    assert result['evidence'][0]['object_id'] == 'object:000001'
    assert question.done


def test_uncertain_memory_sends_the_robot_then_answers_with_the_path(
        question: ActiveQuestion) -> None:
    request = question.start()
    # only the kitchen can be checked: nowhere to look for the study hypothesis
    goal = question.on_reply(_reply(request, [('room:kitchen', 0.6),
                                              ('room:study', 0.4, [])]),
                             robot_place='place:study/0', stamp_s=MONDAY_S + 100)
    assert isinstance(goal, GoToPlace)
    assert goal.place_id == 'place:kitchen/0'
    assert goal.position_m == (2.0, 2.0, 0.0)
    assert question.goal == goal
    again = question.on_arrived(MONDAY_S + 130)
    assert again.request['wait_for_stamp_s'] == MONDAY_S + 130
    assert again.request['query'] == MUG
    final = question.on_reply(_reply(again, [('room:kitchen', 0.99), ('room:study', 0.01)],
                                     last_seen_s=MONDAY_S + 125),
                              robot_place='place:kitchen/0')
    assert isinstance(final, FinalAnswer)
    result = final.result
    assert result['path'] == ['place:kitchen/0']
    assert result['rooms_visited'] == ['room:kitchen'] and result['num_rooms_visited'] == 1
    assert result['distance_m'] == pytest.approx(4.0)
    assert result['answer'] == 'The mug is in the kitchen.'
    assert [d['place'] for d in result['decisions']] == ['place:kitchen/0', None]


def test_a_look_that_finds_nothing_moves_belief_to_the_other_room(
        question: ActiveQuestion) -> None:
    request = question.start()
    first = question.on_reply(_reply(request, [('room:kitchen', 0.6), ('room:study', 0.4)]),
                              robot_place='place:kitchen/0', stamp_s=MONDAY_S + 100)
    assert isinstance(first, GoToPlace) and first.place_id == 'place:kitchen/0'
    again = question.on_arrived(MONDAY_S + 130)
    # memory still has the old sighting: the kitchen look did not confirm it
    step = question.on_reply(_reply(again, [('room:kitchen', 0.6), ('room:study', 0.4)]),
                             robot_place='place:kitchen/0', stamp_s=MONDAY_S + 130)
    assert isinstance(step, GoToPlace) and step.place_id == 'place:study/0'
    question.on_arrived(MONDAY_S + 160)
    final = question.on_reply(_reply(question.pending, [('room:kitchen', 0.6),
                                                        ('room:study', 0.4)]),
                              robot_place='place:study/0')
    assert isinstance(final, FinalAnswer)
    assert final.result['path'] == ['place:kitchen/0', 'place:study/0']


def test_memory_out_of_date_after_looking_gives_the_belief_answer(
        question: ActiveQuestion) -> None:
    request = question.start()
    question.on_reply(_reply(request, [('room:kitchen', 0.5), ('room:study', 0.5)]),
                      robot_place='place:kitchen/0', stamp_s=MONDAY_S + 100)
    again = question.on_arrived(MONDAY_S + 110)
    final = question.on_reply(_reply(again, [('room:kitchen', 0.03), ('room:study', 0.97)]))
    assert isinstance(final, FinalAnswer)
    assert final.result['value']['room'] == 'room:study'
    assert final.result['answer'].startswith('It was not where I last saw it')
    assert final.result['needs_verification'] is True


def test_failed_goal_is_never_chosen_again(question: ActiveQuestion) -> None:
    request = question.start()
    goal = question.on_reply(_reply(request, [('room:kitchen', 0.6), ('room:study', 0.4)]),
                             robot_place='place:study/0')
    assert isinstance(goal, GoToPlace)
    retry = question.on_goal_failed('timeout')
    step = question.on_reply(_reply(retry, [('room:kitchen', 0.6), ('room:study', 0.4)]),
                             robot_place='place:study/0')
    assert not isinstance(step, GoToPlace) or step.place_id != goal.place_id
    assert question.trace.failed == [goal.place_id]


def test_memory_timeouts_retry_then_give_up_with_an_error() -> None:
    q = ActiveQuestion('Where is my mug?', 'q2', memory_retries=1)
    first = q.start()
    retry = q.on_memory_timeout()
    assert isinstance(retry, MemoryRequest)
    assert retry.request_id != first.request_id and retry.request['mode'] == 'layout'
    final = q.on_memory_timeout()
    assert isinstance(final, FinalAnswer)
    assert final.result['ok'] is False
    assert final.result['error'] == 'the memory node did not answer'


def test_memory_error_ends_the_question_with_that_error(question: ActiveQuestion) -> None:
    request = question.start()
    final = question.on_reply({'id': request.request_id, 'ok': False,
                               'error': 'I could not understand the question'})
    assert isinstance(final, FinalAnswer)
    assert final.result['ok'] is False
    assert final.result['error'] == 'I could not understand the question'


def test_step_budget_stops_the_search(two_room_graph: SceneGraph) -> None:
    q = ActiveQuestion({'query': MUG}, 'q3', VoIPlanner(PlannerParams(max_steps=1)),
                       layout=two_room_graph)
    q.on_reply(_reply(q.start(), [('room:kitchen', 0.5), ('room:study', 0.5)]))
    again = q.on_arrived()
    final = q.on_reply(_reply(again, [('room:kitchen', 0.5), ('room:study', 0.5)]))
    assert isinstance(final, FinalAnswer)
    assert final.result['stop_reason'] == 'step budget spent'


def test_malformed_belief_ends_the_question(question: ActiveQuestion) -> None:
    request = question.start()
    final = question.on_reply(_reply(request, belief=None, belief_bad=1) | {'belief': 'x'})
    assert isinstance(final, FinalAnswer)
    assert final.result['stop_reason'].startswith('malformed belief')


def test_reply_for_another_request_is_refused(question: ActiveQuestion) -> None:
    request = question.start()
    other = {'id': 'someone-else/1', 'ok': True}
    assert question.accepts(_reply(request)) and not question.accepts(other)
    with pytest.raises(InvalidInputError, match='is not the one awaited by q1'):
        question.on_reply(other)


@pytest.mark.parametrize('bad', ['', '   ', {'mode': 'answer'}, 42])
def test_a_question_needs_text_or_a_query(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        ActiveQuestion(bad, 'q')


def test_discount_lowers_only_unconfirmed_visited_hypotheses() -> None:
    belief = [Hypothesis('room:a', 0.5, frozenset({'p:a'})),
              Hypothesis('room:b', 0.5, frozenset({'p:b'}))]
    out = discount_visited(belief, ['p:a'], None, 0.9)
    assert [h.value for h in out] == ['room:b', 'room:a']
    assert out[1].prob == pytest.approx(0.05 / 0.55)
    assert discount_visited(belief, ['p:a'], 'room:a', 0.9) == belief


def test_room_of_place_reads_the_layout_then_the_id(two_room_graph: SceneGraph) -> None:
    assert room_of_place('place:kitchen/0', two_room_graph) == 'room:kitchen'
    assert room_of_place('place:living_room/3') == 'room:living_room'


def test_a_count_answer_is_never_rewritten_as_a_location() -> None:
    from robot_memory.core.active import _posterior
    from robot_memory.core.query_engine import Hypothesis

    answer = {'value': {'count': 1, 'room': 'room:study', 'label': 'glasses'},
              'confidence': 0.6, 'answer': 'There is 1 glasses in the study.'}
    belief = [Hypothesis('as remembered', 0.9, frozenset({'place:study/0'}))]
    assert _posterior(answer, belief, looked=True) == {}


def test_the_sensor_model_is_the_detection_rate_memory_measured(
        question: ActiveQuestion) -> None:
    request = question.start()
    assert question.planner.params.detection_prob == 0.9
    question.on_reply(_reply(request, [('room:kitchen', 0.6), ('room:study', 0.4)],
                             detection_prob=0.75))
    assert question.planner.params.detection_prob == 0.75
    assert question.planner.params.cost_per_m == 0.01  # the rest of the planner is kept


def test_a_canceled_question_answers_at_once_with_what_it_looked_at(
        question: ActiveQuestion) -> None:
    request = question.start()
    question.on_reply(_reply(request, [('room:kitchen', 0.6), ('room:study', 0.4)]),
                      robot_place='place:kitchen/0', stamp_s=MONDAY_S + 100)
    question.on_arrived(MONDAY_S + 110)
    question.on_reply(_reply(question.pending, [('room:kitchen', 0.6), ('room:study', 0.4)]),
                      robot_place='place:kitchen/0', stamp_s=MONDAY_S + 110)
    assert question.goal is not None  # driving to the study when the asker gives up
    final = question.cancel()
    assert final.result['ok'] is False and final.result['stop_reason'] == 'canceled'
    assert final.result['error'] == 'the question was canceled'
    assert final.result['path'] == ['place:kitchen/0']
    assert question.done and question.goal is None and question.pending is None
    with pytest.raises(InvalidInputError, match='already answered'):
        question.cancel()
