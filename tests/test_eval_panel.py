"""Panels: seed lists, summaries, a real run of worlds × seeds in worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from robot_memory.eval.panel import parse_seeds, parse_worlds, summarize
from robot_memory.exceptions import InvalidInputError


@pytest.mark.parametrize(('text', 'seeds'), [
    ('1-10', list(range(1, 11))),
    ('3,7,11', [3, 7, 11]),
    ('1-3,9', [1, 2, 3, 9]),
    ('5', [5]),
    ('2-3,3', [2, 3]),
])
def test_seed_lists_read_ranges_and_lists(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(('text', 'message'), [
    ('a-b', "bad seed list 'a-b': use numbers and ranges like 1-10 or 3,7,11"),
    ('9-3', "bad seed range '9-3': the end is before the start"),
    (',', "no seeds in ',': use e.g. 1-10 or 3,7,11"),
])
def test_bad_seed_lists_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_seeds(text)
    assert str(err.value) == message


def test_unknown_worlds_are_named_with_the_valid_ones() -> None:
    assert parse_worlds('apartment, house') == ['apartment', 'house']
    with pytest.raises(InvalidInputError, match="unknown world 'castle'; valid: apartment, "
                                                'house, office or a YAML spec file'):
        parse_worlds('apartment,castle')


def test_summaries_give_mean_min_max_and_totals_over_runs() -> None:
    runs = [{'p': 0.9, 'n': 1}, {'p': 0.7, 'n': 0}, {'p': None, 'n': 2}]
    out = summarize(runs, ['p', 'n'], counts=['n'])
    assert out['mean']['p'] == pytest.approx(0.8)
    assert (out['min']['p'], out['max']['p']) == (0.7, 0.9)
    assert out['total'] == {'n': 3}


@pytest.mark.slow
def test_a_mapping_panel_runs_each_world_and_seed_in_workers(tmp_path: Path) -> None:
    from robot_memory.eval.mapping import eval_mapping_panel

    png = tmp_path / 'panel.png'
    result = eval_mapping_panel([1, 2], ['apartment'], days=1, workers=2, png=png)
    assert [(r['world'], r['seed']) for r in result['runs']] == [('apartment', 1),
                                                                  ('apartment', 2)]
    values = [r['change_f1'] for r in result['runs']]
    assert result['mean']['change_f1'] == pytest.approx(sum(values) / 2)
    assert result['min']['object_recall'] == min(r['object_recall'] for r in result['runs'])
    assert result['panel']['runs'] == 2
    assert png.stat().st_size > 5000
