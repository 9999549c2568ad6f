"""States read from pixels: only from views that can show them, and a change confirmed by as
many reads as the reader's reliability and the time since the last read call for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robot_memory.core import BufferParams, ChangeKind, ShortTermBuffer
from robot_memory.core.consolidation import Consolidator, ObservedFacts, state_reads_needed
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.events import FactKey
from robot_memory.core.types import ObjectObservation
from robot_memory.perception.attributes import PixelStateModel, SegmentPixels
from robot_memory.perception.observations import _occluded_share

DAY_S = 86400.0
GREY = np.full((400, 3), 90, np.uint8)


def _p_change(since_s: float, tau_s: float = DAY_S) -> float:
    return -math.expm1(-since_s / tau_s)


def test_a_reliable_reader_confirms_a_change_since_yesterday_with_one_read() -> None:
    assert state_reads_needed(0.02, _p_change(DAY_S), 0.1) == 1
    assert state_reads_needed(0.02, _p_change(6 * 3600), 0.1) == 1


def test_a_read_a_moment_after_the_last_one_needs_company() -> None:
    """Seconds after a read, a different read is far more likely the reader's error."""
    assert state_reads_needed(0.02, _p_change(2.0), 0.1) >= 3
    assert state_reads_needed(0.02, _p_change(3600), 0.1) == 2


def test_an_unreliable_reader_needs_more_reads_and_never_more_than_most() -> None:
    since = 6 * 3600
    assert state_reads_needed(0.1, _p_change(since), 0.1) > state_reads_needed(
        0.02, _p_change(since), 0.1)
    assert state_reads_needed(0.5, 0.5, 0.1) == 4  # a coin: as many as allowed
    assert state_reads_needed(0.45, 1e-6, 0.01, most=6) == 6


def test_the_buffer_confirms_a_state_change_after_the_reads_asked_for() -> None:
    buffer = ShortTermBuffer(BufferParams(confirm_k=2, confirm_tau_s=1.0))
    assert buffer.propose('a', ChangeKind.STATE_CHANGED, 'on', 0.0, 1, views_needed=1)
    results = [buffer.propose('b', ChangeKind.STATE_CHANGED, 'on', t, t, views_needed=3)
               for t in (0.0, 5.0, 9.0)]
    assert results[:2] == [None, None]  # no time shortcut either
    assert results[2] is not None and results[2].count == 3
    # The reads asked for when the first came stand: later ones (asking more, a moment after
    # a read) only add to them.
    assert buffer.propose('c', ChangeKind.STATE_CHANGED, 'on', 0.0, 1, views_needed=2) is None
    assert buffer.propose('c', ChangeKind.STATE_CHANGED, 'on', 1.0, 2, views_needed=4)


def test_one_read_after_a_night_changes_memory_and_one_a_second_later_does_not() -> None:
    memory = EpisodicMemory()
    consolidator = Consolidator(memory)
    kettle = 'object:000001'

    def see(t: float, state: str, reads: int) -> None:
        obs = ObjectObservation(int(t) + 1, t, 'kettle', (1.0, 2.0, 0.9), (0.2, 0.2, 0.25),
                                {'state': state}, 1.0, 0)
        consolidator.observe(kettle, obs, ObservedFacts(state_reads=reads))

    see(0.0, 'off', 0)
    see(1.0, 'off', 0)
    assert memory.current(kettle).state == 'off'
    see(DAY_S, 'on', 1)  # the next morning: one read is enough
    assert memory.current(kettle).state == 'on'
    history = memory.history(kettle).facts[FactKey.STATE]
    assert history[-1].t_from == DAY_S
    see(DAY_S + 1.0, 'off', 3)  # a second later: one odd read is not a change
    assert memory.current(kettle).state == 'on'


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """Object 1 in front of a wall at 3 m; object 2 (at 1.5 m) covers object 1's left third."""
    seg = np.zeros((60, 80), np.int32)
    depth = np.full((60, 80), 3.0)
    seg[20:40, 30:60] = 1
    depth[20:40, 30:60] = 2.5
    seg[15:45, 20:40] = 2
    depth[15:45, 20:40] = 1.5
    return seg, depth


def _share(seg: np.ndarray, depth: np.ndarray, seg_id: int) -> float:
    rows, cols = np.nonzero(seg == seg_id)
    return _occluded_share(seg, depth, seg_id, cols, rows)


def test_an_object_behind_another_is_seen_in_part_and_the_one_in_front_whole() -> None:
    seg, depth = _scene()
    behind, front = _share(seg, depth, 1), _share(seg, depth, 2)
    assert 0.15 < behind < 0.5  # its left edge runs along the nearer object
    assert front == 0.0
    depth[seg == 0] = np.nan  # no depth beyond it: nothing to say it is hidden
    assert _share(seg, depth, 2) == 0.0


