"""Time expressions in questions → `TimeRange`s on the memory clock's local calendar.

Conventions (all in the clock's timezone, ranges are `[start_s, end_s)`):

- A day is local midnight to midnight; "yesterday", "two days ago", "on Monday" are days.
- Parts of a day follow `robot_memory.core.clock.DAY_PARTS`: morning 06–12, afternoon 12–17,
  evening 17–22. A *night* named after a day ("Monday night", "last night") runs from 17:00
  that day to 06:00 the next, because people say "last night" for the whole stretch after
  work, not only 22:00–06:00. "last night" is the night that ended this morning; before 06:00
  it is the night in progress. "tonight" is today 17:00 → tomorrow 06:00.
- A weekday ("on Monday", "Monday morning") is the most recent such day that has started;
  today counts when the day (or the named part of it) has already begun. "last Monday" is the
  most recent Monday before today.
- A clock time ("at 3 pm", "yesterday at 15:30") or "N hours ago" is one minute long.
- "since X" and "compared to X" keep only the start of X, "after X" only its end;
  "between X and Y" runs from the start of X to the end of Y; "in the past N days" starts
  N×24 h before now.
- A part of the day without a date ("in the morning", "at night") is a *time of day* for habit
  questions; its range is the most recent such part that has started.
- "now", "right now", "currently", "at the moment" mean the present: a range with both ends None.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from robot_memory._compat import StrEnum
from robot_memory.core.clock import DAY_PARTS, WEEKDAYS, MemoryClock
from robot_memory.core.queries import TimeRange
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'TIME_OF_DAY_NAMES',
    'TimeExpression',
    'TimeKind',
    'find_times',
    'resolve_time',
]

DAY_S = 86400.0
MINUTE_S = 60.0
TIME_OF_DAY_NAMES = ('morning', 'afternoon', 'evening', 'night')
# First and end hour of each day part; 'night' hangs off the evening of its day (see above).
_PART_HOURS = {name: (lo, hi) for name, lo, hi in DAY_PARTS if name != 'night'}
_PART_HOURS['night'] = (17, 30)
_WEEKDAY_INDEX = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
_NUMBER_WORDS = {
    'a': 1, 'an': 1, 'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6,
    'seven': 7, 'eight': 8, 'nine': 9, 'ten': 10, 'eleven': 11, 'twelve': 12,
    'a couple of': 2, 'couple of': 2,
}
_MEALS = {'breakfast': 'morning', 'lunch': 'afternoon', 'lunchtime': 'afternoon',
          'dinner': 'evening', 'dinnertime': 'evening', 'supper': 'evening',
          'bedtime': 'night'}


class TimeKind(StrEnum):
    """What shape of time a question names."""

    NOW = 'now'
    PERIOD = 'period'
    SINCE = 'since'
    BETWEEN = 'between'
    TIME_OF_DAY = 'time_of_day'


@dataclass(frozen=True, slots=True)
class TimeExpression:
    """One time expression found in a text and resolved against the clock."""

    kind: TimeKind
    range: TimeRange
    text: str
    span: tuple[int, int] = (0, 0)
    time_of_day: str = ''

    @property
    def start_s(self) -> float | None:
        """Start of the range (None: open)."""
        return self.range.start_s

    @property
    def end_s(self) -> float | None:
        """End of the range (None: open)."""
        return self.range.end_s

    def is_future(self, now_s: float) -> bool:
        """Whether the expression starts after `now_s`."""
        return self.range.start_s is not None and self.range.start_s > now_s

    def is_past(self, now_s: float) -> bool:
        """Whether the expression ended at or before `now_s`."""
        return self.range.end_s is not None and self.range.end_s <= now_s

    def contains(self, stamp_s: float) -> bool:
        """Whether `stamp_s` lies in the range (open ends contain everything on their side)."""
        lo, hi = self.range.start_s, self.range.end_s
        return (lo is None or lo <= stamp_s) and (hi is None or stamp_s < hi)


# -- grammar ---------------------------------------------------------------------------------
# Sub-patterns carry no named groups so that they can be nested twice ("between X and Y");
# each alternative is resolved afterwards by matching it alone with its own named groups.
_NUM = (r'(?:\d{1,3}|a\s+couple\s+of|couple\s+of|an|a|one|two|three|four|five|six|seven'
        r'|eight|nine|ten|eleven|twelve)')
_WEEKDAY = r'(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)'
_PART = r'(?:morning|afternoon|evening|night)'
_CLOCK = (r'(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|o\'clock)|\d{1,2}:\d{2}'
          r'|noon|midday|midnight)')
_DAY = (rf'(?:(?:on\s+)?(?:the\s+day\s+before\s+yesterday|yesterday|today|tomorrow'
        rf'|{_NUM}\s+days?\s+ago|{_NUM}\s+weeks?\s+ago'
        rf'|(?:last\s+|this\s+|past\s+)?{_WEEKDAY}))')


_POINT = (rf'(?:{_DAY}\s+at\s+{_CLOCK}|at\s+{_CLOCK}\s+{_DAY}'
          rf'|{_DAY}\s+(?:in\s+the\s+|at\s+|during\s+the\s+)?{_PART}'
          rf'|(?:this|tomorrow)\s+{_PART}|last\s+night|tonight|earlier\s+today|{_DAY}'
          rf'|at\s+{_CLOCK}|(?:{_NUM}|half\s+an?)\s+(?:hours?|minutes?|mins?)\s+ago'
          rf'|(?:this|last)\s+(?:week|weekend))')
_NOW = (r'(?:right\s+now|just\s+now|as\s+of\s+now|now|currently|presently'
        r'|at\s+the\s+moment|at\s+this\s+moment|at\s+present)')
_TIME_OF_DAY = (r'(?:(?:in|during)\s+the\s+(?P<a>morning|afternoon|evening)s?'
                r'|at\s+(?P<b>night)|(?:every|each)\s+(?P<c>morning|afternoon|evening|night)'
                r'|(?P<d>morning|afternoon|evening|night)s|(?P<e>overnight)'
                r'|at\s+(?P<f>breakfast|lunch|dinner|supper)(?:\s*time)?'
                r'|at\s+(?P<g>lunchtime|dinnertime|bedtime))')


def _bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(rf'(?<![a-z0-9]){pattern}(?![a-z0-9])')


_TOP_LEVEL: list[tuple[TimeKind, re.Pattern[str]]] = [
    (TimeKind.BETWEEN, _bounded(
        rf'(?:between|from)\s+(?P<x>{_POINT})\s+(?:and|to|until|till|through|thru)\s+'
        rf'(?P<y>{_POINT})')),
    (TimeKind.SINCE, _bounded(
        rf'(?:(?:ever\s+)?since|after|compared\s+(?:to|with))\s+(?P<x>{_POINT})')),
    (TimeKind.SINCE, _bounded(
        rf'(?:in|during|over|within|for)\s+the\s+(?:past|last)\s+(?:(?P<n>{_NUM})\s+)?'
        rf'(?P<unit>days?|hours?|weeks?)')),
    (TimeKind.PERIOD, _bounded(f'(?P<x>{_POINT})')),
    (TimeKind.NOW, _bounded(_NOW)),
    (TimeKind.TIME_OF_DAY, _bounded(_TIME_OF_DAY)),
]


# -- resolution ------------------------------------------------------------------------------
class _Context:
    """The clock and now, with calendar helpers."""

    def __init__(self, clock: MemoryClock, now_s: float) -> None:
        self.clock = clock
        self.now_s = now_s
        self.today = clock.local(now_s).date()

    def at(self, day: dt.date, hour: float = 0.0) -> float:
        """Stamp of `hour` (may exceed 24) on local `day`."""
        whole = int(hour)
        extra_days, whole = divmod(whole, 24)
        minute = round((hour - int(hour)) * 60)
        day = day + dt.timedelta(days=extra_days)
        return self.clock.stamp(dt.datetime(day.year, day.month, day.day, whole, minute))

    def day_range(self, day: dt.date) -> tuple[float, float]:
        """Local midnight to midnight."""
        return self.at(day), self.at(day + dt.timedelta(days=1))

    def part_range(self, day: dt.date, part: str) -> tuple[float, float]:
        """A named part of `day`."""
        lo, hi = _PART_HOURS[part]
        return self.at(day, lo), self.at(day, hi)

    def started(self, day: dt.date, part: str = '') -> bool:
        """Whether `day` (or that part of it) has begun."""
        start = self.part_range(day, part)[0] if part else self.at(day)
        return start <= self.now_s


def _number(text: str) -> int:
    text = ' '.join(text.split())
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


def _resolve_day(ctx: _Context, text: str, part: str = '') -> dt.date:
    text = ' '.join(text.split())
    if text.startswith('on '):
        text = text[3:]
    one = dt.timedelta(days=1)
    if text == 'today':
        return ctx.today
    if text == 'yesterday':
        return ctx.today - one
    if text == 'tomorrow':
        return ctx.today + one
    if text == 'the day before yesterday':
        return ctx.today - 2 * one
    m = re.fullmatch(rf'({_NUM})\s+(days?|weeks?)\s+ago', text)
    if m:
        days = _number(m.group(1)) * (7 if m.group(2).startswith('week') else 1)
        return ctx.today - days * one
    m = re.fullmatch(rf'(?:(last|this|past)\s+)?({_WEEKDAY})', text)
    if m is None:
        raise InvalidInputError(f'not a day: {text!r}')
    back = (ctx.today.weekday() - _WEEKDAY_INDEX[m.group(2)]) % 7
    if m.group(1) in ('last', 'past') and back == 0:
        back = 7
    day = ctx.today - back * one
    if not ctx.started(day, part):
        day -= 7 * one
    return day


def _clock_hours(text: str) -> float:
    text = text.replace('.', '').replace(' ', '')
    if text in ('noon', 'midday'):
        return 12.0
    if text == 'midnight':
        return 0.0
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(am|pm|o'clock)?", text)
    if m is None:
        raise InvalidInputError(f'not a clock time: {text!r}')
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3) in ('am', 'pm'):
        if not 1 <= hour <= 12:
            raise InvalidInputError(f'not a clock time: {text!r}')
        hour = hour % 12 + (12 if m.group(3) == 'pm' else 0)
    if hour > 23 or minute > 59:
        raise InvalidInputError(f'not a clock time: {text!r}')
    return hour + minute / 60.0


def _day_at_clock(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    start = ctx.at(_resolve_day(ctx, m.group('day')), _clock_hours(m.group('clock')))
    return start, start + MINUTE_S, ctx.clock.day_part(start)


def _clock_only(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    start = ctx.at(ctx.today, _clock_hours(m.group('clock')))
    if start > ctx.now_s:
        start = ctx.at(ctx.today - dt.timedelta(days=1), _clock_hours(m.group('clock')))
    return start, start + MINUTE_S, ctx.clock.day_part(start)


def _day_part(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    part = m.group('part')
    start, end = ctx.part_range(_resolve_day(ctx, m.group('day'), part), part)
    return start, end, part


def _this_part(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    day = ctx.today + dt.timedelta(days=1 if m.group('which') == 'tomorrow' else 0)
    start, end = ctx.part_range(day, m.group('part'))
    return start, end, m.group('part')


def _fixed_phrase(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    text = ' '.join(m.group(0).split())
    one = dt.timedelta(days=1)
    if text == 'earlier today':
        return ctx.at(ctx.today), ctx.now_s, ''
    if text == 'last night':
        start, end = ctx.part_range(ctx.today - one, 'night')
        return start, end, 'night'
    # tonight: before 06:00 the night in progress, else the coming one.
    day = ctx.today - one if ctx.now_s < ctx.at(ctx.today, 6) else ctx.today
    start, end = ctx.part_range(day, 'night')
    return start, end, 'evening'


def _day_only(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    start, end = ctx.day_range(_resolve_day(ctx, m.group('day')))
    return start, end, ''


def _units_ago(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    n = 0.5 if m.group('n').startswith('half') else float(_number(m.group('n')))
    unit_s = 3600.0 if m.group('unit').startswith('hour') else MINUTE_S
    start = ctx.now_s - n * unit_s
    return start, start + MINUTE_S, ctx.clock.day_part(start)


def _week(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    monday = ctx.today - dt.timedelta(days=ctx.today.weekday())
    if m.group('which') == 'last':
        monday -= dt.timedelta(days=7)
    if m.group('unit') == 'weekend':
        return ctx.at(monday + dt.timedelta(days=5)), ctx.at(monday + dt.timedelta(days=7)), ''
    return ctx.at(monday), ctx.at(monday + dt.timedelta(days=7)), ''


_RESOLVERS: list[tuple[re.Pattern[str], Callable[[_Context, re.Match[str]],
                                                 tuple[float, float, str]]]] = [
    (re.compile(rf'(?P<day>{_DAY})\s+at\s+(?P<clock>{_CLOCK})'), _day_at_clock),
    (re.compile(rf'at\s+(?P<clock>{_CLOCK})\s+(?P<day>{_DAY})'), _day_at_clock),
    (re.compile(rf'(?P<day>{_DAY})\s+(?:in\s+the\s+|at\s+|during\s+the\s+)?(?P<part>{_PART})'),
     _day_part),
    (re.compile(rf'(?P<which>this|tomorrow)\s+(?P<part>{_PART})'), _this_part),
    (re.compile(r'last\s+night|tonight|earlier\s+today'), _fixed_phrase),
    (re.compile(rf'(?P<day>{_DAY})'), _day_only),
    (re.compile(rf'at\s+(?P<clock>{_CLOCK})'), _clock_only),
    (re.compile(rf'(?P<n>{_NUM}|half\s+an?)\s+(?P<unit>hours?|minutes?|mins?)\s+ago'),
     _units_ago),
    (re.compile(r'(?P<which>this|last)\s+(?P<unit>week|weekend)'), _week),
]


def _resolve_point(ctx: _Context, text: str) -> tuple[float, float, str]:
    text = ' '.join(text.split())
    for pattern, resolver in _RESOLVERS:
        m = pattern.fullmatch(text)
        if m is not None:
            return resolver(ctx, m)
    raise InvalidInputError(f'not a time: {text!r}')


def _time_of_day(m: re.Match[str]) -> str:
    name = next(v for v in m.groups() if v)
    if name == 'overnight':
        return 'night'
    return _MEALS.get(name, name)


def _most_recent_part(ctx: _Context, part: str) -> tuple[float, float]:
    day = ctx.today if ctx.started(ctx.today, part) else ctx.today - dt.timedelta(days=1)
    return ctx.part_range(day, part)


def _expression(ctx: _Context, kind: TimeKind, m: re.Match[str], text: str) -> TimeExpression:
    span = (m.start(), m.end())
    if kind is TimeKind.NOW:
        return TimeExpression(kind, TimeRange(text=text), text, span)
    if kind is TimeKind.TIME_OF_DAY:
        part = _time_of_day(m)
        start, end = _most_recent_part(ctx, part)
        return TimeExpression(kind, TimeRange(start, end, text), text, span, part)
    if kind is TimeKind.BETWEEN:
        start, _, part = _resolve_point(ctx, m.group('x'))
        _, end, _ = _resolve_point(ctx, m.group('y'))
        if end <= start:
            raise InvalidInputError(f'{text!r} ends before it starts')
        return TimeExpression(kind, TimeRange(start, end, text), text, span)
    if kind is TimeKind.SINCE:
        if m.groupdict().get('x') is not None:
            start, end, part = _resolve_point(ctx, m.group('x'))
            if text.lower().startswith('after'):
                start = end
        else:
            n = _number(m.group('n')) if m.group('n') else 1
            unit = m.group('unit')
            unit_s = 3600.0 if unit.startswith('hour') else DAY_S * (
                7 if unit.startswith('week') else 1)
            start, part = ctx.now_s - n * unit_s, ''
        return TimeExpression(kind, TimeRange(start, None, text), text, span, part)
    start, end, part = _resolve_point(ctx, m.group('x'))
    return TimeExpression(kind, TimeRange(start, end, text), text, span, part)


def find_times(text: str, clock: MemoryClock, now_s: float) -> list[TimeExpression]:
    """All time expressions in `text` (lower-cased inside), left to right, never overlapping.

    Longer forms win over the shorter ones they contain ("since Monday morning" over
    "Monday"). Spans index into `text`.
    """
    lowered = text.lower()
    # Spans index both strings only while lower-casing keeps the length (it does for English).
    source = text if len(lowered) == len(text) else lowered
    ctx = _Context(clock, now_s)
    taken: list[tuple[int, int]] = []
    found: list[TimeExpression] = []
    for kind, pattern in _TOP_LEVEL:
        for m in pattern.finditer(lowered):
            if any(m.start() < hi and lo < m.end() for lo, hi in taken):
                continue
            try:
                expression = _expression(ctx, kind, m, source[m.start():m.end()])
            except InvalidInputError:
                # "at 25:00" matches the shape but is no time; leave the words to the parser.
                continue
            taken.append((m.start(), m.end()))
            found.append(expression)
    found.sort(key=lambda e: e.span)
    return found


def resolve_time(text: str, clock: MemoryClock, now_s: float) -> TimeExpression:
    """Resolve a text that is one time expression ('' and 'now' mean the present).

    Raises `InvalidInputError` naming the text when it is not exactly one expression I know.
    """
    stripped = text.strip()
    if not stripped:
        return TimeExpression(TimeKind.NOW, TimeRange(), '', (0, 0))
    found = find_times(stripped, clock, now_s)
    if len(found) == 1 and found[0].span == (0, len(stripped)):
        return found[0]
    raise InvalidInputError(
        f'cannot resolve the time expression {text!r}; examples that work: "yesterday", '
        '"last night", "two days ago", "on Monday", "Tuesday evening", "since Tuesday", '
        '"between Monday and Wednesday", "in the morning"')
