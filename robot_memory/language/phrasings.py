"""Question templates of the long-term EQA benchmark, and the check that a parse is right.

Each benchmark question type has one meaning, one expected query type and one category
(`QUESTION_TYPES`), and a few English templates (`BUILTIN_PHRASINGS`). Placeholders:

- `{object}`: the target as people say it: a class label with spaces ('coffee table'),
  optionally with a colour ('red backpack'). Counting templates write `{object}s`, so the
  parser accepts naive plurals ('boxs', 'keyss') as well as real ones;
- `{room}`: a room name with spaces ('living room', 'bedroom 2');
- `{day}`: an English weekday name ('Tuesday'); it means the most recent such day that has
  started, today included, so a generator should ask about the last six days only;
- `{state}`: a state of the object ('open', 'closed', 'on', 'off'); the state questions
  (`state_now`, `state_on_day`) are yes/no questions about that state. A state template
  without `{state}` asks the open question ("what state is the oven in?", an `AttributeOf`)
  and is scored on the true state;
- `{furniture}`: a piece of furniture as people say it ('coffee table'), for `contents`;
- `{day2}`: a second weekday, later than `{day}`, for `moved_between`.

`still_there` asks whether an object is still in the room where the robot last saw it (a
yes/no answer that the present decides). `contents` asks what is on a piece of furniture (the
classes on it); `attribute` asks the colour of an object that is the only one of its class;
`exists` asks whether there is any object of a class in a room (yes/no); `duration` asks how
long an object has been in its room; `moved_between` asks whether an object moved between
two past days (yes/no). `changed_since` asks whether one object has moved
since the start of `{day}` (a yes/no answer); `usual_location` asks for the habitual place (no
time of day in the built-in templates).

`load_phrasings` reads a YAML file of the same shape, so anyone can test the parser on wording
it has never seen (`robot-memory eval laeqa --phrasings FILE`).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from robot_memory.core.queries import (
    AttributeOf,
    Category,
    Changes,
    Contents,
    Count,
    Duration,
    Exists,
    IsAt,
    LastSeen,
    Query,
    StateOf,
    Usual,
    WhenAppeared,
    WhereIs,
    WhereWas,
)
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'BUILTIN_PHRASINGS',
    'OPEN_STATE_TYPES',
    'PLACEHOLDERS',
    'QUESTION_TYPES',
    'REQUIRED_PLACEHOLDERS',
    'fill_template',
    'load_phrasings',
    'query_matches',
    'template_fields',
]

PLACEHOLDERS = ('object', 'room', 'day', 'state', 'furniture', 'day2')

QUESTION_TYPES: dict[str, tuple[type, Category]] = {
    'where_now': (WhereIs, Category.PRESENT),
    'where_last_seen': (LastSeen, Category.PAST),
    'still_there': (IsAt, Category.PAST_PRESENT),
    'where_on_day': (WhereWas, Category.PAST),
    'count_in_room': (Count, Category.PRESENT),
    'state_now': (StateOf, Category.PRESENT),
    'state_on_day': (StateOf, Category.PAST),
    'changed_since': (Changes, Category.PAST_PRESENT),
    'usual_location': (Usual, Category.MULTI_PAST),
    'when_appeared': (WhenAppeared, Category.PAST),
    'contents': (Contents, Category.PRESENT),
    'attribute': (AttributeOf, Category.PRESENT),
    'exists': (Exists, Category.PRESENT),
    'duration': (Duration, Category.MULTI_PAST),
    'moved_between': (Changes, Category.MULTI_PAST),
}
# A state question without {state} is the open question, answered with the state's value.
OPEN_STATE_TYPES: dict[str, tuple[type, Category]] = {
    'state_now': (AttributeOf, Category.PRESENT),
    'state_on_day': (AttributeOf, Category.PAST),
}

REQUIRED_PLACEHOLDERS: dict[str, frozenset[str]] = {
    'where_now': frozenset({'object'}),
    'where_last_seen': frozenset({'object'}),
    'still_there': frozenset({'object', 'room'}),
    'where_on_day': frozenset({'object', 'day'}),
    'count_in_room': frozenset({'object', 'room'}),
    'state_now': frozenset({'object'}),
    'state_on_day': frozenset({'object', 'day'}),
    'changed_since': frozenset({'object', 'day'}),
    'usual_location': frozenset({'object'}),
    'when_appeared': frozenset({'object'}),
    'contents': frozenset({'furniture'}),
    'attribute': frozenset({'object'}),
    'exists': frozenset({'object', 'room'}),
    'duration': frozenset({'object', 'room'}),
    'moved_between': frozenset({'object', 'day', 'day2'}),
}

BUILTIN_PHRASINGS: dict[str, list[str]] = {
    'where_now': [
        'Where is the {object}?',
        'Where is the {object} right now?',
        'Where can I find my {object}?',
        'Which room is the {object} in?',
        'Do you know where the {object} is?',
    ],
    'where_last_seen': [
        'Where did you last see the {object}?',
        'When did you last see the {object}?',
        'Where was the {object} last seen?',
        'Where have you seen my {object} last?',
    ],
    'still_there': [
        'Is the {object} still in the {room}?',
        'Is my {object} still in the {room}?',
        'Is the {object} in the {room} still?',
        'Is the {object} still there in the {room}?',
    ],
    'where_on_day': [
        'Where was the {object} on {day}?',
        'On {day}, where was the {object}?',
        'Which room was the {object} in on {day}?',
        'Where did you see the {object} on {day}?',
    ],
    'count_in_room': [
        'How many {object}s are in the {room}?',
        'How many {object}s are there in the {room}?',
        'Count the {object}s in the {room}.',
        'What is the number of {object}s in the {room}?',
    ],
    'state_now': [
        'Is the {object} {state}?',
        'Is the {object} {state} right now?',
        'Is the {object} currently {state}?',
        'Tell me whether the {object} is {state}.',
    ],
    'state_on_day': [
        'Was the {object} {state} on {day}?',
        'On {day}, was the {object} {state}?',
        'Was the {object} {state} at some point on {day}?',
    ],
    'changed_since': [
        'Has the {object} moved since {day}?',
        'Did the {object} move since {day}?',
        'Has anyone moved the {object} since {day}?',
        'Has the {object} changed place since {day}?',
    ],
    'usual_location': [
        'Where is the {object} usually?',
        'Where is the {object} usually kept?',
        'Where do you usually find the {object}?',
        'Where does the {object} normally go?',
    ],
    'when_appeared': [
        'When did the {object} first appear?',
        'When did you first see the {object}?',
        'When was the {object} first seen?',
        'When did the {object} show up?',
    ],
    'contents': [
        'What is on the {furniture}?',
        'What is on the {furniture} right now?',
        'Is there anything on the {furniture}?',
        'What can you see on the {furniture}?',
    ],
    'attribute': [
        'What colour is the {object}?',
        'What color is the {object}?',
        'Which colour is the {object}?',
    ],
    'exists': [
        'Is there a {object} in the {room}?',
        'Is there any {object} in the {room}?',
        'Are there any {object}s in the {room}?',
    ],
    'duration': [
        'How long has the {object} been in the {room}?',
        'Since when has the {object} been in the {room}?',
        'For how long has the {object} been in the {room}?',
    ],
    'moved_between': [
        'Did the {object} move between {day} and {day2}?',
        'Was the {object} moved between {day} and {day2}?',
        'Has the {object} changed place between {day} and {day2}?',
    ],
}


def template_fields(template: str) -> set[str]:
    """Placeholder names of a template; raises `InvalidInputError` on a malformed one."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise InvalidInputError(f'malformed template {template!r}: {exc}') from exc


