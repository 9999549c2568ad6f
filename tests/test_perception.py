"""Tests of perception: decoding, back-projection, association, negative evidence."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from robot_memory.core import (
    BufferParams,
    CameraIntrinsics,
    EpisodicMemory,
    Frame,
    RoomAttributes,
    SceneGraph,
    SegmentLabel,
)
from robot_memory.core.events import FactKey
from robot_memory.perception.association import Track
from robot_memory.perception.coverage import ViewHistory
from robot_memory.perception.frames import (
    FrameRejected,
    decode_color,
    decode_depth,
    parse_label_map,
)
from robot_memory.perception.negative import clear_views
from robot_memory.perception.observations import ExtractionParams, extract_observations
from robot_memory.perception.pipeline import MappingPipeline, PipelineParams
from tests.conftest import MONDAY_S

CAM = CameraIntrinsics.from_fov(160, 120, 69.0)
# Optical frame (z forward, x right, y down) looking along map +x from 1 m height.
MAP_T_CAM = np.array([[0.0, 0.0, 1.0, 0.0],
                      [-1.0, 0.0, 0.0, 0.0],
                      [0.0, -1.0, 0.0, 1.0],
                      [0.0, 0.0, 0.0, 1.0]])
WALL_M = 4.0


def _render(objects: list[tuple[str, str, tuple[float, float, float], float]], stamp: float,
            rng: np.random.Generator, index: int = 0) -> tuple[Frame, dict[int, int]]:
    """A wall at 4 m and axis-aligned cubes (label, colour, centre in map, side).

    Segment ids are shuffled per frame; returns the frame and segment id → object index.
    """
    depth = np.full((CAM.height, CAM.width), WALL_M, np.float32)
    segments = np.zeros((CAM.height, CAM.width), np.int32)
    ids = rng.permutation(np.arange(1, len(objects) + 1) * 7)
    labels, truth = {}, {}
    # Far to near so nearer cubes overwrite farther ones.
    for k in sorted(range(len(objects)), key=lambda i: -objects[i][2][0]):
        label, colour, (x, y, z), side = objects[k]
        front = x - side / 2
        us = [CAM.fx * (-(y + s * side / 2)) / front + CAM.cx for s in (1, -1)]
        vs = [CAM.fy * (-(z + s * side / 2 - 1.0)) / front + CAM.cy for s in (1, -1)]
        u0, u1 = (max(int(np.ceil(min(us))), 0), min(int(np.floor(max(us))), CAM.width - 1))
        v0, v1 = (max(int(np.ceil(min(vs))), 0), min(int(np.floor(max(vs))), CAM.height - 1))
        depth[v0:v1 + 1, u0:u1 + 1] = front
        segments[v0:v1 + 1, u0:u1 + 1] = ids[k]
        labels[int(ids[k])] = SegmentLabel(label, {'color': colour})
        truth[int(ids[k])] = k
    rgb = np.full((CAM.height, CAM.width, 3), 128, np.uint8)
    return Frame(stamp, rgb, depth, segments, labels, MAP_T_CAM, CAM, index), truth


def _layout() -> SceneGraph:
    graph = SceneGraph()
    graph.add_room('room:kitchen', RoomAttributes(
        'kitchen', 'kitchen', ((-1.0, -3.0), (5.0, -3.0), (5.0, 3.0), (-1.0, 3.0))))
    return graph


def _pipeline() -> MappingPipeline:
    memory = EpisodicMemory()
    params = PipelineParams(buffer=BufferParams(confirm_k=3, confirm_tau_s=60.0))
    return MappingPipeline(memory, _layout(), params)


def test_depth_in_millimetres_becomes_metres_with_zero_invalid() -> None:
    mm = np.array([[0, 1500], [2000, 65535]], dtype='<u2')
    depth = decode_depth(mm.tobytes(), '16UC1', 2, 2)
    assert np.isnan(depth[0, 0])
    assert depth[0, 1] == pytest.approx(1.5) and depth[1, 0] == pytest.approx(2.0)


def test_bgr_is_swapped_to_rgb_and_row_padding_is_skipped() -> None:
    row = bytes([1, 2, 3, 4, 5, 6]) + b'\x00\x00'  # two pixels + 2 bytes of padding
    rgb = decode_color(row * 2, 'bgr8', 2, 2, step=8)
    assert rgb[0, 0].tolist() == [3, 2, 1] and rgb[1, 1].tolist() == [6, 5, 4]


@pytest.mark.parametrize(('call', 'reason'), [
    (lambda: decode_depth(b'\x00' * 10, '32FC1', 4, 4), 'bad_size'),
    (lambda: decode_depth(b'\x00' * 64, 'rgba8', 4, 4), 'bad_encoding'),
    (lambda: parse_label_map('{not json'), 'bad_labels'),
    (lambda: parse_label_map('{"x": "mug"}'), 'bad_labels'),
])
def test_bad_input_is_rejected_with_a_reason(call: object, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        call()
    assert err.value.reason == reason


def test_label_maps_accept_names_or_records() -> None:
    labels = parse_label_map('{"labels": {"3": "mug", "4": {"label": "lamp", "state": "on"}}}')
    assert labels[3].label == 'mug' and labels[4].attributes['state'] == 'on'


def test_segments_below_the_score_threshold_are_counted_and_skipped() -> None:
    rng = np.random.default_rng(6)
    frame, _ = _render([('mug', 'red', (2.0, 0.8, 1.1), 0.3), ('book', 'blue', (2.5, -0.5, 1.0),
                                                              0.3)], MONDAY_S, rng)
    low = {k: SegmentLabel(v.label, v.attributes, 0.4 if v.label == 'mug' else 0.9)
           for k, v in frame.labels.items()}
    frame = replace(frame, labels=low)
    skipped: dict[str, int] = {}
    kept = extract_observations(frame, ExtractionParams(min_confidence=0.5), skipped)
    assert [o.observation.label for o in kept] == ['book']
    assert skipped == {'low_confidence': 1}
    assert len(extract_observations(frame)) == 2


def test_a_segment_back_projects_to_its_object() -> None:
    rng = np.random.default_rng(0)
    frame, _ = _render([('mug', 'red', (2.0, 0.3, 1.1), 0.3)], MONDAY_S, rng)
    (seen,) = extract_observations(frame)
    x, y, z = seen.observation.centroid_m
    assert x == pytest.approx(1.85, abs=0.03)  # the visible front face
    assert y == pytest.approx(0.3, abs=0.03) and z == pytest.approx(1.1, abs=0.03)
    assert seen.observation.extent_m[1] == pytest.approx(0.3 * 0.9, abs=0.06)


def test_nan_depth_wrong_sizes_and_unknown_labels_are_counted_not_raised() -> None:
    rng = np.random.default_rng(1)
    pipeline = _pipeline()
    frame, _ = _render([('mug', 'red', (2.0, 0.3, 1.1), 0.3)], MONDAY_S, rng)
    nan_frame = Frame(MONDAY_S + 1, frame.rgb, np.full_like(frame.depth_m, np.nan),
                      frame.segments, frame.labels, MAP_T_CAM, CAM)
    small = Frame(MONDAY_S + 2, frame.rgb, frame.depth_m[:10], frame.segments, frame.labels,
                  MAP_T_CAM, CAM)
    unknown = Frame(MONDAY_S + 3, frame.rgb, frame.depth_m, frame.segments, {}, MAP_T_CAM,
                    CAM)
    bad_pose = Frame(MONDAY_S + 4, frame.rgb, frame.depth_m, frame.segments, frame.labels,
                     np.full((4, 4), np.nan), CAM)
    results = [pipeline.process(f) for f in (nan_frame, small, unknown, bad_pose)]
    assert [r.accepted for r in results] == [True, False, True, False]
    assert pipeline.skips['size_mismatch'] == 1
    assert pipeline.skips['bad_pose'] == 1
    assert pipeline.skips['segment_unknown_label'] == 1
    assert results[0].observations == 0


def test_out_of_order_frames_are_skipped() -> None:
    rng = np.random.default_rng(2)
    pipeline = _pipeline()
    pipeline.process(_render([], MONDAY_S + 10, rng)[0])
    assert pipeline.process(_render([], MONDAY_S + 5, rng)[0]).skip_reason == 'out_of_order'


def test_identity_holds_across_days_with_shuffled_segment_ids() -> None:
    rng = np.random.default_rng(3)
    pipeline = _pipeline()
    scene = [('mug', 'red', (2.0, 0.8, 1.1), 0.2), ('mug', 'red', (2.0, -0.8, 1.1), 0.2),
             ('book', 'blue', (2.5, 0.0, 1.0), 0.3)]
    owners: dict[int, set[str]] = {0: set(), 1: set(), 2: set()}
    for day in range(3):
        for k in range(5):
            frame, truth = _render(scene, MONDAY_S + day * 86400 + k, rng, k)
            result = pipeline.process(frame)
            assert sorted(result.segment_objects) == sorted(truth)
            for seg_id, object_id in result.segment_objects.items():
                owners[truth[seg_id]].add(object_id)
    assert all(len(ids) == 1 for ids in owners.values())
    assert len(set.union(*owners.values())) == 3
    assert pipeline.memory.num_objects() == 3
    assert len(pipeline.memory.instances()) == 3
    assert pipeline.colours.agree > 10 and pipeline.colours.differ == 0
    assert pipeline.stats()['colour_flip_rate'] < 0.01


def test_a_moved_object_keeps_its_identity_and_is_one_change_at_the_next_look() -> None:
    rng = np.random.default_rng(4)
    pipeline = _pipeline()
    for k in range(4):
        pipeline.process(_render([('backpack', 'red', (2.0, 0.8, 1.0), 0.3)], MONDAY_S + k,
                                 rng)[0])
    (object_id,) = pipeline.memory.object_ids
    evening = MONDAY_S + 10 * 3600
    for k in range(4):
        pipeline.process(_render([('backpack', 'red', (3.0, -1.0, 1.0), 0.3)], evening + k,
                                 rng)[0])
    assert pipeline.memory.object_ids == [object_id]
    assert pipeline.memory.diff(MONDAY_S + 60, evening + 60).summary()['moved'] == [object_id]
    # One move, no loss in between, dated at the first look that showed it elsewhere.
    history = pipeline.memory.history(object_id).facts[FactKey.POSITION]
    assert len(history) == 2 and history[0].t_to == history[1].t_from == evening


def test_a_different_colour_at_the_same_spot_is_another_object() -> None:
    """The red mug put where the blue mug stood is not the blue mug, however close."""
    rng = np.random.default_rng(5)
    pipeline = _pipeline()
    for k in range(4):
        pipeline.process(_render([('mug', 'blue', (2.0, 0.8, 1.1), 0.2)], MONDAY_S + k, rng)[0])
    (blue,) = pipeline.memory.object_ids
    evening = MONDAY_S + 10 * 3600
    for k in range(4):
        result = pipeline.process(_render([('mug', 'red', (2.1, 0.8, 1.1), 0.2)], evening + k,
                                          rng)[0])
        assert blue not in result.segment_objects.values()
    colours = {pipeline.memory.history(o).color for o in pipeline.memory.object_ids}
    assert colours == {'blue', 'red'}


def test_colours_that_flicker_stop_ruling_matches_out() -> None:
    from robot_memory.perception.association import (
        AssociationParams,
        ColourReliability,
        Track,
        associate,
    )

    blue = Track('object:1', 'mug', 'blue', (1.0, 0.0, 0.8), (0.1, 0.1, 0.1), 'movable', 0.0,
                 confirmed=True)
    red_here = [('mug', 'red', (1.05, 0.0, 0.8))]
    trusted = ColourReliability()
    assert associate(red_here, [blue], 1, colours=trusted) == [None]
    assert trusted.differ == 1 and trusted.flip_rate < 0.03
    for _ in range(40):  # a detector that names every fifth colour wrongly
        for colour in ['blue'] * 4 + ['red']:
            trusted.count(colour, [blue], np.array([True]))
    assert trusted.flip_rate > AssociationParams().color_gate_max_flip
    assert associate(red_here, [blue], 1, colours=trusted) == [0]


def test_negative_evidence_closes_an_interval_when_the_spot_is_visible_and_empty() -> None:
    rng = np.random.default_rng(5)
    pipeline = _pipeline()
    for k in range(4):
        pipeline.process(_render([('keys', 'black', (2.0, 0.0, 1.0), 0.25)], MONDAY_S + k,
                                 rng)[0])
    later = MONDAY_S + 7200
    for k in range(4):
        pipeline.process(_render([], later + k, rng)[0])
    (object_id,) = pipeline.memory.object_ids
    assert not pipeline.memory.current(object_id).present
    assert pipeline.memory.diff(MONDAY_S + 60, later + 60).summary()['removed'] == [object_id]


def test_negative_evidence_does_not_close_an_interval_when_occluded() -> None:
    rng = np.random.default_rng(6)
    pipeline = _pipeline()
    for k in range(4):
        pipeline.process(_render([('keys', 'black', (2.5, 0.0, 1.0), 0.25)], MONDAY_S + k,
                                 rng)[0])
    later = MONDAY_S + 7200
    box = ('box', 'brown', (1.2, 0.0, 1.0), 0.8)  # in front, hiding the keys
    for k in range(6):
        pipeline.process(_render([box], later + k, rng)[0])
    keys = [o for o in pipeline.memory.object_ids
            if pipeline.memory.current(o).label == 'keys']
    assert pipeline.memory.current(keys[0]).present


def test_a_surface_just_in_front_of_an_object_hides_it() -> None:
    """A wall a hand's breadth in front of where the keys were (seen from the next room)."""
    rng = np.random.default_rng(8)
    pipeline = _pipeline()
    for k in range(4):
        pipeline.process(_render([('keys', 'black', (2.5, 0.0, 1.0), 0.4)], MONDAY_S + k,
                                 rng)[0])
    later = MONDAY_S + 7200
    screen = ('box', 'brown', (2.35, 0.0, 1.0), 0.6)  # its face 0.25 m before the keys' face
    for k in range(6):
        pipeline.process(_render([screen], later + k, rng)[0])
    (keys,) = [o for o in pipeline.memory.object_ids
               if pipeline.memory.current(o).label == 'keys']
    assert pipeline.memory.current(keys).present


