"""Tests of the short-term object-state buffer."""

from __future__ import annotations

import numpy as np
import pytest

from robot_memory.core import BufferParams, ChangeKind, EvictionPolicy, ShortTermBuffer
from robot_memory.exceptions import InvalidInputError


def _fill(buffer: ShortTermBuffer, ids: list[str], t0: float = 0.0) -> None:
    for k, object_id in enumerate(ids):
        buffer.touch(object_id, t0 + k)


def test_a_candidate_is_confirmed_after_k_agreeing_observations() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=3, confirm_tau_s=100.0))
    results = [buffer.propose('a', ChangeKind.STATE_CHANGED, 'on', t, t) for t in (1, 2, 3)]
    assert results[:2] == [None, None]
    assert results[2].value == 'on' and results[2].count == 3
    assert results[2].obs_ids == (1, 2, 3)
    assert buffer.pending() == []


def test_a_candidate_is_confirmed_when_it_persists_tau_seconds() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=10, confirm_tau_s=5.0))
    assert buffer.propose('a', ChangeKind.MOVED, 'x', 0.0, 1) is None
    confirmed = buffer.propose('a', ChangeKind.MOVED, 'x', 6.0, 2)
    assert confirmed is not None and confirmed.first_s == 0.0


def test_absences_can_need_more_views_than_other_changes() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=2, confirm_k_removed=3, confirm_tau_s=1.0))
    results = [buffer.propose('a', ChangeKind.REMOVED, 'x', t, t) for t in (0.0, 5.0, 9.0)]
    assert results[:2] == [None, None]  # no time shortcut for absences
    assert results[2] is not None and results[2].count == 3
    assert buffer.propose('b', ChangeKind.MOVED, 'y', 0.0, 1) is None
    assert buffer.propose('b', ChangeKind.MOVED, 'y', 0.5, 2) is not None
    with pytest.raises(InvalidInputError):
        BufferParams(confirm_k_removed=-1)


def test_a_contradicted_candidate_is_dropped_as_transient() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=3))
    buffer.propose('a', ChangeKind.MOVED, 'x', 0.0, 1)
    assert buffer.contradict('a', ChangeKind.MOVED) == 1
    assert buffer.stats.dropped_transient == 1
    assert buffer.pending('a') == []


def test_disagreeing_evidence_restarts_the_candidate() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=2, confirm_tau_s=100.0))
    buffer.propose('a', ChangeKind.STATE_CHANGED, 'on', 0.0, 1)
    assert buffer.propose('a', ChangeKind.STATE_CHANGED, 'off', 1.0, 2) is None
    assert buffer.pending('a')[0].value == 'off'


def test_positions_of_a_confirmed_move_are_averaged() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=2))
    near = lambda a, b: True  # noqa: E731
    buffer.propose('a', ChangeKind.MOVED, 'x', 0.0, 1, position=(1.0, 0.0, 0.0), agrees=near)
    done = buffer.propose('a', ChangeKind.MOVED, 'x', 0.1, 2, position=(2.0, 0.0, 0.0),
                          agrees=near)
    assert done.value == (1.5, 0.0, 0.0)


def test_old_unconfirmed_candidates_expire() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=3, drop_after_s=10.0))
    buffer.propose('a', ChangeKind.REMOVED, None, 0.0, 1)
    assert buffer.expire(5.0) == 0
    assert buffer.expire(11.0) == 1


@pytest.mark.parametrize(('policy', 'survivor', 'victim'), [
    (EvictionPolicy.LRU, 'a', 'b'),
    (EvictionPolicy.FIFO, 'b', 'a'),
    (EvictionPolicy.LFU, 'a', 'b'),
])
def test_each_policy_evicts_its_own_victim(policy: EvictionPolicy, survivor: str,
                                            victim: str) -> None:
    buffer = ShortTermBuffer(BufferParams(capacity=2, policy=policy))
    _fill(buffer, ['a', 'b'])
    buffer.touch('a', 5.0)  # a is now recent and used twice
    buffer.touch('c', 6.0)
    assert buffer.has(survivor) and not buffer.has(victim) and buffer.has('c')


def test_the_value_policy_keeps_entries_with_pending_changes() -> None:
    buffer = ShortTermBuffer(BufferParams(capacity=2, policy=EvictionPolicy.VALUE))
    buffer.touch('chair', 0.0, mobility='furniture')
    buffer.propose('chair', ChangeKind.MOVED, 'x', 0.0, 1)
    buffer.touch('mug', 1.0)
    buffer.touch('keys', 2.0)
    assert buffer.has('chair') and not buffer.has('mug')
    assert buffer.stats.evictions == 1


def test_hit_rate_counts_lookups() -> None:
    buffer = ShortTermBuffer(BufferParams(capacity=4))
    for object_id in ['a', 'b', 'a', 'a']:
        buffer.touch(object_id, 0.0)
    assert buffer.stats.hit_rate == pytest.approx(0.5)


def test_the_buffer_never_exceeds_its_capacity() -> None:
    rng = np.random.default_rng(0)
    for policy in EvictionPolicy:
        buffer = ShortTermBuffer(BufferParams(capacity=16, policy=policy))
        for t, k in enumerate(rng.integers(0, 100, 2000)):
            buffer.touch(f'o{k}', float(t))
            assert len(buffer) <= 16


def test_an_unknown_policy_names_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError,
                       match="unknown eviction policy 'mru'; valid: lru, lfu, fifo, value"):
        BufferParams(policy='mru')
