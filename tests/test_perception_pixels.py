"""Memory reads colour, state and appearance from pixels, and copes with imperfect masks."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from robot_memory.core import CameraIntrinsics, Frame, SegmentLabel
from robot_memory.perception.association import Track, associate
from robot_memory.perception.attributes import (
    COLOUR_NAMES,
    PixelStateModel,
    SegmentPixels,
    appearance_distance,
    describe,
    estimate_illuminant,
    name_colour,
)
from robot_memory.perception.observations import extract_observations
from robot_memory.sim.appearance import dress, illuminant, object_parts
from robot_memory.sim.backend import BuiltinSim, SimConfig
from robot_memory.sim.catalog import COLORS, OBJECT_CATALOG
from robot_memory.sim.clock import SIM_EPOCH_S
from robot_memory.sim.parts import ObjectInstance, Placement

SHADES = (0.62, 0.77, 0.94)  # the home renderer's face shading: in shade … facing the light
EVENING = illuminant(19.0, 'bedroom', 3, 'home')
WALL = np.array((228, 225, 218), dtype=float)


def _scene(colour: str, gains: tuple[float, float, float], shades: tuple[float, ...],
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An image of lit walls with one object of a colour's own shade on faces of `shades`."""
    obj = dress(ObjectInstance('obj:mug_0', 'mug', colour, (0.1, 0.1, 0.1), 'movable'),
                'home', int(rng.integers(1000)))
    rgb = np.empty((120, 160, 3))
    rgb[:] = WALL * SHADES[-1]
    rgb[:, 80:] = WALL * SHADES[0]
    segments = np.zeros((120, 160), np.int32)
    for k, shade in enumerate(shades):
        rgb[40:80, 50 + 10 * k:60 + 10 * k] = np.asarray(obj.rgb, dtype=float) * shade
        segments[40:80, 50 + 10 * k:60 + 10 * k] = 1
    lit = np.clip(rgb * np.asarray(gains), 0, 255).astype(np.uint8)
    return lit, segments


@pytest.mark.parametrize('colour', sorted(COLORS))
def test_a_colour_is_named_right_under_evening_light_and_in_shadow(colour: str) -> None:
    """Daylight, a warm evening lamp, a dim room, and no face of the object towards the light.
    (Not asked: an object whose every face is in the deepest shade beside a brightly lit wall:
    a white one then looks grey, to this reader as to a camera.)"""
    rng = np.random.default_rng(sorted(COLORS).index(colour))
    assert EVENING[2] < 0.7 * EVENING[0]  # warm lamp light, not daylight
    for gains, shades in (((1.0, 0.99, 0.96), SHADES), (EVENING, SHADES),
                          (EVENING, SHADES[:2]), ((0.45, 0.36, 0.26), SHADES[:2])):
        rgb, segments = _scene(colour, gains, shades, rng)
        light = estimate_illuminant(rgb, segments)
        name, agree = name_colour(rgb[segments == 1], light)
        assert name == colour, (gains, shades, name)
        assert agree > 0.5


def test_white_balance_undoes_a_warm_light_that_fools_naive_naming() -> None:
    rgb, segments = _scene('white', (0.8, 0.62, 0.42), SHADES, np.random.default_rng(0))
    assert name_colour(rgb[segments == 1])[0] != 'white'  # as the camera sees it: orange-ish
    assert name_colour(rgb[segments == 1], estimate_illuminant(rgb, segments))[0] == 'white'


def _lamp(state: str, style: str = 'home') -> list:
    lamp = dress(ObjectInstance('obj:lamp_0', 'lamp', 'white', (0.25, 0.25, 0.45), 'static',
                                ('off', 'on')), style, 4)
    return object_parts(lamp, Placement('f:1', 'on', 0, (0.0, 0.0, 1.0), 'bedroom', state))


def test_a_lamp_that_is_on_shows_it_and_the_pixel_model_reads_on_and_off() -> None:
    on, off = _lamp('on'), _lamp('off')
    assert any(p.emissive for p in on) and not any(p.emissive for p in off)
    assert not any(p.emissive for p in _lamp('on', 'flat'))  # the flat world shows no state
    model = PixelStateModel()
    for state in ('on', 'off'):
        frame_light = 0.4  # a dim evening room: lit surfaces are dark, a light source is not
        pixels = []
        for part in (on if state == 'on' else off):
            colour = np.asarray(part.rgb, float) * (1.0 if part.emissive else frame_light)
            pixels.append(np.repeat(colour[None], 50, axis=0))
        seg = SegmentPixels('lamp', np.clip(np.vstack(pixels), 0, 255).astype(np.uint8),
                            (0.25, 0.25, 0.45))
        assert model.states([seg]) == [state]


