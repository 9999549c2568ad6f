"""`MemoryService.handle`, the `memory/query` protocol, without ROS: every kind, every bad one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from robot_memory.core import EpisodicMemory, FactKey, SceneGraph
from robot_memory.core.protocol import (
    AnswerReply,
    BeliefReply,
    ErrorReply,
    LayoutReply,
    UnparsedReply,
)
from robot_memory.service import MemoryService, MemoryServiceParams
from tests.conftest import MONDAY_S

H = 3600.0


@pytest.fixture
def service(two_room_graph: SceneGraph) -> MemoryService:
    memory = EpisodicMemory()
    memory.set_layout(two_room_graph, MONDAY_S)
    memory.create_object('object:mug', MONDAY_S + 9 * H, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.9), FactKey.ROOM: 'room:kitchen'}, color='red')
    memory.create_object('object:lamp', MONDAY_S + 9 * H, 'lamp', {
        FactKey.POSITION: (6.0, 1.0, 1.0), FactKey.ROOM: 'room:study', FactKey.STATE: 'on'})
    memory.observe_place('place:kitchen/0', MONDAY_S + 9 * H)
    return MemoryService(MemoryServiceParams(use_embeddings=False), memory=memory)


def test_a_question_is_answered_with_its_typed_query_and_evidence(
        service: MemoryService) -> None:
    reply = service.handle({'id': 7, 'question': 'Where is the mug?'})
    assert reply['id'] == 7 and reply['ok'] is True
    assert reply['query']['type'] == 'WhereIs' and reply['value']['room'] == 'room:kitchen'
    assert reply['evidence'][0]['object_id'] == 'object:mug'
    assert json.loads(json.dumps(reply)) == reply  # the reply is JSON as it stands


def test_a_typed_query_and_a_json_text_request_give_the_same_answer(
        service: MemoryService) -> None:
    typed = {'id': 'a', 'query': {'type': 'StateOf', 'target': {'label': 'lamp'}}}
    assert service.handle(typed)['value'] == service.handle(json.dumps(typed))['value']


def test_belief_mode_adds_the_hypotheses_and_the_sensor_model(service: MemoryService) -> None:
    reply = service.handle({'id': 'b', 'mode': 'belief', 'question': 'Where is the mug?',
                            'now_s': MONDAY_S + 40 * H})
    assert reply['ok'] and reply['belief'][0]['value'] == 'room:kitchen'
    assert abs(sum(h['prob'] for h in reply['belief']) - 1.0) < 1e-6
    assert all(isinstance(h['places'], list) for h in reply['belief'])
    assert 0 < reply['detection_prob'] <= 1


def test_layout_mode_returns_the_rooms_and_places(service: MemoryService) -> None:
    reply = service.handle({'id': 'l', 'mode': 'layout'})
    ids = {node['id'] for node in reply['layout']['nodes']}
    assert reply['ok'] and {'room:kitchen', 'room:study', 'place:kitchen/0'} <= ids


def test_a_question_it_cannot_parse_is_a_reply_not_an_exception(
        service: MemoryService) -> None:
    reply = service.handle({'id': 'q', 'question': 'qwerty zxcv'})
    assert reply['ok'] is False and reply['query'] is None
    assert reply['answer'].startswith('I could not understand the question')


def test_belief_mode_takes_a_typed_query_as_well(service: MemoryService) -> None:
    query = {'type': 'WhereIs', 'target': {'label': 'mug'}}
    reply = service.handle({'id': 'tq', 'mode': 'belief', 'query': query,
                            'now_s': MONDAY_S + 40 * H})
    assert reply['ok'] and reply['query']['type'] == 'WhereIs'
    assert reply['belief'][0]['value'] == 'room:kitchen' and 0 < reply['detection_prob'] <= 1


def test_answer_mode_can_be_named_and_gives_the_default_reply(service: MemoryService) -> None:
    request = {'id': 'm', 'question': 'Where is the mug?'}
    assert service.handle({**request, 'mode': 'answer'}) == service.handle(request)


def test_now_s_sets_the_time_an_answer_is_given_for(service: MemoryService) -> None:
    soon = service.handle({'id': 1, 'question': 'Where is the mug?'})
    later = service.handle({'id': 2, 'question': 'Where is the mug?',
                            'now_s': MONDAY_S + 30 * 24 * H})
    assert later['confidence'] < soon['confidence']


def test_layout_mode_gives_the_layout_in_force_at_now_s(
        service: MemoryService, two_room_graph: SceneGraph) -> None:
    kitchen_only = two_room_graph.copy()
    kitchen_only.remove_node('place:study/0')
    kitchen_only.remove_node('room:study')
    service.memory.set_layout(kitchen_only, MONDAY_S + 20 * H)

    def rooms(now_s: float) -> set[str]:
        reply = service.handle({'id': 'l', 'mode': 'layout', 'now_s': now_s})
        return {n['id'] for n in reply['layout']['nodes'] if n['id'].startswith('room:')}

    assert rooms(MONDAY_S + 10 * H) == {'room:kitchen', 'room:study'}
    assert rooms(MONDAY_S + 30 * H) == {'room:kitchen'}


@pytest.mark.parametrize(('request_', 'reply_type'), [
    ({'id': 1, 'question': 'Where is the mug?'}, AnswerReply),
    ({'id': 1, 'mode': 'belief', 'question': 'Where is the mug?'}, BeliefReply),
    ({'id': 1, 'mode': 'layout'}, LayoutReply),
    ({'id': 1, 'question': 'qwerty zxcv'}, UnparsedReply),
    ({'id': 1, 'mode': 'teleport'}, ErrorReply),
])
def test_each_reply_has_exactly_the_keys_of_its_protocol_type(
        service: MemoryService, request_: dict[str, Any], reply_type: Any) -> None:
    reply = service.handle(request_)
    assert set(reply) == reply_type.__required_keys__
    assert json.loads(json.dumps(reply)) == reply


def test_requests_are_counted_whether_served_or_not(service: MemoryService) -> None:
    service.handle({'id': 1, 'mode': 'layout'})
    service.handle('{not json')
    assert (service.requests, service.request_errors) == (2, 1)


def test_the_id_of_a_request_sent_as_text_comes_back_with_its_error(
        service: MemoryService) -> None:
    reply = service.handle(json.dumps({'id': 'x9', 'question': 'Where?', 'now_s': 'noon'}))
    assert reply == {'id': 'x9', 'ok': False,
                     'error': "could not convert string to float: 'noon'"}


@pytest.mark.parametrize(('request_', 'error'), [
    ('{not json', 'request is not JSON'),
    ('[1, 2]', 'request must be a JSON object'),
    ({'id': 1}, 'request needs "question" (text) or "query" (typed)'),
    ({'id': 1, 'question': 3}, 'request needs "question" (text) or "query" (typed)'),
    ({'id': 1, 'mode': 'teleport', 'question': 'x'}, "unknown mode 'teleport'"),
    ({'id': 1, 'query': {'type': 'Nope'}}, 'malformed query'),
    ({'id': 1, 'query': 'WhereIs'}, ''),
    ({'id': 1, 'question': 'Where is the mug?', 'now_s': 'noon'}, 'could not convert'),
    ({'id': 1, 'mode': 'layout', 'now_s': [1]}, 'float() argument must be'),
    ({'id': 1, 'mode': 'teleport', 'now_s': 'noon'}, 'could not convert'),
    ({'id': 1, 'mode': None, 'question': 'x'}, 'unknown mode None'),
    ({'id': 1, 'query': None}, "'NoneType' object is not iterable"),
    ({'id': 1, 'query': {'target': {'label': 'mug'}}}, 'malformed query'),
    ({'id': 1, 'query': {'type': 'WhereIs', 'target': {'name': 'mug'}}}, 'malformed query'),
    ({'id': 1, 'query': {'type': 'WhereIs', 'target': {'label': 'mug'}, 'category': 'x'}},
     'malformed query'),
    ('"Where is the mug?"', 'request must be a JSON object'),
])
def test_malformed_requests_come_back_as_errors_and_are_counted(
        service: MemoryService, request_: Any, error: str) -> None:
    before = service.request_errors
    reply = service.handle(request_)
    assert reply['ok'] is False and error in reply['error']
    assert service.request_errors == before + 1
    assert reply['id'] == (request_.get('id') if isinstance(request_, dict) else None)


def test_skipped_segments_are_counted_apart_from_skipped_frames() -> None:
    from robot_memory.service import split_skips

    frames, segments = split_skips({'bad_pose': 2, 'segment_few_points': 310,
                                    'segment_unknown_label': 4, 'out_of_order': 1})
    assert frames == {'bad_pose': 2, 'out_of_order': 1}
    assert segments == {'few_points': 310, 'unknown_label': 4}