def test_a_surface_it_stands_on_does_not_hide_it() -> None:
    """The table top just below an object's bottom edge is a hair nearer: not an occluder."""
    seg = np.zeros((60, 80), np.int32)
    depth = np.full((60, 80), 3.0)
    depth[40:, :] = np.linspace(2.49, 2.0, 20)[:, None]  # the table top, nearer downwards
    seg[20:40, 30:50] = 1
    depth[20:40, 30:50] = 2.5
    assert _share(seg, depth, 1) == 0.0


@pytest.mark.parametrize('cls,extent,state', [
    ('box', (0.3, 0.25, 0.2), 'closed'), ('box', (0.3, 0.25, 0.33), 'open'),
    ('laptop', (0.33, 0.23, 0.03), 'closed'), ('laptop', (0.33, 0.23, 0.21), 'open')])
def test_proportions_are_read_from_whole_views_only(cls: str, extent: tuple[float, ...],
                                                    state: str) -> None:
    model = PixelStateModel()
    ex = tuple(float(v) for v in extent)
    whole = SegmentPixels(cls, GREY, (ex[0], ex[1], ex[2]))
    cut = SegmentPixels(cls, GREY, (ex[0], ex[1], ex[2]), truncated=True)
    hidden = SegmentPixels(cls, GREY, (ex[0], ex[1], ex[2]), occluded=0.4)
    assert model.states([whole, cut, hidden]) == [state, '', '']


def test_proportions_on_the_line_or_of_a_sliver_are_no_reading() -> None:
    model = PixelStateModel()
    threshold = model.cues['box'].threshold
    seg = SegmentPixels('box', GREY, (0.3, 0.25, 0.3 * threshold * 1.02))
    sliver = SegmentPixels('box', GREY[:30], (0.02, 0.04, 0.19))  # a strip between two things
    assert model.states([seg, sliver]) == ['', '']


def test_light_is_on_from_any_view_and_off_only_from_one_that_shows_enough() -> None:
    model = PixelStateModel()
    lit = GREY.copy()
    lit[:100] = (255, 240, 200)
    dark_sliver = GREY[:20]
    assert model.states([SegmentPixels('lamp', lit, (0.2, 0.2, 0.4), occluded=0.6)]) == ['on']
    assert model.states([SegmentPixels('lamp', dark_sliver, (0.2, 0.2, 0.4),
                                       occluded=0.6)]) == ['']
    assert model.states([SegmentPixels('lamp', dark_sliver, (0.2, 0.2, 0.4))]) == ['off']
    assert model.states([SegmentPixels('lamp', GREY, (0.2, 0.2, 0.4), truncated=True)]) == [
        'off']  # cut by the border, but large: the lit part would show


def test_a_part_of_an_object_suggests_a_state_the_model_does_not_vouch_for() -> None:
    """A box cut by the image border: no reading, but a guess (it fills in a state memory
    does not know; `MappingPipeline._with_guess`)."""
    model = PixelStateModel()
    cut = SegmentPixels('box', GREY[:40], (0.3, 0.25, 0.33), truncated=True)
    on_the_line = SegmentPixels('box', GREY, (0.3, 0.25, 0.3 * model.cues['box'].threshold))
    assert model.states([cut, on_the_line]) == ['', '']
    assert model.guesses([cut, on_the_line]) == ['open', '']


def test_a_guess_fills_in_an_unknown_state_and_never_changes_a_known_one() -> None:
    from robot_memory.core import CameraIntrinsics, Frame, SegmentLabel
    from robot_memory.perception.pipeline import MappingPipeline

    memory = EpisodicMemory()
    pipeline = MappingPipeline(memory)
    cam = CameraIntrinsics(80, 60, 80.0, 80.0, 40.0, 30.0)
    pose = np.eye(4)  # looking along map +x from 1 m up (optical z forward, y down)
    pose[:3, :3] = [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
    pose[2, 3] = 1.0

    def frame(k: int, t: float, flaps_up: bool) -> Frame:
        """A box seen cut by the left border of the image (its state a guess only)."""
        depth = np.full((60, 80), np.nan, np.float32)
        seg = np.zeros((60, 80), np.int32)
        rgb = np.full((60, 80, 3), 200, np.uint8)
        top = 10 if flaps_up else 26  # 0.75 m or 0.35 m tall for 0.6 m wide at 2 m
        seg[top:40, 0:24] = 1
        depth[top:40, 0:24] = 2.0
        rgb[top:40, 0:24] = (120, 80, 40)
        return Frame(t, rgb, depth, seg, {1: SegmentLabel('box')}, pose, cam, k)

    for k, t in enumerate((0.0, 1.0, 2.0)):
        pipeline.process(frame(k, t, flaps_up=False))
    box = next(iter(memory.object_ids))
    before = memory.current(box).state
    assert before == 'closed'  # guessed: nothing better was seen
    for k, t in enumerate((DAY_S, DAY_S + 1, DAY_S + 2), start=3):
        pipeline.process(frame(k, t, flaps_up=True))
    assert memory.current(box).state == 'closed'  # a guess never changes what memory knows
