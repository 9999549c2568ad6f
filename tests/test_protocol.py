"""`parse_request` and the `memory/query` protocol types, without a memory behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from robot_memory.core.active import ActiveQuestion, MemoryRequest
from robot_memory.core.protocol import (
    MODES,
    AnswerRequest,
    BeliefRequest,
    LayoutRequest,
    ParsedRequest,
    decode_request,
    parse_request,
)
from robot_memory.core.queries import Target, WhereIs, query_to_dict
from robot_memory.exceptions import InvalidInputError

MUG = query_to_dict(WhereIs(Target('mug')))


@pytest.mark.parametrize(('request_', 'parsed'), [
    ({'id': 'l', 'mode': 'layout'}, ParsedRequest('l', 'layout')),
    ({'mode': 'layout', 'now_s': 5, 'question': 3}, ParsedRequest(None, 'layout', 5.0)),
    ({'id': 1, 'question': 'Where is the mug?'},
     ParsedRequest(1, 'answer', question='Where is the mug?')),
    ({'id': 1, 'mode': 'answer', 'question': ''}, ParsedRequest(1, 'answer', question='')),
    ({'id': 2, 'mode': 'belief', 'query': MUG, 'now_s': '7.5'},
     ParsedRequest(2, 'belief', 7.5, query=WhereIs(Target('mug')))),
    ({'id': 3, 'question': 'Where is the cup?', 'query': MUG, 'now_s': None},
     ParsedRequest(3, 'answer', query=WhereIs(Target('mug')))),
    ({'id': [1, 2], 'question': 'x', 'wait_for_stamp_s': 9.0, 'scope': 'fleet'},
     ParsedRequest([1, 2], 'answer', question='x')),
])
def test_a_well_formed_request_parses_to_its_mode_time_and_query(
        request_: dict[str, Any], parsed: ParsedRequest) -> None:
    assert parse_request(request_) == parsed
    assert parse_request(json.dumps(request_)) == parsed


@pytest.mark.parametrize(('request_', 'error'), [
    ('{not json', 'request is not JSON (Expecting property name enclosed in double quotes: '
                  'line 1 column 2 (char 1))'),
    ('[1, 2]', 'request must be a JSON object'),
    (['mode', 'layout'], 'request must be a JSON object'),
    ({'id': 1}, 'request needs "question" (text) or "query" (typed)'),
    ({'id': 1, 'question': None}, 'request needs "question" (text) or "query" (typed)'),
    ({'id': 1, 'mode': 'teleport', 'question': 'x'},
     "unknown mode 'teleport'; valid: answer, belief, layout"),
    ({'mode': 'Layout'}, "unknown mode 'Layout'; valid: answer, belief, layout"),
    ({'question': 'x', 'now_s': 'noon'}, "could not convert string to float: 'noon'"),
    ({'mode': 'layout', 'now_s': {}},
     "float() argument must be a string or a real number, not 'dict'"),
    ({'query': 'WhereIs'},
     'dictionary update sequence element #0 has length 1; 2 is required'),
    ({'query': 7}, "'int' object is not iterable"),
    ({'query': {'type': 'Nope'}}, "malformed query {'type': 'Nope'} (types: WhereIs, "),
])
def test_a_malformed_request_raises_invalid_input_with_the_reason(
        request_: Any, error: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_request(request_)
    assert str(info.value).startswith(error)


def test_decode_request_only_reads_the_json_object() -> None:
    assert decode_request('{"id": 4, "mode": "teleport"}') == {'id': 4, 'mode': 'teleport'}
    with pytest.raises(InvalidInputError, match='request must be a JSON object'):
        decode_request('null')


def test_the_modes_are_the_ones_the_service_names_in_its_error() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_request({'mode': '?'})
    assert str(info.value).endswith('valid: ' + ', '.join(MODES))


def test_request_types_name_the_keys_of_each_kind() -> None:
    assert LayoutRequest.__required_keys__ == {'mode'}
    assert BeliefRequest.__required_keys__ == {'mode'}
    assert AnswerRequest.__required_keys__ == frozenset()
    options = {'id', 'now_s', 'wait_for_stamp_s', 'scope', 'question', 'query'}
    assert AnswerRequest.__optional_keys__ == options | {'mode'}
    assert BeliefRequest.__optional_keys__ == options


def test_every_request_the_planner_sends_parses() -> None:
    session = ActiveQuestion('Where is my mug?', 'q1')
    layout = session.start()
    assert parse_request(json.dumps(layout.request)) == ParsedRequest('q1/1', 'layout')
    belief = session.on_reply({'id': 'q1/1', 'ok': True, 'layout': None})
    assert isinstance(belief, MemoryRequest)
    assert parse_request(json.dumps(belief.request)) == ParsedRequest(
        'q1/2', 'belief', question='Where is my mug?')
    typed = ActiveQuestion({'query': MUG}, 'q2')
    typed.start()
    retry = typed.on_memory_timeout()
    assert isinstance(retry, MemoryRequest)
    assert parse_request(retry.request) == ParsedRequest('q2/2', 'layout')
