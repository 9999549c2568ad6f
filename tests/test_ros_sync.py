"""Tests of the stamp synchroniser (pure Python: no rclpy, no messages)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.sync import StampSynchroniser


def _sync(**kwargs: float) -> StampSynchroniser:
    return StampSynchroniser('depth', ('color', 'pose'), **kwargs)


def test_module_does_not_import_rclpy() -> None:
    code = ('import sys; import robot_memory.ros.sync; '
            'sys.exit(1 if "rclpy" in sys.modules else 0)')
    assert subprocess.run([sys.executable, '-c', code], check=False).returncode == 0


@pytest.mark.parametrize('order', list(itertools.permutations(['depth', 'color', 'pose'])))
def test_items_with_one_stamp_pair_in_any_arrival_order(order: tuple[str, ...]) -> None:
    sync = _sync()
    out = []
    for stream in order:
        out += sync.add(stream, 10.0, f'{stream}@10')
    assert len(out) == 1
    assert out[0].stamp_s == 10.0
    assert out[0].items == {'depth': 'depth@10', 'color': 'color@10', 'pose': 'pose@10'}
    assert sync.stats.matched == 1


def test_partner_within_tolerance_pairs_and_outside_drops_the_frame() -> None:
    sync = _sync(tolerance_s=0.02)
    assert sync.add('depth', 1.0, 'd1') == []
    assert sync.add('color', 1.01, 'c1') == []
    assert [m.items['color'] for m in sync.add('pose', 1.015, 'p1')] == ['c1']
    sync.add('depth', 2.0, 'd2')
    sync.add('pose', 2.0, 'p2')
    # colour skipped frame 2: its next image proves nothing for 2.0 will come
    assert sync.add('color', 3.0, 'c3') == []
    assert sync.stats.dropped['no_color'] == 1
    assert sync.pending()['depth'] == 0


def test_nearest_of_a_faster_stream_is_chosen_and_the_rest_discarded() -> None:
    sync = _sync(tolerance_s=0.02)
    for k in range(10):
        sync.add('pose', 1.0 + k * 0.01, f'p{k}')
    sync.add('color', 1.05, 'c')
    assert sync.add('depth', 1.052, 'd') == []  # a colour image nearer 1.052 may follow
    out = sync.add('color', 1.083, 'c_next')
    assert [(m.items['color'], m.items['pose']) for m in out] == [('c', 'p5')]
    assert sync.stats.discarded['pose'] >= 5


def test_latest_value_stands_in_for_a_stream_that_never_carried_stamps() -> None:
    sync = StampSynchroniser('depth', ('labels',))
    sync.set_latest('labels', {'1': 'mug'})
    out = sync.add('depth', 5.0, 'd')
    assert out[0].items['labels'] == {'1': 'mug'}


def test_stamped_items_take_over_from_the_latest_value() -> None:
    sync = StampSynchroniser('depth', ('labels',))
    sync.set_latest('labels', 'fixed')
    sync.add('labels', 6.0, 'stamped')
    assert sync.add('depth', 6.0, 'd')[0].items['labels'] == 'stamped'


def test_anchor_waits_for_a_stream_that_has_not_started() -> None:
    sync = StampSynchroniser('depth', ('info',))
    assert sync.add('depth', 1.0, 'd') == []
    assert sync.set_latest('info', 'K')[0].items == {'depth': 'd', 'info': 'K'}


def test_queue_overflow_drops_the_oldest_anchor() -> None:
    sync = _sync(queue_size=3)
    for k in range(5):
        sync.add('depth', float(k), k)
    assert sync.stats.dropped['queue_full'] == 2
    assert sync.pending()['depth'] == 3


def test_same_stamp_twice_replaces_the_item() -> None:
    sync = _sync()
    sync.add('color', 1.0, 'old')
    sync.add('color', 1.0, 'new')
    sync.add('pose', 1.0, 'p')
    assert sync.add('depth', 1.0, 'd')[0].items['color'] == 'new'


def test_long_random_stream_pairs_every_complete_frame() -> None:
    rng = np.random.default_rng(0)
    sync = _sync(tolerance_s=0.005)
    lag = {'depth': 0.0, 'color': 2.5, 'pose': 4.2}  # in frames: streams lag each other
    arrivals = []
    for k in range(200):
        t = 100.0 + k / 30.0
        for stream in ('depth', 'color', 'pose'):
            if stream != 'depth' and k % 17 == 0:
                continue  # a lost partner message
            # jitter below one frame keeps each stream in order, as DDS does per writer
            arrivals.append((k + lag[stream] + rng.uniform(0, 0.9), stream, t))
    matched = []
    for _, stream, t in sorted(arrivals):
        matched += sync.add(stream, t, (stream, t))
    lost = len([k for k in range(200) if k % 17 == 0])
    assert sync.stats.matched == len(matched) >= 200 - lost - 2
    assert all(m.items['color'][1] == m.items['pose'][1] == m.stamp_s for m in matched)


@pytest.mark.parametrize(('call', 'message'), [
    (lambda s: s.add('gps', 1.0, 'x'), "unknown stream 'gps'; valid: depth, color, pose"),
    (lambda s: s.add('depth', float('nan'), 'x'), 'stamp of depth must be finite, got nan'),
    (lambda s: s.set_latest('depth', 'x'),
     "the anchor stream 'depth' cannot hold a latest value"),
])
def test_misuse_raises_a_named_error(call: object, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        call(_sync())  # type: ignore[operator]
    assert str(info.value) == message


def test_stream_names_must_be_distinct() -> None:
    with pytest.raises(InvalidInputError, match='distinct'):
        StampSynchroniser('depth', ('depth',))
