"""Tests of time expressions resolved against the memory clock's local calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.exceptions import InvalidInputError
from robot_memory.language.timeexpr import TimeKind, find_times, resolve_time

BERLIN = MemoryClock('Europe/Berlin')


def local(text: str, clock: MemoryClock = BERLIN) -> float:
    """Stamp of a local 'YYYY-MM-DD HH:MM' on the clock."""
    return clock.stamp(dt.datetime.strptime(text, '%Y-%m-%d %H:%M'))


# Friday 2026-11-06, 15:00 in Berlin.
NOW_S = local('2026-11-06 15:00')


@pytest.mark.parametrize(('text', 'kind', 'start', 'end', 'time_of_day'), [
    ('yesterday', TimeKind.PERIOD, '2026-11-05 00:00', '2026-11-06 00:00', ''),
    ('last night', TimeKind.PERIOD, '2026-11-05 17:00', '2026-11-06 06:00', 'night'),
    ('this morning', TimeKind.PERIOD, '2026-11-06 06:00', '2026-11-06 12:00', 'morning'),
    ('this afternoon', TimeKind.PERIOD, '2026-11-06 12:00', '2026-11-06 17:00', 'afternoon'),
    ('this evening', TimeKind.PERIOD, '2026-11-06 17:00', '2026-11-06 22:00', 'evening'),
    ('tonight', TimeKind.PERIOD, '2026-11-06 17:00', '2026-11-07 06:00', 'evening'),
    ('today', TimeKind.PERIOD, '2026-11-06 00:00', '2026-11-07 00:00', ''),
    ('earlier today', TimeKind.PERIOD, '2026-11-06 00:00', '2026-11-06 15:00', ''),
    ('two days ago', TimeKind.PERIOD, '2026-11-04 00:00', '2026-11-05 00:00', ''),
    ('2 days ago', TimeKind.PERIOD, '2026-11-04 00:00', '2026-11-05 00:00', ''),
    ('three days ago', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('a couple of days ago', TimeKind.PERIOD, '2026-11-04 00:00', '2026-11-05 00:00', ''),
    ('the day before yesterday', TimeKind.PERIOD, '2026-11-04 00:00', '2026-11-05 00:00', ''),
    ('a week ago', TimeKind.PERIOD, '2026-10-30 00:00', '2026-10-31 00:00', ''),
    ('on Monday', TimeKind.PERIOD, '2026-11-02 00:00', '2026-11-03 00:00', ''),
    ('Monday morning', TimeKind.PERIOD, '2026-11-02 06:00', '2026-11-02 12:00', 'morning'),
    ('on Tuesday evening', TimeKind.PERIOD, '2026-11-03 17:00', '2026-11-03 22:00', 'evening'),
    ('Wednesday night', TimeKind.PERIOD, '2026-11-04 17:00', '2026-11-05 06:00', 'night'),
    ('on Friday', TimeKind.PERIOD, '2026-11-06 00:00', '2026-11-07 00:00', ''),
    ('Friday morning', TimeKind.PERIOD, '2026-11-06 06:00', '2026-11-06 12:00', 'morning'),
    ('Friday evening', TimeKind.PERIOD, '2026-10-30 17:00', '2026-10-30 22:00', 'evening'),
    ('last Friday', TimeKind.PERIOD, '2026-10-30 00:00', '2026-10-31 00:00', ''),
    ('on Saturday', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-01 00:00', ''),
    ('this week', TimeKind.PERIOD, '2026-11-02 00:00', '2026-11-09 00:00', ''),
    ('last week', TimeKind.PERIOD, '2026-10-26 00:00', '2026-11-02 00:00', ''),
    ('yesterday at 3 pm', TimeKind.PERIOD, '2026-11-05 15:00', '2026-11-05 15:01', 'afternoon'),
    ('at 9:30 on Monday', TimeKind.PERIOD, '2026-11-02 09:30', '2026-11-02 09:31', 'morning'),
    ('at 9:30', TimeKind.PERIOD, '2026-11-06 09:30', '2026-11-06 09:31', 'morning'),
    ('at 4 pm', TimeKind.PERIOD, '2026-11-05 16:00', '2026-11-05 16:01', 'afternoon'),
    ('an hour ago', TimeKind.PERIOD, '2026-11-06 14:00', '2026-11-06 14:01', 'afternoon'),
    ('half an hour ago', TimeKind.PERIOD, '2026-11-06 14:30', '2026-11-06 14:31', 'afternoon'),
    ('since Tuesday', TimeKind.SINCE, '2026-11-03 00:00', None, ''),
    ('since yesterday morning', TimeKind.SINCE, '2026-11-05 06:00', None, 'morning'),
    ('after Monday', TimeKind.SINCE, '2026-11-03 00:00', None, ''),
    ('compared to Wednesday', TimeKind.SINCE, '2026-11-04 00:00', None, ''),
    ('in the past 3 days', TimeKind.SINCE, '2026-11-03 15:00', None, ''),
    ('over the last week', TimeKind.SINCE, '2026-10-30 15:00', None, ''),
    ('between Monday and Wednesday', TimeKind.BETWEEN, '2026-11-02 00:00', '2026-11-05 00:00',
     ''),
    ('from Monday morning to Wednesday night', TimeKind.BETWEEN, '2026-11-02 06:00',
     '2026-11-05 06:00', ''),
    ('in the morning', TimeKind.TIME_OF_DAY, '2026-11-06 06:00', '2026-11-06 12:00', 'morning'),
    ('in the evening', TimeKind.TIME_OF_DAY, '2026-11-05 17:00', '2026-11-05 22:00', 'evening'),
    ('at night', TimeKind.TIME_OF_DAY, '2026-11-05 17:00', '2026-11-06 06:00', 'night'),
    ('at lunchtime', TimeKind.TIME_OF_DAY, '2026-11-06 12:00', '2026-11-06 17:00', 'afternoon'),
    ('every morning', TimeKind.TIME_OF_DAY, '2026-11-06 06:00', '2026-11-06 12:00', 'morning'),
])
def test_expression_resolves_on_the_local_calendar(text: str, kind: TimeKind, start: str,
                                                   end: str | None, time_of_day: str) -> None:
    expression = resolve_time(text, BERLIN, NOW_S)
    assert expression.kind is kind
    assert expression.start_s == local(start)
    assert expression.end_s == (local(end) if end else None)
    assert expression.time_of_day == time_of_day
    assert expression.text == text
    assert expression.range.text == text


@pytest.mark.parametrize('text', ['', 'now', 'right now', 'currently', 'at the moment'])
def test_now_and_nothing_mean_the_present(text: str) -> None:
    expression = resolve_time(text, BERLIN, NOW_S)
    assert expression.kind is TimeKind.NOW
    assert expression.range.is_now


def test_last_night_before_six_is_the_night_in_progress() -> None:
    early_s = local('2026-11-06 03:00')
    for text in ('last night', 'tonight'):
        expression = resolve_time(text, BERLIN, early_s)
        assert (expression.start_s, expression.end_s) == (
            local('2026-11-05 17:00'), local('2026-11-06 06:00'))


def test_a_day_across_the_autumn_clock_change_lasts_25_hours() -> None:
    # Berlin leaves summer time on Sunday 2026-10-25.
    expression = resolve_time('yesterday', BERLIN, local('2026-10-26 10:00'))
    assert expression.end_s - expression.start_s == 25 * 3600


def test_days_follow_the_clock_timezone_not_utc() -> None:
    utc = MemoryClock('UTC')
    tokyo = MemoryClock('Asia/Tokyo')
    now_s = local('2026-11-06 00:30', utc)  # already 09:30 on Friday in Tokyo
    assert resolve_time('today', utc, now_s).start_s == local('2026-11-06 00:00', utc)
    assert resolve_time('today', tokyo, now_s).start_s == local('2026-11-06 00:00', tokyo)
    assert resolve_time('this morning', tokyo, now_s).start_s == local('2026-11-06 06:00',
                                                                       tokyo)


def test_find_times_reports_text_and_span_of_each_expression() -> None:
    question = 'What changed in the kitchen since Tuesday, right now?'
    found = find_times(question, BERLIN, NOW_S)
    assert [(e.kind, e.text) for e in found] == [
        (TimeKind.SINCE, 'since Tuesday'), (TimeKind.NOW, 'right now')]
    for expression in found:
        lo, hi = expression.span
        assert question[lo:hi] == expression.text


def test_longer_expressions_win_over_the_days_inside_them() -> None:
    found = find_times('between Monday and Wednesday', BERLIN, NOW_S)
    assert [e.kind for e in found] == [TimeKind.BETWEEN]


@pytest.mark.parametrize('question', [
    'meet me at 25:00', 'since when is it here', 'the last time', 'a lamp on the desk',
    'mondays are long',
])
def test_text_without_a_time_yields_none(question: str) -> None:
    assert find_times(question, BERLIN, NOW_S) == []


def test_future_and_past_are_told_apart() -> None:
    tomorrow = resolve_time('tomorrow', BERLIN, NOW_S)
    yesterday = resolve_time('yesterday', BERLIN, NOW_S)
    today = resolve_time('today', BERLIN, NOW_S)
    assert tomorrow.is_future(NOW_S) and not tomorrow.is_past(NOW_S)
    assert yesterday.is_past(NOW_S) and not yesterday.is_future(NOW_S)
    assert today.contains(NOW_S) and not today.is_past(NOW_S)


def test_the_probe_of_a_past_day_is_just_before_its_end() -> None:
    at = resolve_time('on Monday', BERLIN, NOW_S).range
    assert at.probe_s(NOW_S) == pytest.approx(local('2026-11-03 00:00') - 1e-3)


@pytest.mark.parametrize('text', ['next year', 'yesterday and today', 'at 25:00', 'soonish'])
def test_resolve_time_rejects_what_is_not_one_expression(text: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        resolve_time(text, BERLIN, NOW_S)
    assert str(excinfo.value) == (
        f'cannot resolve the time expression {text!r}; examples that work: "yesterday", '
        '"last night", "two days ago", "on Monday", "Tuesday evening", "since Tuesday", '
        '"between Monday and Wednesday", "in the morning"')
