"""Tests of the benchmark phrasings: their shape, the YAML loader, and the parser's coverage."""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import AttributeOf, Category, StateOf, Target, TimeRange, WhereIs
from robot_memory.exceptions import InvalidInputError
from robot_memory.language import (
    BUILTIN_PHRASINGS,
    PLACEHOLDERS,
    QUESTION_TYPES,
    REQUIRED_PLACEHOLDERS,
    QuestionParser,
    Vocabulary,
    fill_template,
    load_phrasings,
    query_matches,
    template_fields,
)

ALT_PHRASINGS = Path(__file__).with_name('phrasings_alt.yaml')
MONDAY_S = 1793577600.0  # 2026-11-02T00:00:00Z
DAY_S = 86400.0
NOW_S = MONDAY_S + 4 * DAY_S + 15 * 3600.0  # Friday 15:00 UTC
ROOMS = ('kitchen', 'living_room', 'bedroom', 'bedroom_2', 'study', 'dining_room', 'bathroom',
         'hallway')
# (label, colour) for questions about where things are; (label, state) for state questions.
OBJECTS = (('mug', ''), ('backpack', 'red'), ('keys', ''), ('glasses', ''), ('remote', ''),
           ('box', ''), ('coffee_table', ''), ('toothbrush', 'blue'))
STATEFUL = (('laptop', 'open'), ('box', 'closed'), ('lamp', 'on'), ('kettle', 'off'))
DAYS = {'Monday': MONDAY_S, 'Tuesday': MONDAY_S + DAY_S, 'Wednesday': MONDAY_S + 2 * DAY_S,
        'Thursday': MONDAY_S + 3 * DAY_S}

_LOG = logging.getLogger(__name__)


def coverage(phrasings: dict[str, list[str]]) -> tuple[float, list[str]]:
    """Share of filled templates parsed to the right type, target, room, day and state."""
    vocabulary = Vocabulary.from_names(rooms=ROOMS, include_defaults=True)
    parser = QuestionParser(vocabulary, MemoryClock('UTC'))
    total, failures = 0, []
    for question_type, templates in phrasings.items():
        for template in templates:
            fields = template_fields(template)
            objects = [(label, '', state) for label, state in STATEFUL] if 'state' in fields \
                else [(label, color, '') for label, color in OBJECTS]
            rooms = ROOMS[:5] if 'room' in fields else ('',)
            days = list(DAYS.items()) if 'day' in fields else [('', None)]
            for (label, color, state), room, (day, day_s) in itertools.product(
                    objects, rooms, days):
                name = f'{color} {label}'.strip().replace('_', ' ')
                question = fill_template(template, object=name, room=room.replace('_', ' '),
                                         day=day, state=state)
                query = parser.parse(question, NOW_S).query
                total += 1
                if not query_matches(query, question_type, label=label, color=color,
                                     room_id=f'room:{room}' if room else '', day_start_s=day_s,
                                     state=state):
                    failures.append(f'{question} -> {query}')
    return 1.0 - len(failures) / total, failures


def test_builtin_phrasings_cover_every_question_type_with_three_to_five_templates() -> None:
    assert set(BUILTIN_PHRASINGS) == set(QUESTION_TYPES) == set(REQUIRED_PLACEHOLDERS)
    for question_type, templates in BUILTIN_PHRASINGS.items():
        assert 3 <= len(templates) <= 5, question_type
        for template in templates:
            fields = template_fields(template)
            assert fields <= set(PLACEHOLDERS), template
            assert REQUIRED_PLACEHOLDERS[question_type] <= fields, template


def test_question_types_map_to_query_types_and_categories() -> None:
    assert {k: (t.__name__, str(c)) for k, (t, c) in QUESTION_TYPES.items()} == {
        'where_now': ('WhereIs', 'present'),
        'where_last_seen': ('LastSeen', 'past'),
        'still_there': ('IsAt', 'past_present'),
        'where_on_day': ('WhereWas', 'past'),
        'count_in_room': ('Count', 'present'),
        'state_now': ('StateOf', 'present'),
        'state_on_day': ('StateOf', 'past'),
        'changed_since': ('Changes', 'past_present'),
        'usual_location': ('Usual', 'multi_past'),
        'when_appeared': ('WhenAppeared', 'past'),
        'contents': ('Contents', 'present'),
        'attribute': ('AttributeOf', 'present'),
        'exists': ('Exists', 'present'),
        'duration': ('Duration', 'multi_past'),
        'moved_between': ('Changes', 'multi_past'),
    }


def test_the_alternative_file_words_every_question_differently() -> None:
    alternative = load_phrasings(ALT_PHRASINGS)
    assert set(alternative) == set(QUESTION_TYPES)

    def words(template: str) -> str:
        return ' '.join(re.findall(r"[a-z{}']+", template.lower()))

    builtin = {words(t) for templates in BUILTIN_PHRASINGS.values() for t in templates}
    assert not builtin & {words(t) for templates in alternative.values() for t in templates}


def test_parser_covers_the_builtin_phrasings() -> None:
    share, failures = coverage(BUILTIN_PHRASINGS)
    _LOG.info('built-in phrasing coverage %.3f', share)
    assert share >= 0.95, failures[:10]


def test_parser_covers_the_alternative_phrasings() -> None:
    share, failures = coverage(load_phrasings(ALT_PHRASINGS))
    _LOG.info('alternative phrasing coverage %.3f', share)
    assert share >= 0.90, failures[:10]


