"""Tests of the memory clock, the value types and event records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robot_memory.core import (
    CameraIntrinsics,
    FactKey,
    MemoryClock,
    ObjectObservation,
    StampedPose,
)
from robot_memory.core.events import (
    FactChanged,
    LayoutSet,
    ObjectCreated,
    ObjectLost,
    ObjectSeen,
    ObjectsMerged,
    PlaceObserved,
    event_from_record,
    event_to_record,
)
from robot_memory.exceptions import InvalidInputError
from tests.conftest import MONDAY_S


@pytest.mark.parametrize(('hour', 'label'), [
    (3, 'Monday night'), (8, 'Monday morning'), (13, 'Monday afternoon'),
    (18, 'Monday evening'), (23, 'Monday night'), (24 + 9, 'Tuesday morning'),
])
def test_time_labels(hour: int, label: str) -> None:
    assert MemoryClock('UTC').label(MONDAY_S + hour * 3600) == label


def test_labels_follow_the_robots_timezone() -> None:
    # 09:00 UTC is 01:00 in Los Angeles (PST): still Monday, but night.
    assert MemoryClock('America/Los_Angeles').label(MONDAY_S + 9 * 3600) == 'Monday night'


def test_an_unknown_timezone_says_what_to_use() -> None:
    with pytest.raises(InvalidInputError, match="unknown timezone 'Mars/Olympus'"):
        MemoryClock('Mars/Olympus')


def test_start_of_day_is_local_midnight() -> None:
    assert MemoryClock().start_of_day(MONDAY_S + 15 * 3600) == MONDAY_S


def test_pose_matrix_round_trip() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        pose = StampedPose(1.0, tuple(rng.normal(size=3)), tuple(q))
        again = StampedPose.from_matrix(1.0, pose.matrix())
        assert np.allclose(again.matrix(), pose.matrix(), atol=1e-9)


def test_yaw_of_a_pure_rotation_about_z() -> None:
    half = math.radians(30) / 2
    pose = StampedPose(0.0, (0, 0, 0), (0, 0, math.sin(half), math.cos(half)))
    assert pose.yaw_rad == pytest.approx(math.radians(30))


def test_intrinsics_from_field_of_view() -> None:
    cam = CameraIntrinsics.from_fov(640, 480, 69.0)
    assert math.degrees(cam.hfov_rad) == pytest.approx(69.0)
    assert cam.to_camera_info()['k'][2] == pytest.approx(319.5)


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({'centroid_m': (float('nan'), 0, 0)}, 'centroid_m must be finite'),
    ({'centroid_m': (1, 2)}, 'centroid_m must be three numbers'),
    ({'label': ''}, 'label must be a non-empty class name'),
    ({'confidence': 1.5}, r'confidence must be in \[0, 1\]'),
])
def test_bad_observations_are_refused_with_the_reason(kwargs: dict, message: str) -> None:
    fields = {'obs_id': 1, 'stamp_s': 0.0, 'label': 'mug', 'centroid_m': (0, 0, 0)} | kwargs
    with pytest.raises(InvalidInputError, match=message):
        ObjectObservation(**fields)


@pytest.mark.parametrize('event', [
    ObjectCreated(1.0, 'object:1', 'mug', 'red', 'movable'),
    FactChanged(2.0, 'object:1', FactKey.POSITION, (1.0, 2.0, 3.0), (4, 5)),
    FactChanged(2.0, 'object:1', FactKey.SUPPORT, ('on', 'object:2'), ()),
    FactChanged(2.0, 'object:1', FactKey.SUPPORT, None, ()),
    ObjectSeen(3.0, 'object:1', (6,)),
    ObjectLost(4.0, 'object:1', (7,)),
    ObjectsMerged(5.0, 'object:1', 'object:2'),
    LayoutSet(0.0, {'nodes': [], 'edges': []}),
    PlaceObserved(6.0, 'place:kitchen/0'),
])
def test_events_round_trip_through_records(event: object) -> None:
    assert event_from_record(event_to_record(event)) == event


def test_a_malformed_record_lists_the_valid_kinds() -> None:
    with pytest.raises(InvalidInputError,
                       match='kinds: created, fact, layout, lost, merged, place'):
        event_from_record({'kind': 'teleport'})