def test_an_open_laptop_and_an_open_box_stand_taller_for_their_footprint() -> None:
    model = PixelStateModel()
    pixels = np.full((200, 3), 90, np.uint8)  # a view large enough to read
    for cls, size in (('laptop', (0.33, 0.23, 0.03)), ('box', (0.3, 0.25, 0.2))):
        obj = dress(ObjectInstance(f'obj:{cls}_0', cls, 'grey', size, 'movable',
                                   ('closed', 'open')), 'home', 2)
        for state in ('closed', 'open'):
            parts = object_parts(obj, Placement('f:1', 'on', 0, (0.0, 0.0, 1.0), 'study',
                                                state))
            lo = np.min([p.lo for p in parts], axis=0)
            hi = np.max([p.hi for p in parts], axis=0)
            extent = tuple(float(v) for v in hi - lo)
            assert model.states([SegmentPixels(cls, pixels, extent)]) == [state], cls


def test_the_home_world_reads_colours_and_states_from_its_own_frames() -> None:
    """A patrol of a home world: colours and states as the memory reads them, per sighting."""
    sim = BuiltinSim(SimConfig(world='apartment', seed=5))
    colours: Counter[bool] = Counter()
    states: Counter[bool] = Counter()
    for frame in sim.patrol_day(0):
        truth = sim.frame_truth(frame.frame_index)
        objects = sim.activity.state
        for seen in extract_observations(frame):
            true_id = truth.get(seen.segment_id, '')
            if true_id not in objects.objects or seen.num_points < 40:
                continue
            colours[seen.observation.attributes.get('color') ==
                    objects.objects[true_id].color] += 1
            true_state = objects.placements[true_id].state
            if true_state:
                states[seen.observation.attributes.get('state') == true_state] += 1
    assert sum(colours.values()) > 100 and sum(states.values()) > 10
    assert colours[True] / sum(colours.values()) > 0.9
    assert states[True] / sum(states.values()) > 0.9


def test_two_mugs_of_different_sizes_keep_their_identities_when_both_move() -> None:
    """Both mugs left their spots; two mugs turn up elsewhere. Identical ones would be left
    unpaired (nothing says which is which); these differ in size and band, so each is its own."""
    rng = np.random.default_rng(0)
    band = np.full((60, 3), (200, 40, 40), np.uint8)
    band[:15] = (235, 235, 235)
    plain = np.full((60, 3), (200, 40, 40), np.uint8)
    looks = [describe(band), describe(plain)]
    assert appearance_distance(looks[0], looks[1]) > 0.2
    tall = Track('object:1', 'mug', 'red', (1.0, 0.0, 0.8), (0.1, 0.1, 0.14), 'movable', 0.0,
                 session=0, confirmed=True, present=False, look=looks[0], height_m=0.14)
    short = Track('object:2', 'mug', 'red', (3.0, 0.0, 0.8), (0.1, 0.1, 0.09), 'movable', 0.0,
                  session=0, confirmed=True, present=False, look=looks[1], height_m=0.09)
    tracks = [tall, short]
    for order in (rng.permutation(2) for _ in range(3)):
        where = [(6.0, 2.0, 0.8), (6.0, -2.0, 0.8)]
        seen = [('mug', 'red', where[k]) for k in order]
        seen_looks = [((looks[0], 0.14), (looks[1], 0.09))[k] for k in order]
        result = associate(seen, tracks, 1, vacated={0, 1}, arrived=[True, True],
                           looks=seen_looks)
        assert result == [int(k) for k in order]
    # The same two without looks: identical look-alikes, memory does not pick.
    assert associate([('mug', 'red', (6.0, 2.0, 0.8)), ('mug', 'red', (6.0, -2.0, 0.8))],
                     [Track('object:1', 'mug', 'red', (1.0, 0.0, 0.8), (0.1,) * 3, 'movable',
                            0.0, 0, False, True),
                      Track('object:2', 'mug', 'red', (3.0, 0.0, 0.8), (0.1,) * 3, 'movable',
                            0.0, 0, False, True)], 1, vacated={0, 1},
                     arrived=[True, True]) == [None, None]


def test_objects_of_a_matched_set_look_identical_and_others_do_not() -> None:
    household: dict[str, ObjectInstance] = {}
    for k in range(40):
        obj = dress(ObjectInstance(f'obj:mug_{k}', 'mug', 'red', (0.09, 0.09, 0.1), 'movable'),
                    'home', 3, household)
        household[obj.obj_id] = obj
    groups = Counter(o.look_group for o in household.values())
    shared = [g for g, n in groups.items() if n > 1]
    assert shared, 'some mugs come from matched sets'
    for group in shared:
        members = [o for o in household.values() if o.look_group == group]
        assert len({(o.size_m, o.rgb, o.pattern) for o in members}) == 1
    singles = [o for o in household.values() if groups[o.look_group] == 1]
    assert len({(o.size_m, o.rgb) for o in singles}) == len(singles)
    flat = ObjectInstance('obj:mug_0', 'mug', 'red', (0.09, 0.09, 0.1), 'movable')
    assert dress(flat, 'flat', 3) is flat


