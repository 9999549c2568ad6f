"""Tests of the simulated detector's mistakes and of their place in the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robot_memory.core.types import SegmentLabel
from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.detector import (
    DETECTOR_PRESETS,
    DetectorConfig,
    DetectorNoise,
    load_detector,
)

CLASSES = ['mug', 'book', 'keys', 'backpack']
COLORS = ['red', 'blue', 'green']


def _frame() -> tuple[dict[int, SegmentLabel], np.ndarray]:
    labels = {1: SegmentLabel('mug', {'color': 'red', 'state': 'open'}),
              2: SegmentLabel('book', {'color': 'blue'}),
              3: SegmentLabel('sofa', {'color': 'green'})}
    segments = np.repeat(np.array([[0, 1, 2, 3]], np.int32), 4, axis=0)
    return labels, segments


def test_the_perfect_detector_changes_nothing() -> None:
    labels, segments = _frame()
    out, seg = DetectorNoise(DetectorConfig(), CLASSES, COLORS, 0).apply(labels, segments,
                                                                         {1, 2})
    assert out is labels and seg is segments


def test_a_missed_segment_becomes_background() -> None:
    labels, segments = _frame()
    noise = DetectorNoise(DetectorConfig(miss_rate=1.0), CLASSES, COLORS, 0)
    out, seg = noise.apply(labels, segments, {1, 2})
    assert out == {} and not seg.any()
    assert segments.any()  # the input is left alone


def test_wrong_classes_colours_and_states_come_with_lower_confidence() -> None:
    labels, segments = _frame()
    config = DetectorConfig(confusion_rate=1.0, color_flip_rate=1.0, state_flip_rate=1.0)
    out, seg = DetectorNoise(config, CLASSES, COLORS, 0).apply(labels, segments, {1, 2})
    assert np.array_equal(seg, segments)
    assert out[1].label in CLASSES and out[1].label != 'mug'
    assert out[2].label != 'book'
    assert out[3].label == 'sofa'  # furniture keeps its class
    assert out[1].attributes['color'] != 'red' and out[1].attributes['state'] == 'closed'
    assert all(0.3 <= out[k].confidence <= 0.8 for k in (1, 2))
    assert 0.6 <= out[3].confidence <= 1.0


def test_noise_is_deterministic_per_seed() -> None:
    labels, segments = _frame()
    config = DETECTOR_PRESETS['poor']
    runs = [DetectorNoise(config, CLASSES, COLORS, 5).apply(labels, segments, {1, 2})[0]
            for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize(('value', 'error'), [
    ('noisy', "unknown detector preset 'noisy'; valid: perfect, realistic, poor"),
    ({'miss_rate': 1.5}, 'detector miss_rate must be in [0, 1], got 1.5'),
    ({'misses': 0.1}, "detector: unknown key 'misses'; valid: miss_rate, confusion_rate, "
                      'color_flip_rate, state_flip_rate, bleed_px, split_rate, merge_rate, '
                      'spurious_rate, attributes, confidence_right, confidence_wrong'),
    ({'attributes': 'truth'}, "detector attributes must be one of pixels, labels, got "
                              "'truth'"),
    ({'miss_rate': None}, 'detector.miss_rate must be a number, got None'),
    ({'confidence_wrong': [0.9, 0.2]}, 'detector confidence_wrong must be [lo, hi] within '
                                       '[0, 1], got (0.9, 0.2)'),
])
def test_bad_detector_settings_are_named(value: object, error: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        DetectorConfig.from_value(value)
    assert str(excinfo.value) == error


def test_a_detector_comes_from_a_preset_or_a_yaml_file(tmp_path: Path) -> None:
    assert load_detector('realistic') == DETECTOR_PRESETS['realistic']
    path = tmp_path / 'detector.yaml'
    path.write_text('miss_rate: 0.2\nconfidence_right: [0.5, 0.9]\n')
    assert load_detector(str(path)) == DetectorConfig(miss_rate=0.2,
                                                      confidence_right=(0.5, 0.9))
    with pytest.raises(InvalidInputError, match='neither a preset'):
        load_detector(str(tmp_path / 'missing.yaml'))


def test_a_noisy_detector_sees_the_same_world_along_the_same_path() -> None:
    pytest.importorskip('open3d', reason='open3d is needed for the raycasting renderer')
    from robot_memory.sim.backend import BuiltinSim, SimConfig, load_scenario
    from robot_memory.sim.renderer import CameraConfig

    small = CameraConfig(width=160, height=120)
    perfect = BuiltinSim(SimConfig(seed=3, camera=small))
    noisy = BuiltinSim(load_scenario({'seed': 3, 'detector': 'poor'}, camera=small))
    a, b = perfect.look_around(8), noisy.look_around(8)
    assert all(np.array_equal(x.rgb, y.rgb) and np.array_equal(x.map_T_camera, y.map_T_camera)
               for x, y in zip(a, b, strict=True))
    shown = [set(noisy.frame_truth(f.frame_index).values()) for f in b]
    assert sum(map(len, shown)) < sum(len(set(perfect.frame_truth(f.frame_index).values()))
                                      for f in a)
    for frame in b:
        # What the detector missed is background, and the evaluators' truth skips it too;
        # a spurious segment (on a wall or floor) shows no object.
        assert set(np.unique(frame.segments).tolist()) - {0} == set(frame.labels)
        truth = noisy.frame_truth(frame.frame_index)
        assert set(truth) <= set(frame.labels)
