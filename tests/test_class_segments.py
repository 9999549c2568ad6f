"""Class-id images → object segments; label spaces; the class path of the frame assembler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_memory.core.types import CameraIntrinsics, SegmentLabel, StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.class_segments import (
    LabelSpace,
    class_image,
    instances_from_classes,
    load_label_space,
    segment_overlap,
)

ROOT = Path(__file__).resolve().parents[1]
SPACE = LabelSpace({0: 'background', 1: 'chair', 2: 'table', 3: 'wall'})


def _scene(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A wall at 4 m; returns (classes, depth) to paint objects into."""
    return np.full((h, w), 3, np.uint16), np.full((h, w), 4.0, np.float32)


def test_two_chairs_apart_in_the_image_are_two_objects() -> None:
    classes, depth = _scene()
    classes[40:80, 20:50] = 1
    classes[40:80, 100:130] = 1
    depth[classes == 1] = 2.0
    segments, labels, unknown = instances_from_classes(classes, depth, SPACE)
    assert sorted(label.label for label in labels.values()) == ['chair', 'chair']
    assert segments[60, 30] != segments[60, 110] and segments[60, 30] and segments[60, 110]
    assert not segments[5, 5]  # the wall is background, not an object
    assert unknown == set()


def test_a_chair_in_front_of_another_is_split_by_the_depth_step() -> None:
    classes, depth = _scene()
    classes[40:80, 20:90] = 1  # one chair region in the image …
    depth[40:80, 20:55] = 1.5  # … of two surfaces 1 m apart
    depth[40:80, 55:90] = 2.5
    segments, labels, _ = instances_from_classes(classes, depth, SPACE)
    assert len(labels) == 2
    assert segments[60, 30] != segments[60, 80]


def test_an_object_in_front_does_not_cut_a_sofa_in_two() -> None:
    space = LabelSpace({0: 'background', 1: 'sofa', 2: 'pillow', 3: 'wall'})
    classes, depth = _scene()
    classes[40:80, 20:140] = 1
    depth[40:80, 20:140] = 2.5
    classes[35:85, 70:75] = 2  # a pillow in front of the sofa's middle (bridge: 3 px here)
    depth[35:85, 70:75] = 2.0
    segments, labels, _ = instances_from_classes(classes, depth, space)
    assert sorted(label.label for label in labels.values()) == ['pillow', 'sofa']
    assert segments[60, 30] == segments[60, 130]
    wide = classes.copy()
    wide[35:85, 50:110] = 2  # a large box far wider than a bridge: two pieces of sofa remain
    depth[35:85, 50:110] = 2.0
    _, labels, _ = instances_from_classes(wide, depth, space)
    assert sorted(label.label for label in labels.values()) == ['pillow', 'sofa', 'sofa']


def test_one_surface_stays_one_object_and_crumbs_are_dropped() -> None:
    classes, depth = _scene()
    classes[40:80, 20:90] = 2
    depth[40:80, 20:90] = np.linspace(2.0, 2.3, 70)[None, :]  # a slanted table top
    classes[10, 10] = 1  # one pixel of chair (min_pixels 40 at 640x480 is 2 here): noise
    segments, labels, _ = instances_from_classes(classes, depth, SPACE)
    assert [label.label for label in labels.values()] == ['table']
    assert (segments > 0).sum() == 40 * 70


def test_unknown_class_ids_are_reported_and_their_pixels_skipped() -> None:
    classes, depth = _scene()
    classes[40:80, 20:50] = 9
    segments, labels, unknown = instances_from_classes(classes, depth, SPACE)
    assert unknown == {9} and not labels and not segments.any()


def test_bad_inputs_are_named() -> None:
    classes, depth = _scene()
    with pytest.raises(InvalidInputError, match='same'):
        instances_from_classes(classes[:10], depth, SPACE)
    with pytest.raises(InvalidInputError, match='integers'):
        instances_from_classes(classes.astype(float), depth, SPACE)


def test_the_round_trip_through_a_class_image_keeps_the_simulators_objects() -> None:
    from robot_memory.sim.backend import BuiltinSim, SimConfig
    from robot_memory.sim.renderer import CameraConfig
    from robot_memory.sim.world import label_space

    sim = BuiltinSim(SimConfig(world='apartment', seed=2,
                               camera=CameraConfig(width=320, height=240)))
    space = label_space()
    kept = total = 0
    for frame in sim.look_around(8):
        classes = class_image(frame.segments, frame.labels, space)
        segments, labels, unknown = instances_from_classes(classes, frame.depth_m, space)
        assert unknown == set()
        back = segment_overlap(segments, frame.segments)
        big = [s for s in frame.labels if (frame.segments == s).sum() >= 200]
        total += len(big)
        kept += sum(1 for s in big if s in back.values())
        for new, old in back.items():
            assert labels[new].label == frame.labels[old].label
    assert total > 10 and kept / total >= 0.9


