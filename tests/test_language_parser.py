"""Tests of the question parser without embeddings: types, targets, rooms, times, errors."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import (
    AttributeOf,
    Category,
    Changes,
    Count,
    Duration,
    Exists,
    History,
    IsAt,
    LastSeen,
    Query,
    StateOf,
    Target,
    TimeRange,
    Usual,
    WhatIn,
    WhenAppeared,
    WhereIs,
    WhereWas,
)
from robot_memory.core.scene_graph import ObjectAttributes, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.language import (
    LLMBackendError,
    ParseResult,
    QuestionParser,
    Vocabulary,
)

MONDAY_S = 1793577600.0  # 2026-11-02T00:00:00Z
HOUR_S = 3600.0
DAY_S = 86400.0
NOW_S = MONDAY_S + 4 * DAY_S + 15 * HOUR_S  # Friday 15:00 UTC


def at(day: int, hour: float = 0.0) -> float:
    """Stamp of `hour` on day `day` of the test week (0 = Monday)."""
    return MONDAY_S + day * DAY_S + hour * HOUR_S


def target(label: str, color: str = '', room: str = '', text: str = '') -> Target:
    return Target(label, color, room, text or (f'{color} {label}' if color else label))


@pytest.fixture(scope='module')
def parser() -> QuestionParser:
    return QuestionParser(Vocabulary(), MemoryClock('UTC'))


@pytest.mark.parametrize(('question', 'expected'), [
    ('Where did I leave my red backpack last night?',
     WhereWas(target('backpack', 'red'), TimeRange(at(3, 17), at(4, 6), 'last night'))),
    ('Where is the mug?', WhereIs(target('mug'))),
    ("Where's my keys right now?", WhereIs(target('keys'))),
    ('Any idea where my rucksack ended up?', WhereIs(target('rucksack'))),
    ('Is my mug in the kitchen?', IsAt(target('mug'), 'room:kitchen')),
    ('Is the package still by the door?',
     IsAt(target('package'), '', 'door', 'near', category=Category.PAST_PRESENT)),
    ('Is my red backpack still on the sofa?',
     IsAt(target('backpack', 'red'), '', 'sofa', 'on', category=Category.PAST_PRESENT)),
    ('Is the mug in the fridge?', IsAt(target('mug'), '', 'fridge', 'in')),
    ('Quick check, is my mug still in the kitchen?',
     IsAt(target('mug'), 'room:kitchen', category=Category.PAST_PRESENT)),
    ('Can you confirm that the mug is in the study?', IsAt(target('mug'), 'room:study')),
    ('Is there a mug in the kitchen?', Exists(target('mug'), 'room:kitchen')),
    ('Is my mug still there?', IsAt(target('mug'), category=Category.PAST_PRESENT)),
    ('Is the lamp usually on in the evening?', Usual(target('lamp'), 'evening', state='on')),
    ('Was the mug in the study yesterday?',
     IsAt(target('mug'), 'room:study', at=TimeRange(at(3), at(4), 'yesterday'),
          category=Category.PAST)),
    ('Where is the mug on the desk?', WhereIs(target('mug'))),
    ("Where is Anna's umbrella?", WhereIs(target('umbrella'))),
    ('Where are my red shoes?', WhereIs(target('shoe', 'red', text='red shoes'))),
    ('Where is the coffee table?', WhereIs(target('coffee_table', text='coffee table'))),
    ('When did you last see my glasses?', LastSeen(target('glasses'))),
    ('Where was the wallet last seen?', LastSeen(target('wallet'))),
    ('Have you seen my phone?', LastSeen(target('phone'))),
    ('Where was the laptop on Tuesday?',
     WhereWas(target('laptop'), TimeRange(at(1), at(2), 'on tuesday'))),
    ('Did you see the remote yesterday?',
     WhereWas(target('remote'), TimeRange(at(3), at(4), 'yesterday'))),
    ('Where was the phone at 9:30?',
     WhereWas(target('phone'), TimeRange(at(4, 9.5), at(4, 9.5) + 60, 'at 9:30'))),
    ('How many chairs are in the kitchen?',
     Count(target('chair', text='chairs'), 'room:kitchen')),
    ('How many boxs did you count in the lounge?',
     Count(target('box', text='boxs'), 'room:living_room')),
    ('How many mugs does the kitchen have?', Count(target('mug', text='mugs'), 'room:kitchen')),
    ('How many books are there?', Count(target('book', text='books'))),
    ('How many mugs were in the living room yesterday?',
     Count(target('mug', text='mugs'), 'room:living_room',
           TimeRange(at(3), at(4), 'yesterday'), Category.PAST)),
    ('Is the laptop open?', StateOf(target('laptop'), state='open')),
    ('Did somebody leave the lamp on?', StateOf(target('lamp'), state='on')),
    ('Was the lamp on on Monday?',
     StateOf(target('lamp'), TimeRange(at(0), at(1), 'on monday'), 'on', Category.PAST)),
    ('Was the kettle on yesterday?',
     StateOf(target('kettle'), TimeRange(at(3), at(4), 'on yesterday'), 'on', Category.PAST)),
    ('Is the box open or closed?', AttributeOf(target('box'), 'state')),
    ('What is in the study?', WhatIn('room:study')),
    ('What was in the kitchen this morning?',
     WhatIn('room:kitchen', TimeRange(at(4, 6), at(4, 12), 'this morning'), Category.PAST)),
    ('What changed in the kitchen since Tuesday?',
     Changes(TimeRange(at(1), None, 'since tuesday'), TimeRange(), 'room:kitchen')),
    ('What changed between Monday and Wednesday?',
     Changes(TimeRange(at(0), None, 'between monday and wednesday'),
             TimeRange(None, at(3), 'between monday and wednesday'),
             category=Category.MULTI_PAST)),
    ('Has the mug moved since Monday?',
     Changes(TimeRange(at(0), None, 'since monday'), target=target('mug'))),
    ('Where has my backpack been since Tuesday?',
     History(target('backpack'), TimeRange(at(1), None, 'since tuesday'))),
    ('Where was the umbrella last week?',
     History(target('umbrella'), TimeRange(at(-7), None, 'last week'),
             TimeRange(None, at(0), 'last week'))),
    ('Where is the mug usually in the morning?', Usual(target('mug'), 'morning')),
    ('Where do you usually find the keys?', Usual(target('keys'))),
    ("What is the mug's usual place?", Usual(target('mug'))),
    ('Where will the umbrella be tonight?',
     Usual(target('umbrella'), 'evening', Category.PAST_PRESENT_FUTURE)),
    ('When did the toy first appear?', WhenAppeared(target('toy'))),
    ('When did the kettle get here?', WhenAppeared(target('kettle'))),
    ('Since when has the plant been around?', Duration(target('plant'))),
])
def test_question_becomes_the_expected_query(parser: QuestionParser, question: str,
                                             expected: Query) -> None:
    result = parser.parse(question, NOW_S)
    assert result.error == ''
    assert result.query == expected


@pytest.mark.parametrize(('question', 'error'), [
    ('', 'the question is empty'),
    ('  ?! ', 'the question is empty'),
    ('Where is it?', "could not tell which object 'Where is it?' is about: it names no object "
                     '(say which, e.g. "the red mug")'),
    ('Tell me a joke', "could not tell what 'Tell me a joke' asks: none of the question forms "
                       'I know (where is …, where was … on <day>, when did you last see …, is … '
                       'still in <room>, how many … in <room>, is … open, what colour is …, what '
                       'is on the <furniture>, is there any …, how long has … been …, what is in '
                       '<room>, what changed since …, where is … usually, when did … first '
                       'appear, where can I <do something>)'),
    ('How many mugs are in the garage?',
     "unknown room 'garage' in 'How many mugs are in the garage?'; known rooms: bathroom, "
     'bedroom, dining room, hallway, kitchen, living room, study'),
    ('How many mugs are in the storage room?',
     "unknown room 'storage room' in 'How many mugs are in the storage room?'; known rooms: "
     'bathroom, bedroom, dining room, hallway, kitchen, living room, study'),
    ('Is the lamp on tomorrow?',
     "'tomorrow' is in the future; memory knows only the past and the present (ask where "
     'something usually is for a prediction)'),
    ('What changed?', "'What changed?' asks what changed but not since when; add a time such "
                      'as "since yesterday" or "since Monday"'),
    ('When was the mug in the kitchen?',
     '\'When was the mug in the kitchen?\' asks "when" but not when something was last seen '
     'or first appeared; those are the "when" questions I can answer'),
    ('What state is the lamp usually in?', "'What state is the lamp usually in?' asks what "
                                           'state something is usually in; ask about one '
                                           'state, e.g. "is the lamp usually on?"'),
    ('Where was my phone on February 30?',
     "'Where was my phone on February 30?' names a time I cannot use: 'february 30' (a date "
     'that does not exist, or a form I do not know); say it as "on November 3", "at 9 am", '
     '"yesterday evening" or "on Monday"'),
    ('Where was the mug yesterday or on Monday?',
     "'Where was the mug yesterday or on Monday?' names more than one time ('yesterday', "
     "'on monday'); ask about one"),
    ('How many mugs were in the kitchen since Monday?',
     "'How many mugs were in the kitchen since Monday?' names a stretch of time ('since "
     "monday') but asks about one moment; ask about one day or time instead"),
    ('When did the toy first appear on Monday?',
     "'When did the toy first appear on Monday?' asks when something first appeared but also "
     "names a time ('on monday'); ask without the time"),
])
def test_unreadable_question_says_why(parser: QuestionParser, question: str,
                                      error: str) -> None:
    result = parser.parse(question, NOW_S)
    assert result.query is None
    assert not result.ok
    assert result.error == error


def test_categories_follow_the_time_asked_about(parser: QuestionParser) -> None:
    cases = {
        'How many mugs are in the kitchen?': Category.PRESENT,
        'How many mugs are in the kitchen today?': Category.PRESENT,
        'How many mugs were in the kitchen today?': Category.PAST,
        'How many mugs were in the kitchen on Monday?': Category.PAST,
        'What changed since Monday?': Category.PAST_PRESENT,
        'What changed yesterday?': Category.MULTI_PAST,
        'Where has the mug been?': Category.MULTI_PAST,
        'Where is the mug usually?': Category.MULTI_PAST,
        'Where will the mug be tonight?': Category.PAST_PRESENT_FUTURE,
        'How long has the mug been in the kitchen?': Category.MULTI_PAST,
        'Is the mug still in the same spot as on Monday?': Category.PAST_PRESENT,
        'Did the mug move between Monday and Tuesday?': Category.MULTI_PAST,
        'What was on the desk yesterday?': Category.PAST,
        'Is there still a mug in the kitchen?': Category.PAST_PRESENT,
        'Have you seen a mug anywhere?': Category.PAST,
        'Where did you last see the mug?': Category.PAST,
        'Is the mug in the kitchen?': Category.PRESENT,
        'Is the mug still in the kitchen?': Category.PAST_PRESENT,
        'Is the mug in the kitchen anymore?': Category.PAST_PRESENT,
        'Was the mug in the kitchen on Monday?': Category.PAST,
    }
    assert {q: parser.parse(q, NOW_S).query.category for q in cases} == cases


def test_matched_records_how_each_piece_was_read(parser: QuestionParser) -> None:
    result = parser.parse('How many red mugs were in the lounge yesterday?', NOW_S)
    matched = dict(result.matched)
    assert matched.pop('parse_ms') >= 0.0
    assert matched == {
        'time': 'yesterday', 'time_kind': 'period', 'room': 'lounge',
        'room_id': 'room:living_room', 'room_match': 'exact', 'shape': 'Count', 'rule': 'count',
        'target': 'red mugs', 'label': 'mug', 'label_match': 'plural', 'color': 'red',
        'type': 'Count', 'category': 'past',
    }


def test_an_unknown_noun_is_kept_literally_without_an_embedder(parser: QuestionParser) -> None:
    result = parser.parse('Where is my notebook computer?', NOW_S)
    assert result.query == WhereIs(Target('notebook_computer', text='notebook computer'))
    assert result.matched['label_match'] == 'literal'


def test_rooms_come_from_the_vocabulary_with_numbered_names() -> None:
    vocabulary = Vocabulary.from_names(['mug'], ['kitchen', 'bedroom', 'bedroom_2'])
    parser = QuestionParser(vocabulary, MemoryClock())
    result = parser.parse('How many mugs are in bedroom 2?', NOW_S)
    assert result.query == Count(Target('mug', text='mugs'), 'room:bedroom_2')
    assert parser.parse('How many mugs are in the master bedroom?', NOW_S).query.room == \
        'room:bedroom'


def test_a_room_may_be_given_with_its_own_id() -> None:
    vocabulary = Vocabulary.from_names(['mug'], {'kitchen': 'room:k1', 'office': 'room:o2'})
    parser = QuestionParser(vocabulary, MemoryClock())
    assert parser.parse('What is in the study?', NOW_S).query == WhatIn('room:o2')
    assert vocabulary.room_name('room:k1') == 'kitchen'


def test_vocabulary_from_a_scene_graph_knows_its_objects_and_rooms(
        two_room_graph: SceneGraph) -> None:
    two_room_graph.add_object('object:gizmo_0', ObjectAttributes(
        'gizmo', (1.0, 1.0, 0.5), color='teal', state='humming'), 'room:kitchen')
    vocabulary = Vocabulary.from_scene_graph(two_room_graph)
    assert 'gizmo' in vocabulary.labels and 'mug' in vocabulary.labels
    assert vocabulary.rooms == {'kitchen': 'room:kitchen', 'study': 'room:study'}
    assert 'humming' in vocabulary.states
    parser = QuestionParser(vocabulary, MemoryClock())
    assert parser.parse('Is the teal gizmo humming?', NOW_S).query == StateOf(
        Target('gizmo', 'teal', '', 'teal gizmo'), state='humming')


def test_vocabulary_rejects_empty_names() -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        Vocabulary.from_names(['mug', ''])
    assert str(excinfo.value) == "vocabulary labels must be non-empty strings: ['']"


def test_parse_result_is_json_ready(parser: QuestionParser) -> None:
    result = parser.parse('Where did I leave my red backpack last night?', NOW_S)
    summary = result.to_dict()
    json.dumps(summary)
    assert summary['type'] == 'WhereWas'
    assert summary['category'] == 'past'
    assert summary['target'] == {'label': 'backpack', 'color': 'red', 'text': 'red backpack'}
    assert summary['room'] is None
    assert summary['time'] == {'text': 'last night', 'start_s': at(3, 17), 'end_s': at(4, 6)}
    failed = parser.parse('Where is it?', NOW_S).to_dict()
    # The shape is known, the object is not: the summary says both.
    assert failed['type'] == 'WhereIs' and failed['query'] is None
    assert failed['error'].startswith('could not tell which object')
    unknown = parser.parse('Tell me a joke', NOW_S).to_dict()
    assert unknown['type'] is None and unknown['error'].startswith('could not tell what')


def test_questions_follow_the_clock_timezone() -> None:
    parser = QuestionParser(Vocabulary(), MemoryClock('America/New_York'))
    # 02:00 UTC on Friday is still Thursday evening in New York.
    result = parser.parse('Where was the mug yesterday?', at(4, 2))
    assert result.query.at.start_s == at(2, 5)  # Wednesday 00:00 EST = 05:00 UTC


def test_parsing_without_embeddings_takes_under_a_millisecond_or_so(
        parser: QuestionParser) -> None:
    questions = ['Where did I leave my red backpack last night?', 'How many chairs are in '
                 'the kitchen?', 'What changed between Monday and Wednesday?',
                 'any idea where my rucksack ended up?', 'Was the lamp on on Monday?']
    samples = []
    for _ in range(40):
        for question in questions:
            start = time.perf_counter()
            parser.parse(question, NOW_S)
            samples.append(time.perf_counter() - start)
    # The requirement is < 20 ms; measured here ~0.2 ms. The margin absorbs a busy machine.
    assert statistics.median(samples) < 0.020


class _CannedBackend:
    """A rephrasing backend that answers from a table (the HTTP one is tested in its file)."""

    def __init__(self, answers: dict[str, str], error: str = '') -> None:
        self.answers = answers
        self.error = error
        self.calls: list[str] = []

    def rephrase(self, question: str) -> str:
        self.calls.append(question)
        if self.error:
            raise LLMBackendError(self.error)
        return self.answers.get(question, 'UNKNOWN')


def test_backend_rephrases_a_question_the_rules_cannot_read() -> None:
    backend = _CannedBackend({'Tell me about the bag I take to work':
                              'Where is the backpack?'})
    parser = QuestionParser(Vocabulary(), MemoryClock(), backend=backend)
    result = parser.parse('Tell me about the bag I take to work', NOW_S)
    assert result.query == WhereIs(target('backpack'))
    assert result.matched['rephrased'] == 'Where is the backpack?'


def test_backend_is_not_asked_when_the_rules_suffice() -> None:
    backend = _CannedBackend({})
    parser = QuestionParser(Vocabulary(), MemoryClock(), backend=backend)
    assert parser.parse('Where is the mug?', NOW_S).ok
    assert backend.calls == []


@pytest.mark.parametrize(('backend', 'suffix'), [
    (_CannedBackend({}), "; the language model rephrased it as 'UNKNOWN', which I could not "
                         'read either'),
    (_CannedBackend({}, error='server down'),
     ' (the language model could not rephrase it: server down)'),
])
def test_backend_failures_keep_the_rules_reason(backend: _CannedBackend, suffix: str) -> None:
    rules_only = QuestionParser(Vocabulary(), MemoryClock()).parse('Tell me a joke', NOW_S)
    parser = QuestionParser(Vocabulary(), MemoryClock(), backend=backend)
    result: ParseResult = parser.parse('Tell me a joke', NOW_S)
    assert result.query is None
    assert rules_only.error.startswith("could not tell what 'Tell me a joke' asks")
    assert result.error == rules_only.error + suffix