def test_a_matched_pair_that_swapped_is_scored_indistinguishable() -> None:
    from robot_memory.eval.mapping import _switches
    from robot_memory.sim.truth import ObjectTruth, TruthLog

    def fact(obj_id: str, x: float, group: str) -> ObjectTruth:
        return ObjectTruth(obj_id, 'mug', 'red', '', 'kitchen', 'f:1', 'on', (x, 0.0, 0.9),
                           (0.1, 0.1, 0.1), 'movable', group)

    t0, t1, t2 = SIM_EPOCH_S, SIM_EPOCH_S + 3600, SIM_EPOCH_S + 7200
    for group_b, expected in (('obj:mug_0', 1), ('obj:mug_1', 0)):
        truth = TruthLog()
        truth.record(t0, fact('obj:mug_0', 0.0, 'obj:mug_0'), 'initial')
        truth.record(t0, fact('obj:mug_1', 5.0, group_b), 'initial')
        truth.record(t1 + 10, fact('obj:mug_0', 8.0, 'obj:mug_0'), 'move')
        truth.record(t1 + 20, fact('obj:mug_1', 2.0, group_b), 'move')
        sessions = [(t1, [('object:1', Counter({'obj:mug_0': 3}))]),
                    (t2, [('object:1', Counter({'obj:mug_1': 3}))])]
        assert _switches(truth, sessions) == (1, 1, 1, expected)


CAM = CameraIntrinsics.from_fov(160, 120, 69.0)
MAP_T_CAM = np.array([[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 1.0],
                      [0.0, 0.0, 0.0, 1.0]])


def _frame(segments: np.ndarray, depth: np.ndarray, labels: dict[int, SegmentLabel],
           rgb: np.ndarray | None = None) -> Frame:
    if rgb is None:
        rgb = np.full((*segments.shape, 3), (200, 40, 40), np.uint8)
    return Frame(SIM_EPOCH_S, rgb, depth.astype(np.float32), segments, labels, MAP_T_CAM, CAM,
                 0)