def fill_template(template: str, **values: str) -> str:
    """Fill a template's placeholders ({object}, {room}, {day}, {state}, {furniture},
    {day2})."""
    return template.format(**{k: values.get(k, '') for k in PLACEHOLDERS})


def load_phrasings(path: str | Path) -> dict[str, list[str]]:
    """Read a YAML mapping of question type → list of templates, checked against the types.

    Types the file leaves out are simply absent from the result; a caller decides whether to
    fall back to `BUILTIN_PHRASINGS` for them.
    """
    from robot_memory.config import read_yaml

    path = Path(path)
    data: Any = read_yaml(path, 'phrasings file')
    valid = ', '.join(QUESTION_TYPES)
    if not isinstance(data, dict) or not data:
        raise InvalidInputError(
            f'phrasings file {path} must map question types to lists of templates; types: '
            f'{valid}')
    out: dict[str, list[str]] = {}
    for key, templates in data.items():
        if key not in QUESTION_TYPES:
            raise InvalidInputError(
                f'phrasings file {path}: unknown question type {key!r}; valid: {valid}')
        if (not isinstance(templates, list) or not templates
                or not all(isinstance(t, str) and t.strip() for t in templates)):
            raise InvalidInputError(
                f'phrasings file {path}: {key} must be a non-empty list of template strings')
        for template in templates:
            fields = template_fields(template)
            unknown = fields - set(PLACEHOLDERS)
            if unknown:
                raise InvalidInputError(
                    f'phrasings file {path}: template {template!r} uses unknown placeholder(s) '
                    f'{", ".join(sorted(unknown))}; valid: {", ".join(PLACEHOLDERS)}')
            missing = REQUIRED_PLACEHOLDERS[key] - fields
            if missing:
                raise InvalidInputError(
                    f'phrasings file {path}: template {template!r} for {key} lacks '
                    f'{", ".join("{" + m + "}" for m in sorted(missing))}')
        out[key] = list(templates)
    return out


def query_matches(query: Query | None, question_type: str, *, label: str, color: str = '',
                  room_id: str = '', day_start_s: float | None = None,
                  state: str = '') -> bool:
    """Whether a parsed query is what a benchmark question of `question_type` means.

    Checks the query type and category, the target label (and colour when given; for
    `contents` the furniture's class), the room of a count, an existence or a duration, the
    day (the start of `WhereWas.at`, `StateOf.at`, `AttributeOf.at` or `Changes.since`, within
    1 s) and the asked state. A state question asked without a state is the open question.
    """
    try:
        expected_type, expected_category = QUESTION_TYPES[question_type]
    except KeyError:
        valid = ', '.join(QUESTION_TYPES)
        raise InvalidInputError(
            f'unknown question type {question_type!r}; valid: {valid}') from None
    if question_type in OPEN_STATE_TYPES and not state:
        expected_type, expected_category = OPEN_STATE_TYPES[question_type]
    if query is None or type(query) is not expected_type or \
            query.category != expected_category:
        return False
    if isinstance(query, Contents):
        return query.support_or_container == label
    if isinstance(query, AttributeOf) and query.attribute != ('state' if question_type in
                                                              OPEN_STATE_TYPES else 'color'):
        return False
    target = getattr(query, 'target', None)
    if target is None or target.label != label or (color and target.color != color):
        return False
    if isinstance(query, Count | IsAt | Exists) and query.room != room_id:
        return False
    if isinstance(query, Duration) and query.room_or_support != room_id:
        return False
    if day_start_s is not None:
        if isinstance(query, WhereWas | StateOf | AttributeOf):
            start = query.at.start_s
        elif isinstance(query, Changes):
            start = query.since.start_s
        else:
            start = None
        if start is None or abs(start - day_start_s) > 1.0:
            return False
    return not (state and isinstance(query, StateOf) and query.state != state)