def test_an_object_where_the_robot_had_looked_appeared_elsewhere_it_was_discovered() -> None:
    rng = np.random.default_rng(7)
    pipeline = _pipeline()
    for k in range(3):  # Monday: only the wall, a keys on the left
        pipeline.process(_render([('keys', 'black', (2.0, 0.8, 1.0), 0.25)], MONDAY_S + k,
                                 rng)[0])
    tuesday = MONDAY_S + 86400
    scene = [('keys', 'black', (2.0, 0.8, 1.0), 0.25), ('mug', 'red', (2.5, -0.5, 1.0), 0.2)]
    for k in range(3):
        pipeline.process(_render(scene, tuesday + k, rng)[0])
    memory = pipeline.memory
    (mug,) = [o for o in memory.object_ids if memory.current(o).label == 'mug']
    (keys,) = [o for o in memory.object_ids if memory.current(o).label == 'keys']
    assert not memory.is_discovery(mug)  # its spot was in clear view on Monday
    assert memory.is_discovery(keys)  # nothing had been seen before the first frame


def test_an_object_glimpsed_there_before_under_another_name_was_discovered_not_new() -> None:
    """On Monday the detector names the mug a toy in one frame (never confirmed) and misses
    it in the others; on Tuesday it is a mug, confirmed. Its spot was not empty on Monday:
    a discovery. A mug at a spot where nothing was glimpsed is new, as before."""
    rng = np.random.default_rng(9)
    pipeline = _pipeline()
    spot, other = (2.0, -0.5, 1.0), (2.0, 0.6, 1.0)
    pipeline.process(_render([('toy', 'red', spot, 0.25)], MONDAY_S, rng)[0])
    for k in range(1, 4):
        pipeline.process(_render([], MONDAY_S + k, rng)[0])
    tuesday = MONDAY_S + 86400
    scene = [('mug', 'red', spot, 0.25), ('mug', 'blue', other, 0.25)]
    for k in range(4):
        pipeline.process(_render(scene, tuesday + k, rng)[0])
    memory = pipeline.memory
    mugs = {memory.current(o).color: o for o in memory.object_ids
            if memory.current(o).label == 'mug'}
    assert memory.is_discovery(mugs['red'])
    assert not memory.is_discovery(mugs['blue'])
    assert not [o for o in memory.object_ids if memory.current(o).label == 'toy']