def test_fill_template_leaves_unused_placeholders_out() -> None:
    assert fill_template('How many {object}s are in the {room}?', object='mug',
                         room='living room') == 'How many mugs are in the living room?'


def test_query_matches_checks_type_target_day_and_state() -> None:
    monday = TimeRange(MONDAY_S, MONDAY_S + DAY_S, 'on monday')
    query = StateOf(Target('lamp'), monday, 'on', Category.PAST)
    assert query_matches(query, 'state_on_day', label='lamp', day_start_s=MONDAY_S,
                         state='on')
    assert not query_matches(query, 'state_on_day', label='lamp', day_start_s=MONDAY_S,
                             state='off')
    assert not query_matches(query, 'state_on_day', label='lamp',
                             day_start_s=MONDAY_S + DAY_S, state='on')
    assert not query_matches(query, 'state_now', label='lamp', state='on')
    assert not query_matches(WhereIs(Target('mug')), 'where_now', label='cup')
    assert not query_matches(None, 'where_now', label='mug')


def test_query_matches_rejects_an_unknown_question_type() -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        query_matches(None, 'where_tomorrow', label='mug')
    assert str(excinfo.value) == (
        "unknown question type 'where_tomorrow'; valid: where_now, where_last_seen, "
        'still_there, where_on_day, count_in_room, state_now, state_on_day, changed_since, '
        'usual_location, when_appeared, contents, attribute, exists, '
     'duration, moved_between')


def test_a_partial_file_is_read_as_is(tmp_path: Path) -> None:
    path = tmp_path / 'mine.yaml'
    path.write_text('where_now:\n  - "yo, {object}, where?"\n')
    assert load_phrasings(path) == {'where_now': ['yo, {object}, where?']}


@pytest.mark.parametrize(('content', 'error'), [
    ('where_now: [unclosed', "cannot read the {path}: not valid YAML (line 1): expected ',' "
     "or ']', but got '<stream end>'"),
    ('- a list\n- not a mapping', '{path} must map question types to lists of templates; '
     'types: where_now, where_last_seen, still_there, where_on_day, count_in_room, state_now, '
     'state_on_day, changed_since, usual_location, when_appeared, contents, attribute, exists, '
     'duration, moved_between'),
    ('', '{path} must map question types to lists of templates; types: where_now, '
     'where_last_seen, still_there, where_on_day, count_in_room, state_now, state_on_day, '
     'changed_since, usual_location, when_appeared, contents, attribute, exists, '
     'duration, moved_between'),
    ('where_tomorrow: ["Where will the {object} be?"]',
     "{path}: unknown question type 'where_tomorrow'; valid: where_now, where_last_seen, "
     'still_there, where_on_day, count_in_room, state_now, state_on_day, changed_since, '
     'usual_location, when_appeared, contents, attribute, exists, '
     'duration, moved_between'),
    ('where_now: []', '{path}: where_now must be a non-empty list of template strings'),
    ('where_now: "Where is the {object}?"',
     '{path}: where_now must be a non-empty list of template strings'),
    ('where_now: ["Where is the {objet}?"]',
     "{path}: template 'Where is the {objet}?' uses unknown placeholder(s) objet; valid: "
     'object, room, day, state, furniture, day2'),
    ('where_on_day: ["Where was the {object}?"]',
     "{path}: template 'Where was the {object}?' for where_on_day lacks {day}"),
    ('count_in_room: ["How many are there?"]',
     "{path}: template 'How many are there?' for count_in_room lacks {object}, {room}"),
])
def test_a_bad_phrasings_file_is_refused_with_a_clear_message(tmp_path: Path, content: str,
                                                              error: str) -> None:
    path = tmp_path / 'phrasings.yaml'
    path.write_text(content)
    with pytest.raises(InvalidInputError) as excinfo:
        load_phrasings(path)
    assert str(excinfo.value) == error.replace('{path}', f'phrasings file {path}')


def test_a_malformed_template_is_refused(tmp_path: Path) -> None:
    path = tmp_path / 'phrasings.yaml'
    path.write_text('where_now: ["Where is the {object?"]')
    with pytest.raises(InvalidInputError) as excinfo:
        load_phrasings(path)
    assert str(excinfo.value) == ("malformed template 'Where is the {object?': expected '}' "
                                  'before end of string')


def test_a_missing_phrasings_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        load_phrasings(tmp_path / 'absent.yaml')
    assert str(excinfo.value) == (f'cannot read the phrasings file '
                                  f'{tmp_path / "absent.yaml"}: No such file or directory')


def test_a_state_template_without_a_state_asks_the_open_question(tmp_path: Path) -> None:
    path = tmp_path / 'phrasings.yaml'
    path.write_text('state_now: ["What state is the {object} in?"]\n'
                    'state_on_day: ["What state was the {object} in on {day}?"]\n')
    loaded = load_phrasings(path)
    parser = QuestionParser(Vocabulary(), MemoryClock())
    text = fill_template(loaded['state_now'][0], object='oven')
    query = parser.parse(text, NOW_S).query
    assert query == AttributeOf(Target('oven', text='oven'), 'state')
    assert query_matches(query, 'state_now', label='oven')
    assert not query_matches(query, 'state_now', label='oven', state='on')