def test_a_split_mask_does_not_become_two_objects() -> None:
    """Now and then the network cuts a known backpack in two: the half is never confirmed.
    (Not covered: a cut in the very first frames, while the backpack is itself tentative.)"""
    from tests.test_perception import _pipeline, _render

    rng = np.random.default_rng(7)
    pipeline = _pipeline()
    scene = [('backpack', 'red', (2.0, 0.0, 1.1), 0.4)]
    for k in range(12):
        frame, truth = _render(scene, SIM_EPOCH_S + k, rng, k)
        if k in (5, 9):
            (seg,) = truth
            cols = np.flatnonzero((frame.segments == seg).any(axis=0))
            cut = frame.segments.copy()
            cut[:, cols[len(cols) // 2]:][cut[:, cols[len(cols) // 2]:] == seg] = 99
            frame = Frame(frame.stamp_s, frame.rgb, frame.depth_m, cut,
                          {**frame.labels, 99: frame.labels[seg]}, frame.map_T_camera,
                          frame.intrinsics, k)
            assert len(pipeline.process(frame).seen) == 2
        else:
            pipeline.process(frame)
    assert len(pipeline.memory.object_ids) == 1


def test_a_bleeding_mask_keeps_the_object_where_it_is() -> None:
    depth = np.full((120, 160), 4.0)
    depth[50:70, 70:90] = 2.0
    clean = np.zeros((120, 160), np.int32)
    clean[50:70, 70:90] = 5
    bled = np.zeros((120, 160), np.int32)
    bled[48:72, 68:92] = 5  # two pixels onto the wall behind
    labels = {5: SegmentLabel('mug')}
    (a,) = extract_observations(_frame(clean, depth, labels))
    (b,) = extract_observations(_frame(bled, depth, labels))
    assert math.dist(a.observation.centroid_m, b.observation.centroid_m) < 0.03
    assert b.observation.extent_m[0] < 0.2  # not stretched back to the wall


def test_a_merged_mask_does_not_make_one_object_vanish() -> None:
    from tests.test_perception import _layout, _pipeline, _render

    rng = np.random.default_rng(3)
    pipeline = _pipeline()
    scene = [('mug', 'red', (2.0, 0.3, 1.1), 0.2), ('mug', 'blue', (2.0, 0.08, 1.1), 0.2)]
    for k in range(4):
        pipeline.process(_render(scene, SIM_EPOCH_S + k, rng)[0])
    assert len(pipeline.memory.object_ids) == 2
    assert _layout() is not None
    later = SIM_EPOCH_S + 7200
    for k in range(6):
        frame, truth = _render(scene, later + k, rng)
        red, blue = sorted(truth, key=truth.get)
        merged = np.where(frame.segments == blue, red, frame.segments).astype(np.int32)
        labels = {red: frame.labels[red]}
        pipeline.process(Frame(frame.stamp_s, frame.rgb, frame.depth_m, merged, labels,
                               frame.map_T_camera, frame.intrinsics, k))
    view = pipeline.memory.at(later + 10)
    assert len(view.objects) == 2 and not view.missing


def test_the_detector_presets_err_on_masks_as_their_comment_says() -> None:
    from robot_memory.sim.detector import DETECTOR_PRESETS, DetectorNoise

    realistic = DETECTOR_PRESETS['realistic']
    assert realistic.attributes == 'pixels' and realistic.bleed_px == 2
    noise = DetectorNoise(realistic, list(OBJECT_CATALOG), list(COLORS), 0)
    segments = np.zeros((120, 160), np.int32)
    labels = {}
    for k in range(12):
        segments[10 + 8 * k:16 + 8 * k, 20:60] = k + 1
        labels[k + 1] = SegmentLabel('mug')
    counts = Counter()
    for _ in range(50):
        out_labels, out = noise.apply(dict(labels), segments.copy(), set(labels))
        counts['segments'] += len(out_labels)
        counts['grown'] += int(np.count_nonzero(out) > np.count_nonzero(segments) * 1.1)
    assert counts['grown'] > 40  # masks bleed
    assert 0.6 * 12 * 50 < counts['segments'] < 1.4 * 12 * 50


def test_the_zero_shot_model_loads_locally_and_answers_one_state_of_each_class(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from robot_memory.perception.attribute_models import (
        ZeroShotStateModel,
        make_attribute_model,
        save_random_clip,
    )

    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    save_random_clip(tmp_path)
    model = make_attribute_model(tmp_path)
    assert isinstance(model, ZeroShotStateModel)
    rng = np.random.default_rng(0)
    segments = [SegmentPixels('lamp', np.zeros((4, 3), np.uint8), (0.2, 0.2, 0.4),
                              crop=rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)),
                SegmentPixels('box', np.zeros((4, 3), np.uint8), (0.3, 0.2, 0.2),
                              crop=rng.integers(0, 255, (20, 25, 3), dtype=np.uint8)),
                SegmentPixels('mug', np.zeros((4, 3), np.uint8), (0.1, 0.1, 0.1))]
    lamp, box, mug = model.states(segments)
    assert lamp in ('off', 'on') and box in ('closed', 'open') and mug == ''
    assert model.states(segments) == [lamp, box, mug]  # deterministic, text cached
    # It serves extraction like the built-in one.
    sim = BuiltinSim(SimConfig(world='apartment', seed=2))
    frame = next(iter(sim.patrol_day(0)))
    assert extract_observations(frame, model=model)


def test_a_missing_or_foreign_model_directory_is_one_clear_error(tmp_path: Path) -> None:
    from robot_memory.exceptions import InvalidInputError
    from robot_memory.perception.attribute_models import make_attribute_model

    with pytest.raises(InvalidInputError, match='not a directory'):
        make_attribute_model(tmp_path / 'nothing')
    (tmp_path / 'config.json').write_text('{"model_type": "no-such-model"}')
    with pytest.raises(InvalidInputError, match='cannot load'):
        make_attribute_model(tmp_path)


def test_colour_name_prototypes_cover_the_world_palette() -> None:
    assert set(COLORS) == set(COLOUR_NAMES)


def test_colour_names_the_reader_mixes_up_stop_ruling_matches_out() -> None:
    from robot_memory.perception.association import ColourReliability

    white = Track('object:1', 'mug', 'white', (1.0, 0.0, 0.8), (0.1, 0.1, 0.1), 'movable', 0.0,
                  confirmed=True)
    grey_here = [('mug', 'grey', (1.05, 0.0, 0.8))]
    learned = ColourReliability()
    assert associate(grey_here, [white], 1, colours=learned) == [None]
    for _ in range(20):  # white read as grey in one sighting of ten, in dim corners
        for colour in ['white'] * 9 + ['grey']:
            learned.count(colour, [white], np.array([True]))
    assert learned.flip_rate < 0.1  # overall the colours are still trusted …
    assert learned.confusable('white', 'grey') and learned.confusable('grey', 'white')
    assert not learned.confusable('white', 'red')
    assert associate(grey_here, [white], 1, colours=learned) == [0]  # … but not this pair
    assert associate([('mug', 'red', (1.05, 0.0, 0.8))], [white], 1, colours=learned) == [None]
