"""Time expressions in questions → `TimeRange`s on the memory clock's local calendar.

Conventions (all in the clock's timezone, ranges are `[start_s, end_s)`):

- A day is local midnight to midnight; "yesterday", "two days ago", "a few days ago" (three),
  "the day before yesterday", "on Monday" and dates are days. "the other day" runs from 00:00
  six days ago to the end of the day before yesterday; "earlier today" and "earlier this week"
  run from the start of today / of this week's Monday to now.
- A date is "November 3", "Nov. 3rd", "3 November", "the 3rd of November", "November the 3rd"
  or ISO "2026-11-03", optionally with a year ("November 3, 2026", "3 Nov 2026"). Without a
  year it is the most recent such date that has started (today counts; else last year, or the
  last leap year for February 29). "May" and "March" count only next to a day number. A date
  that does not exist ("February 30") resolves to nothing and is left to the caller (see
  `unused_time_words`).
- Parts of a day follow `robot_memory.core.clock.DAY_PARTS`: morning 06–12, afternoon 12–17,
  evening 17–22. A *night* named after a day ("Monday night", "last night") runs from 17:00
  that day to 06:00 the next, because people say "last night" for the whole stretch after
  work, not only 22:00–06:00. "last night" is the night that ended this morning; before 06:00
  it is the night in progress. "tonight" is today 17:00 → tomorrow 06:00.
- Meals name parts of a day: "after breakfast", "before lunch" → morning; "at/after lunch",
  "before dinner" → afternoon; "at/after dinner" (or supper) → evening; "before bed",
  "at bedtime" → night. With a day ("yesterday after dinner", "after breakfast on Monday") they
  are that part of that day; without one they are a time of day (below), never a "since".
- A weekday ("on Monday", "Monday morning") is the most recent such day that has started;
  today counts when the day (or the named part of it) has already begun. "last Monday" is the
  most recent Monday before today. A date with a part ("November 3 in the morning") only needs
  the date to have started.
- Weeks start on Monday. "this weekend" / "last weekend" are the Saturday and Sunday of this /
  last week; "the weekend" ("at/on/over/during the weekend") is the most recent weekend that
  has started; each runs Saturday 00:00 → Monday 00:00.
- A clock time ("at 3 pm", "yesterday at 15:30", "9 o'clock", "at 9 in the morning",
  "at 8 in the evening", "at 11 at night") or "N hours ago" is one minute long; with
  "around", "about", "approximately" or "roughly" ("around 3 pm", "at about 9") it runs from
  30 minutes before to 30 minutes after. "in the morning" reads the hour as a.m., "in the
  afternoon/evening" as p.m., "at night" as p.m. from 6 to 11 and a.m. otherwise; "H:MM"
  without a.m./p.m. is on the 24-hour clock. A bare hour or "H o'clock" (1–12) is read on the
  12-hour clock: alone, it is whichever of H:00 and H+12:00 was most recent; with a day,
  1–6 are p.m., 7–11 a.m. and 12 noon; with a part of a day ("this morning at 9", "at 8
  tonight", "last night at 2") it is the reading that falls inside that part. A bare hour
  counts only after "at"/"around"/… and before the end of the text, a punctuation mark or a
  word that may follow a time ("at 21 degrees" is no time). A time without a day is the most
  recent such time that has started.
- "since X" and "compared to X" keep only the start of X, "after X" only its end (a clock time
  counts as an instant: "after 3 pm" starts at 15:00); "between X and Y" runs from the start
  of X to the end of Y; "in the past N days" starts N×24 h before now.
- A part of the day without a date ("in the morning", "at night", "after dinner") is a *time of
  day* for habit questions; its range is the most recent such part that has started.
- "now", "right now", "currently", "at the moment" mean the present: a range with both ends None.

Date and time words that are not part of any expression found ("on February 30", "at 25 pm")
are listed by `unused_time_words`, so that a caller can say which words it could not read
instead of silently ignoring them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from robot_memory._compat import StrEnum
from robot_memory.core.clock import DAY_PARTS, MemoryClock, check_stamp
from robot_memory.core.queries import TimeRange
from robot_memory.exceptions import InvalidInputError
from robot_memory.language.timegrammar import (
    AROUND_WORDS,
    AT,
    BEFORE_MEALS,
    CLOCK,
    CLOCK_MARKED,
    CLOCK_VALUE,
    DAY,
    DAY_MONTH,
    DAYS_AGO,
    ISO_DATE,
    MEAL,
    MEALS,
    MONTH_DAY,
    MONTH_INDEX,
    NAMED_WEEKDAY,
    NOW,
    NUM,
    NUMBER_WORDS,
    PART,
    PART_PHRASE,
    POINT,
    TIME_OF_DAY,
    TIME_WORDS,
    WEEKDAY_INDEX,
    WEEKEND,
)

__all__ = [
    'TIME_OF_DAY_NAMES',
    'BeyondCalendarError',
    'TimeExpression',
    'TimeKind',
    'find_times',
    'resolve_time',
    'unused_time_words',
]

DAY_S = 86400.0
MINUTE_S = 60.0
AROUND_S = 1800.0
TIME_OF_DAY_NAMES = ('morning', 'afternoon', 'evening', 'night')
# First and end hour of each day part; 'night' hangs off the evening of its day (see above).
_PART_HOURS = {name: (lo, hi) for name, lo, hi in DAY_PARTS if name != 'night'}
_PART_HOURS['night'] = (17, 30)


class BeyondCalendarError(InvalidInputError):
    """A question names a real date the calendar cannot hold (year 9999, year 1)."""


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


# -- the expressions find_times looks for (their grammar: robot_memory.language.timegrammar) ---
def _bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(rf'(?<![a-z0-9]){pattern}(?![a-z0-9])')


_TOP_LEVEL: list[tuple[TimeKind, re.Pattern[str]]] = [
    (TimeKind.BETWEEN, _bounded(
        rf'(?:between|from)\s+(?P<x>{POINT})\s+(?:and|to|until|till|through|thru)\s+'
        rf'(?P<y>{POINT})')),
    (TimeKind.SINCE, _bounded(
        rf'(?:(?:ever\s+)?since|after|compared\s+(?:to|with))\s+(?P<x>{POINT})')),
    (TimeKind.SINCE, _bounded(
        rf'(?:in|during|over|within|for)\s+the\s+(?:past|last)\s+(?:(?P<n>{NUM})\s+)?'
        rf'(?P<unit>days?|hours?|weeks?)')),
    (TimeKind.PERIOD, _bounded(f'(?P<x>{POINT})')),
    (TimeKind.NOW, _bounded(NOW)),
    (TimeKind.TIME_OF_DAY, _bounded(TIME_OF_DAY)),
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
        try:
            day = day + dt.timedelta(days=extra_days)
            return check_stamp(self.clock.stamp(dt.datetime(day.year, day.month, day.day,
                                                            whole, minute)))
        except (OverflowError, InvalidInputError):
            raise BeyondCalendarError(
                f'{day.isoformat()} is beyond the dates memory can hold '
                f'({dt.date(1, 1, 2).isoformat()} to {dt.date(9999, 12, 30).isoformat()})'
            ) from None

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

    def monday(self) -> dt.date:
        """Monday of this week."""
        return self.today - dt.timedelta(days=self.today.weekday())


def _number(text: str) -> int:
    text = ' '.join(text.split())
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


# How many years back a date without a year may lie (February 29 skips up to 7 years).
_DATE_YEARS_BACK = 8


def _resolve_date(ctx: _Context, text: str) -> dt.date | None:
    """The date a date text names; None when `text` is no date, an error when no such day."""
    m = ISO_DATE.fullmatch(text)
    if m is not None:
        month = int(m.group('m'))
    else:
        m = MONTH_DAY.fullmatch(text) or DAY_MONTH.fullmatch(text)
        if m is None:
            return None
        month = MONTH_INDEX[m.group('month').rstrip('.')[:3]]
    day = int(m.group('d'))
    if m.group('y'):
        try:
            return dt.date(int(m.group('y')), month, day)
        except ValueError:
            raise InvalidInputError(f'no such date: {text!r}') from None
    for back in range(_DATE_YEARS_BACK + 1):
        try:
            date = dt.date(ctx.today.year - back, month, day)
        except ValueError:
            continue
        if date <= ctx.today:
            return date
    raise InvalidInputError(f'no such date: {text!r}')


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
    m = DAYS_AGO.fullmatch(text)
    if m:
        days = _number(m.group(1)) * (7 if m.group(2).startswith('week') else 1)
        return ctx.today - days * one
    date = _resolve_date(ctx, text)
    if date is not None:
        return date
    m = NAMED_WEEKDAY.fullmatch(text)
    if m is None:
        raise InvalidInputError(f'not a day: {text!r}')
    back = (ctx.today.weekday() - WEEKDAY_INDEX[m.group(2)]) % 7
    if m.group(1) in ('last', 'past') and back == 0:
        back = 7
    day = ctx.today - back * one
    if not ctx.started(day, part):
        day -= 7 * one
    return day


@dataclass(frozen=True, slots=True)
class _Clock:
    """A time on the clock face; `twelve`: a bare hour that may be a.m. or p.m."""

    hour: int
    minute: int
    twelve: bool = False


def _clock(text: str) -> _Clock:
    text = ' '.join(text.split())
    if text in ('noon', 'midday'):
        return _Clock(12, 0)
    if text == 'midnight':
        return _Clock(0, 0)
    m = CLOCK_VALUE.fullmatch(text)
    if m is None:
        raise InvalidInputError(f'not a clock time: {text!r}')
    hour, minute = int(m.group('h')), int(m.group('m') or 0)
    twelve = False
    if m.group('ampm'):
        if not 1 <= hour <= 12:
            raise InvalidInputError(f'not a clock time: {text!r}')
        hour = hour % 12 + (12 if m.group('ampm') == 'p' else 0)
    elif m.group('part') and hour <= 12:
        part = m.group('part')
        hour %= 12
        if part in ('afternoon', 'evening') or (part == 'night' and hour >= 6):
            hour += 12
    elif m.group('m') is None:
        twelve = 1 <= hour <= 12
    if hour > 23 or minute > 59:
        raise InvalidInputError(f'not a clock time: {text!r}')
    return _Clock(hour, minute, twelve)


def _clock_stamp(ctx: _Context, clock: _Clock, day: dt.date | None = None,
                 within: tuple[float, float] | None = None) -> float:
    """Stamp of `clock` inside `within`, on `day`, or else the most recent one that started."""
    fraction = clock.minute / 60.0
    if within is not None:
        lo, hi = within
        base = ctx.clock.local(lo).date()
        hour, offsets = (clock.hour % 12, (0, 12, 24)) if clock.twelve else (clock.hour, (0, 24))
        for offset in offsets:
            stamp = ctx.at(base, hour + offset + fraction)
            if lo <= stamp < hi:
                return stamp
        raise InvalidInputError(f'{clock.hour}:{clock.minute:02d} is not in that part of the day')
    if day is not None:
        hour = clock.hour + (12 if clock.twelve and clock.hour <= 6 else 0)
        return ctx.at(day, hour + fraction)
    hours = (clock.hour % 12, clock.hour % 12 + 12) if clock.twelve else (clock.hour,)
    yesterday = ctx.today - dt.timedelta(days=1)
    return max(stamp for stamp in (ctx.at(day, hour + fraction)
                                   for day in (ctx.today, yesterday) for hour in hours)
               if stamp <= ctx.now_s)


def _clock_range(ctx: _Context, m: re.Match[str], stamp: float) -> tuple[float, float, str]:
    at = (m.groupdict().get('at') or '').split()
    if at and at[-1] in AROUND_WORDS:
        return stamp - AROUND_S, stamp + AROUND_S, ctx.clock.day_part(stamp)
    return stamp, stamp + MINUTE_S, ctx.clock.day_part(stamp)


def _day_at_clock(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    stamp = _clock_stamp(ctx, _clock(m.group('clock')), day=_resolve_day(ctx, m.group('day')))
    return _clock_range(ctx, m, stamp)


def _part_at_clock(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    lo, hi, _ = _resolve_point(ctx, m.group('phrase'))
    return _clock_range(ctx, m, _clock_stamp(ctx, _clock(m.group('clock')), within=(lo, hi)))


def _clock_only(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    return _clock_range(ctx, m, _clock_stamp(ctx, _clock(m.group('clock'))))


def _day_part(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    part = m.group('part')
    start, end = ctx.part_range(_resolve_day(ctx, m.group('day'), part), part)
    return start, end, part


def _meal_part(text: str) -> str:
    """The part of the day a meal phrase names ("after dinner" → 'evening')."""
    words = [w for w in text.split() if w not in ('time', 'going', 'to')]
    meal = words[-1].removesuffix('time') if words[-1] != 'bedtime' else 'bedtime'
    if words[0] == 'before':
        return BEFORE_MEALS.get(meal, MEALS[meal])
    return MEALS[meal]


def _day_meal(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    part = _meal_part(m.group('meal'))
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
    if text == 'earlier this week':
        return ctx.at(ctx.monday()), ctx.now_s, ''
    if text == 'the other day':
        return ctx.at(ctx.today - 6 * one), ctx.at(ctx.today - one), ''
    if text == 'last night':
        start, end = ctx.part_range(ctx.today - one, 'night')
        return start, end, 'night'
    # tonight: before 06:00 the night in progress, else the coming one.
    day = ctx.today - one if ctx.now_s < ctx.at(ctx.today, 6) else ctx.today
    start, end = ctx.part_range(day, 'night')
    return start, end, 'evening'


def _the_weekend(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    saturday = ctx.monday() + dt.timedelta(days=5)
    if saturday > ctx.today:
        saturday -= dt.timedelta(days=7)
    return ctx.at(saturday), ctx.at(saturday + dt.timedelta(days=2)), ''


def _day_only(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    start, end = ctx.day_range(_resolve_day(ctx, m.group('day')))
    return start, end, ''


def _units_ago(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    n = 0.5 if m.group('n').startswith('half') else float(_number(m.group('n')))
    unit_s = 3600.0 if m.group('unit').startswith('hour') else MINUTE_S
    start = ctx.now_s - n * unit_s
    return start, start + MINUTE_S, ctx.clock.day_part(start)


def _week(ctx: _Context, m: re.Match[str]) -> tuple[float, float, str]:
    monday = ctx.monday()
    if m.group('which') == 'last':
        monday -= dt.timedelta(days=7)
    if m.group('unit') == 'weekend':
        return ctx.at(monday + dt.timedelta(days=5)), ctx.at(monday + dt.timedelta(days=7)), ''
    return ctx.at(monday), ctx.at(monday + dt.timedelta(days=7)), ''


# One pattern per form of `POINT`; the first that matches a whole point resolves it.
_RESOLVERS: list[tuple[re.Pattern[str], Callable[[_Context, re.Match[str]],
                                                 tuple[float, float, str]]]] = [
    (re.compile(rf'(?P<phrase>{PART_PHRASE})\s+(?P<at>{AT})\s+(?P<clock>{CLOCK})'),
     _part_at_clock),
    (re.compile(rf'(?P<at>{AT})\s+(?P<clock>{CLOCK})\s+(?P<phrase>{PART_PHRASE})'),
     _part_at_clock),
    (re.compile(rf'(?P<day>{DAY})\s+(?P<at>{AT})\s+(?P<clock>{CLOCK})'), _day_at_clock),
    (re.compile(rf'(?P<day>{DAY})\s+(?P<clock>{CLOCK_MARKED})'), _day_at_clock),
    (re.compile(rf'(?P<at>{AT})\s+(?P<clock>{CLOCK})\s+(?P<day>{DAY})'), _day_at_clock),
    (re.compile(rf'(?P<day>{DAY})\s+(?P<meal>{MEAL})'), _day_meal),
    (re.compile(rf'(?P<meal>{MEAL})\s+(?P<day>{DAY})'), _day_meal),
    (re.compile(rf'(?P<day>{DAY})\s+(?:in\s+the\s+|at\s+|during\s+the\s+)?(?P<part>{PART})'),
     _day_part),
    (re.compile(rf'(?P<which>this|tomorrow)\s+(?P<part>{PART})'), _this_part),
    (re.compile(r'last\s+night|tonight|earlier\s+today|earlier\s+this\s+week'
                r'|the\s+other\s+day'), _fixed_phrase),
    (re.compile(WEEKEND), _the_weekend),
    (re.compile(rf'(?P<day>{DAY})'), _day_only),
    (re.compile(rf'(?P<at>{AT})\s+(?P<clock>{CLOCK})'), _clock_only),
    (re.compile(rf'(?P<clock>{CLOCK_MARKED})'), _clock_only),
    (re.compile(rf'(?P<n>{NUM}|half\s+an?)\s+(?P<unit>hours?|minutes?|mins?)\s+ago'),
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
    if name in TIME_OF_DAY_NAMES:
        return name
    return _meal_part(name)


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
            if text.lower().startswith('after') and end - start > MINUTE_S:
                start = end  # "after 3 pm" starts at 15:00, not at the end of that minute.
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
    "Monday"). Spans index into `text`. Words shaped like a time that name none ("at 25:00",
    "on February 30") are skipped; `unused_time_words` lists them.
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
            except BeyondCalendarError:
                raise  # a real date the calendar cannot hold: say so, never drop it
            except InvalidInputError:
                # "at 25:00" matches the shape but is no time; leave the words to the parser.
                continue
            taken.append((m.start(), m.end()))
            found.append(expression)
    found.sort(key=lambda e: e.span)
    return found


def unused_time_words(text: str, found: list[TimeExpression]) -> list[str]:
    """Date and time words of `text` outside every expression in `found`, lower case.

    `found` is what `find_times` returned for the same `text`. The words are month names and
    abbreviations ("may" and "march" only next to a day number: "may 3", "3 march"), a month
    with its day ("february 30", "3rd of nov"), weekday names, ISO dates, clock times
    ("25 pm", "25:00", "9 o'clock"), "weekend(s)", "noon", "midday", "midnight", "yesterday"
    and "tomorrow"; each once, in order. An empty list means every such word was understood;
    otherwise a caller can say which words it could not read ("on February 30" →
    ['february 30']) instead of answering without them.
    """
    spans = [e.span for e in found]
    words: list[str] = []
    for m in TIME_WORDS.finditer(text.lower()):
        if any(m.start() < hi and lo < m.end() for lo, hi in spans):
            continue
        word = ' '.join(m.group(0).split())
        if word not in words:
            words.append(word)
    return words


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
        '"last night", "two days ago", "on Monday", "Tuesday evening", "on November 3", '
        '"at 9 in the morning", "around 3 pm", "over the weekend", "since Tuesday", '
        '"between Monday and Wednesday", "in the morning", "after dinner"')