def test_the_view_history_stops_growing_when_patrols_repeat() -> None:
    """A week of patrols over the same places keeps a view per camera pose, not per frame."""
    from robot_memory.sim.backend import BuiltinSim, SimConfig
    from robot_memory.sim.renderer import CameraConfig

    sim = BuiltinSim(SimConfig(world='apartment', seed=3,
                               camera=CameraConfig(width=80, height=60)))
    history = ViewHistory()
    sizes, frames = [], 0
    for day in range(6):
        history.new_session()
        for frame in sim.patrol_day(day):
            history.update(frame)
            frames += 1
        sizes.append(len(history))
    assert sizes[-1] < 0.6 * frames  # far fewer views than frames …
    assert sizes[-1] - sizes[2] < 0.25 * (sizes[2] - sizes[0])  # … and little growth late on


def test_a_spot_counts_as_seen_empty_after_as_many_views_as_the_detector_needs() -> None:
    """A detector that misses now and then needs two empty-looking frames of a spot, from
    earlier patrols, before an object found there later counts as arrived; one frame, or
    frames of the patrol under way, are not enough."""
    rng = np.random.default_rng(2)
    history = ViewHistory()
    spot = (2.0, 0.0, 1.0)
    history.update(_render([], MONDAY_S, rng)[0])
    history.new_session()
    assert history.seen_before(spot, 'mug', 0.2)
    assert not history.seen_before(spot, 'mug', 0.2, views_needed=2)
    shifted = np.eye(4)
    shifted[1, 3] = 0.6  # the robot 0.6 m to the left, looking the same way
    frame = _render([], MONDAY_S + 60, rng)[0]
    history.update(replace(frame, map_T_camera=shifted @ frame.map_T_camera))
    history.update(_render([], MONDAY_S + 61, rng)[0])
    assert not history.seen_before(spot, 'mug', 0.2, views_needed=2)  # this patrol's
    history.new_session()
    assert history.seen_before(spot, 'mug', 0.2, views_needed=3)
    assert not history.seen_before(spot, 'mug', 0.2, views_needed=4)


def test_a_tall_thin_object_is_in_clear_view_when_its_silhouette_would_look_big_enough() -> None:
    """A toothbrush standing 17 cm tall and 2.4 cm wide, 1.2 m ahead: 2-3 px wide, but its
    silhouette (about 6 px square) is big enough to see; a coin of its width is not."""
    frame, _ = _render([], MONDAY_S, np.random.default_rng(1))
    toothbrush = Track('object:toothbrush', 'toothbrush', 'blue', (1.2, 0.0, 1.0),
                       (0.024, 0.024, 0.17), 'movable', MONDAY_S, confirmed=True)
    coin = Track('object:coin', 'coin', 'grey', (1.2, 0.0, 1.0), (0.024, 0.024, 0.003),
                 'movable', MONDAY_S, confirmed=True)
    shown = {v.track.object_id for v in clear_views(
        frame, {t.object_id: t for t in (toothbrush, coin)}, max_range_m=4.5, margin_px=4,
        min_size_px=5.0, occlusion_margin_m=0.05, occlusion_tolerance_m=0.3)}
    assert shown == {'object:toothbrush'}
