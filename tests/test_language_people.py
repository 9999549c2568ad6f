"""Parsing the questions people write: new shapes, categories, dates, context, the robot's own
room names, batch parsing, the intent classifier and its honesty, and the question scorer."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import (
    AttributeOf,
    Category,
    Changes,
    Contents,
    Count,
    Duration,
    Exists,
    Retrieve,
    Target,
    Usual,
    WhereWas,
)
from robot_memory.eval.questions import evaluate_questions, load_questions
from robot_memory.exceptions import InvalidInputError
from robot_memory.language.parser import QuestionParser, Vocabulary

NOW_S = 1794405600.0  # Wednesday 2026-11-11 14:00 UTC
QUESTIONS = Path(__file__).parent / 'data' / 'questions_people.tsv'


@pytest.fixture(scope='module')
def parser() -> QuestionParser:
    return QuestionParser(Vocabulary(), MemoryClock())


@pytest.fixture(scope='module')
def embedded() -> QuestionParser:
    from robot_memory.language.embeddings import default_embedder

    return QuestionParser(Vocabulary(), MemoryClock(), default_embedder())


@pytest.mark.parametrize(('question', 'shape', 'category'), [
    ("What's on the coffee table?", 'Contents', 'present'),
    ('what is in the fridge', 'Contents', 'present'),
    ('Is there anything on the kitchen counter?', 'Contents', 'present'),
    ('What was on the dining table yesterday?', 'Contents', 'past'),
    ('What drink is on the counter?', 'Contents', 'present'),
    ('What colour is the sofa?', 'AttributeOf', 'present'),
    ('What state is the oven in?', 'AttributeOf', 'present'),
    ('Is the laptop open or closed?', 'AttributeOf', 'present'),
    ('Is there any apple I can eat?', 'Exists', 'present'),
    ('Have you seen a toolbox anywhere?', 'Exists', 'past'),
    ('Were there boxes in the hallway yesterday?', 'Exists', 'past'),
    ('Do we have any bananas?', 'Exists', 'present'),
    ('Is there still a box in the hallway?', 'Exists', 'past_present'),
    ('How long has the package been by the front door?', 'Duration', 'multi_past'),
    ('how long has the laptop been open', 'Duration', 'multi_past'),
    ('Where can I make coffee?', 'Retrieve', 'present'),
    ('Where could I sit down to read?', 'Retrieve', 'present'),
    ('Where can I wash my hands?', 'Retrieve', 'present'),
    ('Where can I practice push-ups on the stairs?', 'Retrieve', 'present'),
    ('Is there somewhere to charge my phone?', 'Retrieve', 'present'),
    ('Where can I find my keys?', 'WhereIs', 'present'),
    ('Have you seen my keys anywhere?', 'LastSeen', 'past'),
    ('Is the mug still in the same spot as on Wednesday?', 'Changes', 'past_present'),
    ('Did the forklift move between Monday and Tuesday?', 'Changes', 'multi_past'),
    ('Did the forklift move between Monday and today?', 'Changes', 'multi_past'),
    ('Has the forklift moved since Monday?', 'Changes', 'past_present'),
    ('Where had the book been left on Tuesday?', 'WhereWas', 'past'),
    ('Where was the duck toy on Monday and on Tuesday?', 'WhereWas', 'multi_past'),
    ('Where was my phone on November 3?', 'WhereWas', 'past'),
    ('Where was the laptop at 9 in the morning?', 'WhereWas', 'past'),
    ('Where is the remote usually?', 'Usual', 'multi_past'),
    ('Where should I look for the umbrella?', 'Usual', 'past_present_future'),
    ('Where would be a good place to keep the charger?', 'Usual', 'past_present_future'),
    ('How many cups are in the sink?', 'Count', 'present'),
    ('I wonder whether the keys are still on the hook.', 'IsAt', 'past_present'),
    ("Describe what's in the kids' bedroom.", 'WhatIn', 'present'),
    ('When was the first time you saw the red suitcase?', 'WhenAppeared', 'past'),
])
def test_people_questions_get_their_shape_and_category(parser: QuestionParser, question: str,
                                                       shape: str, category: str) -> None:
    summary = parser.parse(question, NOW_S).to_dict()
    assert (summary['type'], summary['category']) == (shape, category), summary


def test_new_shapes_fill_their_slots(parser: QuestionParser) -> None:
    def query(text: str) -> object:
        result = parser.parse(text, NOW_S)
        assert result.ok, result.error
        return result.query

    assert query("What's on the coffee table?") == Contents('coffee_table', relation='on')
    drink = query('What drink is on the counter in the kitchen?')
    assert drink == Contents('counter', 'room:kitchen', kind='drink', relation='on')
    assert query('What colour is the sofa?') == AttributeOf(Target('sofa', text='sofa'), 'color')
    assert query('Is there any apple in the kitchen?') == Exists(
        Target('apple', text='apple'), 'room:kitchen')
    assert query('How long has the box been in the hallway?') == Duration(
        Target('box', text='box'), 'room:hallway')
    assert query('How long has the box been on the shoe rack?') == Duration(
        Target('box', text='box'), 'shoe_rack')
    assert query('How many cups are in the sink?') == Count(
        Target('cup', text='cups'), support='sink')
    retrieve = query('Where can I wash my hands?')
    assert retrieve == Retrieve('Where can I wash my hands?')
    usual = query('Where will the umbrella be tonight?')
    assert isinstance(usual, Usual) and usual.category is Category.PAST_PRESENT_FUTURE
    same = query('Is the mug still in the same spot as on Monday?')
    assert isinstance(same, Changes) and same.target == Target('mug', text='mug')
    assert same.until.is_now and same.since.start_s is not None
    days = query('Where was the book on Monday and on Tuesday?')
    assert isinstance(days, WhereWas) and len(days.also) == 1
    assert days.also[0].start_s - days.at.start_s == pytest.approx(86400.0)


def test_dates_and_clock_times_are_used_or_named(parser: QuestionParser) -> None:
    dated = parser.parse('Where was my phone on November 3?', NOW_S)
    assert isinstance(dated.query, WhereWas)
    assert dated.query.at.start_s == MemoryClock().stamp(dt.datetime(2026, 11, 3))
    iso = parser.parse('Where was my phone on 2026-11-03?', NOW_S)
    assert isinstance(iso.query, WhereWas)
    assert iso.query.at.start_s == dated.query.at.start_s
    nine = parser.parse('Where was the laptop at 9 in the morning?', NOW_S)
    assert (nine.query.at.end_s - nine.query.at.start_s) == 60.0
    bad = parser.parse('Where was my phone on February 30?', NOW_S)
    assert not bad.ok and "'february 30'" in bad.error
    assert bad.to_dict()['type'] is None


def test_context_before_the_question_and_a_pronoun(parser: QuestionParser) -> None:
    result = parser.parse('We had guests over the weekend. What changed in the living room '
                          'since Friday?', NOW_S)
    assert isinstance(result.query, Changes) and result.query.room == 'room:living_room'
    assert result.matched['context'] == 'We had guests over the weekend.'
    borrowed = parser.parse('Someone borrowed the book yesterday. Where was it on Monday?',
                            NOW_S)
    assert isinstance(borrowed.query, WhereWas)
    assert borrowed.query.target.label == 'book'


def test_rooms_and_regions_come_from_the_robots_own_vocabulary() -> None:
    vocabulary = Vocabulary.from_names(['pallet', 'forklift'], ['aisle_1', 'aisle_2', 'aisle_3',
                                                                'loading_dock',
                                                                'upstairs_living_room'])
    parser = QuestionParser(vocabulary, MemoryClock())
    assert parser.parse('How many pallets are in aisle 3?', NOW_S).query == Count(
        Target('pallet', text='pallets'), 'room:aisle_3')
    assert parser.parse('Is the forklift at the loading dock?', NOW_S).query.room == \
        'room:loading_dock'
    assert parser.parse('What is in the upstairs living room?', NOW_S).query.room == \
        'room:upstairs_living_room'
    unknown = parser.parse('How many pallets are in aisle 9?', NOW_S)
    assert not unknown.ok and unknown.error.startswith("unknown room 'aisle 9'")
    assert unknown.to_dict()['type'] == 'Count'  # the shape is known, the room is not


def test_a_class_in_the_taxonomy_is_not_matched_to_another(embedded: QuestionParser) -> None:
    result = embedded.parse('Have you seen a toolbox anywhere?', NOW_S)
    assert result.query.target.label == 'toolbox' and result.matched['label_match'] == 'class'
    assert embedded.parse('Is there any fruit?', NOW_S).query.target.label == 'fruit'


def test_the_classifier_reads_what_no_rule_does_and_says_when_it_is_unsure(
        embedded: QuestionParser) -> None:
    forced = embedded.parse('Tell me everywhere the laptop has travelled to.', NOW_S)
    assert forced.ok and forced.matched['rule'].startswith(('classifier:', 'history'))
    strict = QuestionParser(Vocabulary(), MemoryClock(), embedded.embedder,
                            min_intent_margin=1.0)
    unsure = strict.parse('Tell me a joke about the mug', NOW_S)
    assert not unsure.ok and unsure.error.startswith('I am not sure what')
    summary = unsure.to_dict()
    assert summary['unsure'] and summary['type'] is None


def test_parse_many_gives_what_parse_gives(embedded: QuestionParser) -> None:
    questions = [q.question for q in load_questions(QUESTIONS)][:60]
    one_by_one = [embedded.parse(q, NOW_S).to_dict() for q in questions]
    batched = [r.to_dict() for r in embedded.parse_many(questions, NOW_S)]
    for a, b in zip(one_by_one, batched, strict=True):
        a['matched'].pop('parse_ms'), b['matched'].pop('parse_ms')
        assert a == b


def test_the_question_file_scores_types_and_categories() -> None:
    result = evaluate_questions(QUESTIONS, now_s=NOW_S)
    assert result['questions'] >= 200
    assert result['type_accuracy'] >= 0.9
    assert set(result) >= {'type_accuracy', 'category_accuracy', 'unsure_rate', 'misses'}
    assert all({'question', 'expected', 'got'} <= set(m) for m in result['misses'])


def test_question_files_in_three_formats_and_bad_ones(tmp_path: Path) -> None:
    jsonl = tmp_path / 'q.jsonl'
    jsonl.write_text(json.dumps({'question': 'Where is the mug?', 'type': 'WhereIs',
                                 'category': 'present'}) + '\n')
    yaml_file = tmp_path / 'q.yaml'
    yaml_file.write_text('- {question: "What is on the desk?", type: Contents, '
                         'category: present}\n')
    assert load_questions(jsonl)[0].type == 'WhereIs'
    assert load_questions(yaml_file)[0].type == 'Contents'
    bad = tmp_path / 'bad.tsv'
    bad.write_text('WhereIs\tpresent\n')
    with pytest.raises(InvalidInputError, match='expected 3 tab-separated fields'):
        load_questions(bad)
    bad.write_text('Wherever\tpresent\tWhere is it?\n')
    with pytest.raises(InvalidInputError, match="unknown type 'Wherever'"):
        load_questions(bad)


def test_parse_file_prints_one_json_line_per_question(tmp_path: Path) -> None:
    questions = tmp_path / 'questions.txt'
    questions.write_text('# a comment\nWhat is on the coffee table?\n\nHow long has the box '
                         'been in the hallway?\nTell me a joke\n')
    done = subprocess.run([sys.executable, '-m', 'robot_memory.cli', 'parse', '--file',
                           str(questions), '--no-embeddings', '--now', str(NOW_S)],
                          capture_output=True, text=True, timeout=120, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line['type'] for line in lines] == ['Contents', 'Duration', None]
    assert all({'type', 'category', 'target', 'room', 'time', 'error'} <= set(line)
               for line in lines)
    assert lines[2]['error'].startswith('could not tell what')
    assert 'questions/s' in done.stderr
