"""Tests of time expressions resolved against the memory clock's local calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.exceptions import InvalidInputError
from robot_memory.language.timeexpr import (
    TimeKind,
    find_times,
    resolve_time,
    unused_time_words,
)

BERLIN = MemoryClock('Europe/Berlin')


def local(text: str, clock: MemoryClock = BERLIN) -> float:
    """Stamp of a local 'YYYY-MM-DD HH:MM' on the clock."""
    return clock.stamp(dt.datetime.strptime(text, '%Y-%m-%d %H:%M'))


# Friday 2026-11-06, 15:00 in Berlin.
NOW_S = local('2026-11-06 15:00')


# (text, kind, start, end, time_of_day) at NOW_S.
Case = tuple[str, TimeKind, str, str | None, str]

EXPRESSIONS: list[Case] = [
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
]


def check(text: str, kind: TimeKind, start: str, end: str | None, time_of_day: str,
          now_s: float = NOW_S) -> None:
    """`text` resolves alone to exactly this expression."""
    expression = resolve_time(text, BERLIN, now_s)
    assert expression.kind is kind
    assert expression.start_s == local(start)
    assert expression.end_s == (local(end) if end else None)
    assert expression.time_of_day == time_of_day
    assert expression.text == text
    assert expression.range.text == text




DATES: list[Case] = [
    ('on November 3', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('November 3rd', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('Nov 3', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('on Nov. 3', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('3 November', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('the 3rd of November', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('November the 3rd', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('on 2026-11-03', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('November 3, 2026', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('3 Nov 2026', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('on November 3, 2025', TimeKind.PERIOD, '2025-11-03 00:00', '2025-11-04 00:00', ''),
    ('on November 6', TimeKind.PERIOD, '2026-11-06 00:00', '2026-11-07 00:00', ''),
    ('on December 25', TimeKind.PERIOD, '2025-12-25 00:00', '2025-12-26 00:00', ''),
    ('May 3', TimeKind.PERIOD, '2026-05-03 00:00', '2026-05-04 00:00', ''),
    ('3 March', TimeKind.PERIOD, '2026-03-03 00:00', '2026-03-04 00:00', ''),
    ('on February 29', TimeKind.PERIOD, '2024-02-29 00:00', '2024-03-01 00:00', ''),
    ('November 3 in the morning', TimeKind.PERIOD, '2026-11-03 06:00', '2026-11-03 12:00',
     'morning'),
    ('on Nov 3 at 9 am', TimeKind.PERIOD, '2026-11-03 09:00', '2026-11-03 09:01', 'morning'),
    ('between November 2 and November 4', TimeKind.BETWEEN, '2026-11-02 00:00',
     '2026-11-05 00:00', ''),
    ('since November 2', TimeKind.SINCE, '2026-11-02 00:00', None, ''),
    ('after November 3', TimeKind.SINCE, '2026-11-04 00:00', None, ''),
]




@pytest.mark.parametrize(('now', 'start'), [
    ('2026-11-05 10:00', '2026-11-03 00:00'),  # this year
    ('2026-11-03 00:30', '2026-11-03 00:00'),  # today counts
    ('2026-11-02 10:00', '2025-11-03 00:00'),  # not yet this year: last year
])
def test_a_date_without_a_year_is_the_most_recent_that_started(now: str, start: str) -> None:
    expression = resolve_time('on November 3', BERLIN, local(now))
    assert (expression.start_s, expression.end_s) == (
        local(start), local(start) + 24 * 3600)


@pytest.mark.parametrize('text', ['on February 30', 'November 31', 'on 2026-13-01',
                                  'February 29, 2026', 'the 0th of May'])
def test_dates_that_do_not_exist_resolve_to_nothing(text: str) -> None:
    assert find_times(text, BERLIN, NOW_S) == []
    with pytest.raises(InvalidInputError):
        resolve_time(text, BERLIN, NOW_S)


CLOCK_TIMES: list[Case] = [
    ('at 9 in the morning', TimeKind.PERIOD, '2026-11-06 09:00', '2026-11-06 09:01', 'morning'),
    ('yesterday at 9 in the morning', TimeKind.PERIOD, '2026-11-05 09:00', '2026-11-05 09:01',
     'morning'),
    ('at 9 in the morning yesterday', TimeKind.PERIOD, '2026-11-05 09:00', '2026-11-05 09:01',
     'morning'),
    ('at 3 in the afternoon', TimeKind.PERIOD, '2026-11-06 15:00', '2026-11-06 15:01',
     'afternoon'),
    ('at 8 in the evening', TimeKind.PERIOD, '2026-11-05 20:00', '2026-11-05 20:01', 'evening'),
    ('at 8 at night', TimeKind.PERIOD, '2026-11-05 20:00', '2026-11-05 20:01', 'evening'),
    ('at 2 at night', TimeKind.PERIOD, '2026-11-06 02:00', '2026-11-06 02:01', 'night'),
    ("at 9 o'clock in the morning", TimeKind.PERIOD, '2026-11-06 09:00', '2026-11-06 09:01',
     'morning'),
    ('around 3 pm', TimeKind.PERIOD, '2026-11-06 14:30', '2026-11-06 15:30', 'afternoon'),
    ('about 3pm', TimeKind.PERIOD, '2026-11-06 14:30', '2026-11-06 15:30', 'afternoon'),
    ('approximately 10:15', TimeKind.PERIOD, '2026-11-06 09:45', '2026-11-06 10:45',
     'morning'),
    ('at around 9', TimeKind.PERIOD, '2026-11-06 08:30', '2026-11-06 09:30', 'morning'),
    ("9 o'clock", TimeKind.PERIOD, '2026-11-06 09:00', '2026-11-06 09:01', 'morning'),
    ('at 9', TimeKind.PERIOD, '2026-11-06 09:00', '2026-11-06 09:01', 'morning'),
    ('at 2', TimeKind.PERIOD, '2026-11-06 14:00', '2026-11-06 14:01', 'afternoon'),
    ('at 4', TimeKind.PERIOD, '2026-11-06 04:00', '2026-11-06 04:01', 'night'),  # 16:00 is ahead
    ('at 18', TimeKind.PERIOD, '2026-11-05 18:00', '2026-11-05 18:01', 'evening'),
    ('at noon', TimeKind.PERIOD, '2026-11-06 12:00', '2026-11-06 12:01', 'afternoon'),
    ('on Monday around 3 pm', TimeKind.PERIOD, '2026-11-02 14:30', '2026-11-02 15:30',
     'afternoon'),
    ('at 9 yesterday', TimeKind.PERIOD, '2026-11-05 09:00', '2026-11-05 09:01', 'morning'),
    ('yesterday at 5', TimeKind.PERIOD, '2026-11-05 17:00', '2026-11-05 17:01', 'evening'),
    ('yesterday 3 pm', TimeKind.PERIOD, '2026-11-05 15:00', '2026-11-05 15:01', 'afternoon'),
    ('at 9 on Monday morning', TimeKind.PERIOD, '2026-11-02 09:00', '2026-11-02 09:01',
     'morning'),
    ('this morning at 9', TimeKind.PERIOD, '2026-11-06 09:00', '2026-11-06 09:01', 'morning'),
    ('at 8 tonight', TimeKind.PERIOD, '2026-11-06 20:00', '2026-11-06 20:01', 'evening'),
    ('last night at 2', TimeKind.PERIOD, '2026-11-06 02:00', '2026-11-06 02:01', 'night'),
    ('last night at 11 pm', TimeKind.PERIOD, '2026-11-05 23:00', '2026-11-05 23:01', 'night'),
    ('since 9 am', TimeKind.SINCE, '2026-11-06 09:00', None, 'morning'),
    ('after 3 pm', TimeKind.SINCE, '2026-11-06 15:00', None, 'afternoon'),
    ('between 9 am and 11 am', TimeKind.BETWEEN, '2026-11-06 09:00', '2026-11-06 11:01', ''),
]




def test_a_bare_hour_is_the_most_recent_of_its_two_readings() -> None:
    late_s = local('2026-11-06 22:00')
    assert resolve_time('at 9', BERLIN, late_s).start_s == local('2026-11-06 21:00')
    assert resolve_time("9 o'clock", BERLIN, late_s).start_s == local('2026-11-06 21:00')
    early_s = local('2026-11-06 08:00')
    assert resolve_time('at 9', BERLIN, early_s).start_s == local('2026-11-05 21:00')


WEEKENDS: list[Case] = [
    ('at the weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', ''),
    ('on the weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', ''),
    ('over the weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', ''),
    ('during the weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', ''),
    ('the weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', ''),
    ('last weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', ''),
    ('this weekend', TimeKind.PERIOD, '2026-11-07 00:00', '2026-11-09 00:00', ''),
    ('since the weekend', TimeKind.SINCE, '2026-10-31 00:00', None, ''),
]


def test_the_weekend_on_a_sunday_is_the_one_in_progress() -> None:
    sunday_s = local('2026-11-08 10:00')
    check('over the weekend', TimeKind.PERIOD, '2026-11-07 00:00', '2026-11-09 00:00', '',
          sunday_s)
    check('last weekend', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-02 00:00', '', sunday_s)


MEALS: list[Case] = [
    ('after breakfast', TimeKind.TIME_OF_DAY, '2026-11-06 06:00', '2026-11-06 12:00',
     'morning'),
    ('before lunch', TimeKind.TIME_OF_DAY, '2026-11-06 06:00', '2026-11-06 12:00', 'morning'),
    ('after lunch', TimeKind.TIME_OF_DAY, '2026-11-06 12:00', '2026-11-06 17:00', 'afternoon'),
    ('after dinner', TimeKind.TIME_OF_DAY, '2026-11-05 17:00', '2026-11-05 22:00', 'evening'),
    ('before bed', TimeKind.TIME_OF_DAY, '2026-11-05 17:00', '2026-11-06 06:00', 'night'),
    ('at bedtime', TimeKind.TIME_OF_DAY, '2026-11-05 17:00', '2026-11-06 06:00', 'night'),
    ('yesterday after dinner', TimeKind.PERIOD, '2026-11-05 17:00', '2026-11-05 22:00',
     'evening'),
    ('after dinner yesterday', TimeKind.PERIOD, '2026-11-05 17:00', '2026-11-05 22:00',
     'evening'),
    ('on Monday after breakfast', TimeKind.PERIOD, '2026-11-02 06:00', '2026-11-02 12:00',
     'morning'),
    ('yesterday at lunch', TimeKind.PERIOD, '2026-11-05 12:00', '2026-11-05 17:00',
     'afternoon'),
    ('since yesterday after dinner', TimeKind.SINCE, '2026-11-05 17:00', None, 'evening'),
    ('after Monday', TimeKind.SINCE, '2026-11-03 00:00', None, ''),
]




RELATIVE_DAYS: list[Case] = [
    ('earlier this week', TimeKind.PERIOD, '2026-11-02 00:00', '2026-11-06 15:00', ''),
    ('a few days ago', TimeKind.PERIOD, '2026-11-03 00:00', '2026-11-04 00:00', ''),
    ('the other day', TimeKind.PERIOD, '2026-10-31 00:00', '2026-11-05 00:00', ''),
    ('in the past few days', TimeKind.SINCE, '2026-11-03 15:00', None, ''),
]




@pytest.mark.parametrize(('text', 'kind', 'start', 'end', 'time_of_day'),
                         EXPRESSIONS + DATES + CLOCK_TIMES + WEEKENDS + MEALS + RELATIVE_DAYS)
def test_expression_resolves_on_the_local_calendar(text: str, kind: TimeKind, start: str,
                                                   end: str | None, time_of_day: str) -> None:
    # Days, dates (the most recent year that reached them), clock times (a minute, or an hour
    # around), weekends, meals (parts of the day, not a since) and vague days.
    check(text, kind, start, end, time_of_day)


@pytest.mark.parametrize(('question', 'text', 'start', 'end'), [
    ('where was the mug the day before yesterday?', 'the day before yesterday',
     '2026-11-04 00:00', '2026-11-05 00:00'),
    ('Where was my phone on Nov 3 at 9 am?', 'on Nov 3 at 9 am', '2026-11-03 09:00',
     '2026-11-03 09:01'),
    ('Was the lamp on at 9?', 'at 9', '2026-11-06 09:00', '2026-11-06 09:01'),
    ('Where was the mug at 9 in the kitchen?', 'at 9', '2026-11-06 09:00', '2026-11-06 09:01'),
    ('Where did the cat sleep over the weekend?', 'over the weekend', '2026-10-31 00:00',
     '2026-11-02 00:00'),
    ('Where were the keys yesterday after dinner?', 'yesterday after dinner',
     '2026-11-05 17:00', '2026-11-05 22:00'),
    ('What did the robot see on 2026-11-03?', 'on 2026-11-03', '2026-11-03 00:00',
     '2026-11-04 00:00'),
])
def test_new_forms_are_found_inside_questions(question: str, text: str, start: str,
                                              end: str) -> None:
    found = find_times(question, BERLIN, NOW_S)
    assert [(e.text, e.start_s, e.end_s) for e in found] == [(text, local(start), local(end))]
    lo, hi = found[0].span
    assert question[lo:hi] == text


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
    'mondays are long', 'the thermostat was at 21 degrees', 'about 3 mugs', 'May I come in?',
    'the march was loud', 'at 2.5 metres', 'jan left it there',
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
        '"last night", "two days ago", "on Monday", "Tuesday evening", "on November 3", '
        '"at 9 in the morning", "around 3 pm", "over the weekend", "since Tuesday", '
        '"between Monday and Wednesday", "in the morning", "after dinner"')


@pytest.mark.parametrize(('question', 'words'), [
    ('Where was my phone on February 30?', ['february 30']),
    ('Was the lamp on at 25 pm?', ['25 pm']),
    ('meet me at 25:00', ['25:00']),
    ('Where was the mug on 2026-02-30?', ['2026-02-30']),
    ('What changed between Monday and February 30?', ['february 30']),
    ('Where was the mug in November?', ['november']),
    ('Where was the mug on mondays and at noonish?', []),
    ('Where was the mug on Novembr 3?', []),  # a misspelt month is no time word
    ('May I ask where the mug is?', []),
    ('Where is the mug?', []),
])
def test_unused_time_words_names_what_was_not_understood(question: str,
                                                         words: list[str]) -> None:
    assert unused_time_words(question, find_times(question, BERLIN, NOW_S)) == words


@pytest.mark.parametrize('text', [case[0] for case in (
    EXPRESSIONS + DATES + CLOCK_TIMES + MEALS + RELATIVE_DAYS)] + [
    'at the weekend', 'the weekend', 'last weekend', 'now'])
def test_every_resolvable_expression_leaves_no_unused_words(text: str) -> None:
    for question in (text, f'Where was the mug {text}?'):
        assert unused_time_words(question, find_times(question, BERLIN, NOW_S)) == []
