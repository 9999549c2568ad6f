"""Detection statistics: how often an object in clear view is found, learned per class."""

from __future__ import annotations

import numpy as np
import pytest

from robot_memory.core.detection import DetectionStats
from tests.conftest import MONDAY_S
from tests.test_perception import _pipeline, _render


def test_a_miss_counts_only_once_the_object_is_found_again_in_place() -> None:
    stats = DetectionStats(prior_prob=0.9, prior_views=10.0)
    for _ in range(8):
        stats.seen('mug', 'object:1')
    stats.not_seen('mug', 'object:1')
    stats.not_seen('mug', 'object:1')
    assert stats.missed == {}  # maybe it left: not judged yet
    stats.seen('mug', 'object:1')
    assert stats.missed == {'mug': 2}
    pooled = (9 + 9.0) / (11 + 10.0)  # every class's counts with the prior
    assert stats.prob() == pytest.approx(pooled)
    assert stats.prob('mug') == pytest.approx((9 + pooled * 10.0) / (11 + 10.0))


def test_a_class_seen_a_few_times_starts_from_the_rate_of_all_classes() -> None:
    """Keys seen twice by a detector that found 500 objects and missed none are not held to
    the cautious prior: one empty view of their spot says they are gone, as for the rest."""
    stats = DetectionStats(prior_prob=0.9, prior_views=20.0, found={'mug': 500, 'keys': 2})
    assert stats.prob('keys') > 0.99
    assert stats.views_to_confirm_absence('keys') == 1
    noisy = DetectionStats(prior_prob=0.9, prior_views=20.0,
                           found={'mug': 700, 'keys': 2}, missed={'mug': 300})
    assert 0.65 < noisy.prob('keys') < 0.75  # a detector that misses: so would it keys
    assert noisy.views_to_confirm_absence('keys') == 3


def test_misses_before_a_confirmed_loss_were_right_and_do_not_count() -> None:
    stats = DetectionStats()
    stats.seen('mug', 'object:1')
    stats.not_seen('mug', 'object:1')
    stats.left('object:1')
    stats.seen('mug', 'object:1')
    assert stats.missed == {}


@pytest.mark.parametrize(('found', 'missed', 'views'), [
    (1000, 0, 1),  # never misses: one empty view says it is gone
    (900, 100, 2),  # misses one in ten: (0.1)^2 < 0.05
    (750, 250, 3),  # misses one in four: (0.25)^3 < 0.05
    (100, 900, 6),  # hardly ever finds it: capped
])
def test_empty_views_needed_follow_the_learned_miss_rate(found: int, missed: int,
                                                         views: int) -> None:
    stats = DetectionStats(found={'mug': found}, missed={'mug': missed})
    assert stats.views_to_confirm_absence('mug') == views


def test_the_pipeline_learns_that_its_detector_misses_a_visible_object() -> None:
    """A book in plain view is left out of every third frame's segments, then found again."""
    rng = np.random.default_rng(3)
    pipeline = _pipeline()
    book = [('book', 'blue', (2.5, 0.0, 1.0), 0.4)]
    for k in range(30):
        frame, _ = _render(book, MONDAY_S + k, rng)
        if k % 3 == 2:
            frame.segments[:] = 0  # the detector missed it this time
        pipeline.process(frame)
    stats = pipeline.detection
    assert stats.found['book'] >= 15 and stats.missed['book'] >= 5
    assert 0.6 < stats.prob('book') < 0.9
    assert pipeline.stats()['detection_prob_by_class']['book'] == round(stats.prob('book'), 4)
    assert len(pipeline.memory.object_ids) == 1