def test_segment_overlap_takes_the_majority() -> None:
    new = np.array([[1, 1, 1, 2], [1, 1, 0, 2]])
    old = np.array([[5, 5, 6, 7], [5, 6, 6, 0]])
    assert segment_overlap(new, old) == {1: 5, 2: 7}


# ------------------------------------------------------------------ label spaces
def test_label_spaces_load_from_yaml_lists_and_csv(tmp_path: Path) -> None:
    (tmp_path / 'a.yaml').write_text('0: background\n1: Dining Table\n2: chair\n')
    (tmp_path / 'b.yaml').write_text('labels: [background, chair]\n')
    (tmp_path / 'c.csv').write_text('id,name\n0,background\n1,chair\n')
    assert load_label_space(tmp_path / 'a.yaml').names == {0: 'background', 1: 'dining_table',
                                                           2: 'chair'}
    assert load_label_space(tmp_path / 'b.yaml').names == {0: 'background', 1: 'chair'}
    assert load_label_space(tmp_path / 'c.csv').ids['chair'] == 1


@pytest.mark.parametrize(('name', 'text', 'message'), [
    ('bad.yaml', '{0: [', 'not valid YAML'),
    ('neg.yaml', '-1: chair\n', 'integers ≥ 0'),
    ('none.yaml', '1: null\n', 'needs a name'),
    ('scalar.yaml', 'chair\n', 'a mapping id: name or a list'),
    ('empty.yaml', '{}\n', 'names no class'),
    ('bad.csv', 'id,name\nx,chair\n', 'rows "id,name"'),
])
def test_bad_label_space_files_are_named(tmp_path: Path, name: str, text: str,
                                         message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        load_label_space(tmp_path / name)
    with pytest.raises(InvalidInputError, match='cannot read'):
        load_label_space(tmp_path / 'missing.yaml')


def test_the_shipped_simulator_label_space_is_the_simulators() -> None:
    from robot_memory.sim.world import label_space

    shipped = yaml.safe_load((ROOT / 'config' / 'label_space_sim.yaml').read_text())
    assert shipped == label_space().to_dict()
    assert load_label_space(ROOT / 'config' / 'label_space_sim.yaml') == label_space()


# --------------------------------------------------------------- the assembler
def test_the_assembler_splits_class_images_and_needs_no_label_map() -> None:
    pytest.importorskip('sensor_msgs.msg')
    from robot_memory.ros.assembler import FrameAssembler
    from robot_memory.ros.conversions import camera_info_msg, image_msg, labels_msg, pose_msg

    classes, depth = _scene(48, 64)
    classes[10:30, 5:20] = 1
    classes[10:30, 40:60] = 1
    depth[classes == 1] = 2.0
    t = 100.0
    intrinsics = CameraIntrinsics.from_fov(64, 48, 69.0)
    pose = pose_msg(StampedPose(t, (0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 1.0), 'map'))

    def feed(assembler: FrameAssembler, image: np.ndarray) -> list:
        frames = []
        for stream, msg in (('labels', labels_msg({1: SegmentLabel('mug')}, t, 0)),
                            ('info', camera_info_msg(intrinsics, t)), ('pose', pose),
                            ('color', image_msg(np.zeros((48, 64, 3), np.uint8), 'rgb8', t)),
                            ('semantic', image_msg(image, 'mono16', t)),
                            ('depth', image_msg(depth, '32FC1', t))):
            frames += assembler.add(stream, msg)
        return frames

    assembler = FrameAssembler(segmentation='class', label_space=SPACE)
    [frame] = feed(assembler, classes)
    assert sorted(label.label for label in frame.labels.values()) == ['chair', 'chair']
    classes[0:5, 0:64] = 7  # an id the label space does not name: counted, frame kept
    assert len(feed(assembler, classes)) == 1
    assert assembler.stats()['unknown_class_ids'] == [7]
    waiting = FrameAssembler(segmentation='class')  # LabelInfo not yet received
    assert feed(waiting, classes) == [] and waiting.rejected['no_label_space'] == 1
    with pytest.raises(InvalidInputError, match="segmentation 'classes'"):
        FrameAssembler(segmentation='classes')


def test_memory_node_params_need_a_label_space_for_class_images() -> None:
    from robot_memory.ros.params import MemoryNodeParams

    with pytest.raises(InvalidInputError, match='needs label_space_file or label_info_topic'):
        MemoryNodeParams(segmentation='class')
    assert MemoryNodeParams(segmentation='class', label_space_file='x.yaml').segmentation == \
        'class'
