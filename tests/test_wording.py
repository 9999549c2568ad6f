"""Tests of the answers' English: number, articles, days and months."""

from __future__ import annotations

import pytest

from robot_memory.core.wording import article, be, sentence_start, time_words


@pytest.mark.parametrize(('label', 'past', 'verb'), [
    ('glasses', False, 'are'), ('keys', True, 'were'), ('mug', False, 'is'),
    ('glass', True, 'was'), ('coffee_table', False, 'is'),
])
def test_the_verb_follows_the_number_of_the_class_name(label: str, past: bool,
                                                       verb: str) -> None:
    assert be(label, past) == verb


@pytest.mark.parametrize(('words', 'phrase'), [
    ('umbrella', 'an umbrella'), ('red mug', 'a red mug'), ('orange', 'an orange'),
    ('glasses', 'some glasses'),
])
def test_the_article_follows_the_first_sound_and_the_number(words: str, phrase: str) -> None:
    assert article(words) == phrase


@pytest.mark.parametrize(('text', 'words'), [
    ('since wednesday', 'since Wednesday'), ('between tuesday and Wednesday',
                                             'between Tuesday and Wednesday'),
    ('on may 3', 'on May 3'), ('on november 3', 'on November 3'), ('yesterday', 'yesterday'),
])
def test_days_and_months_are_capitalised(text: str, words: str) -> None:
    assert time_words(text) == words


def test_a_sentence_starts_upper_case_and_keeps_its_day_names() -> None:
    assert sentence_start('on Tuesday') == 'On Tuesday'
