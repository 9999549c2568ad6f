"""What a drive's end and feedback mean (core/drive.py), without ROS."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from robot_memory.core.active import ActiveQuestion, GoToPlace
from robot_memory.core.drive import (
    DriveStatus,
    drive_end,
    drive_progress,
    goal_place,
    remaining_path_m,
)
from robot_memory.core.planner import PlannerParams, VoIPlanner
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError


def test_module_does_not_import_rclpy() -> None:
    code = ('import sys, robot_memory.core.drive; '
            'sys.exit(any(m.startswith("rclpy") for m in sys.modules))')
    assert subprocess.run([sys.executable, '-c', code], timeout=60).returncode == 0


@pytest.mark.parametrize(('status', 'code', 'message', 'arrived', 'key', 'reason'), [
    ('succeeded', 0, '', True, 'nav.succeeded', 'arrived'),
    ('aborted', 208, 'no path', False, 'nav.aborted', 'navigation aborted (error 208: no path)'),
    ('aborted', 0, '', False, 'nav.aborted', 'navigation aborted'),
    ('canceled', 0, '', False, 'nav.canceled', 'navigation canceled by the server'),
    ('rejected', 0, '', False, 'nav.rejected', 'navigation refused the goal'),
    ('lost in space', 0, '', False, 'nav.unknown', 'navigation ended without a status'),
])
def test_only_a_succeeded_drive_is_an_arrival(status: str, code: int, message: str,
                                              arrived: bool, key: str, reason: str) -> None:
    end = drive_end(status, code, message)
    assert (end.arrived, end.count_key, end.reason) == (arrived, key, reason)


def test_an_error_message_is_cut_to_a_log_line() -> None:
    assert len(drive_end(DriveStatus.ABORTED, 1, 'x' * 10_000).reason) < 250


def test_feedback_with_nan_or_negative_values_is_refused_with_its_name() -> None:
    assert drive_progress(2.5, 4.0, 1) == drive_progress(2.5, 4.0, 1)
    assert drive_progress(2.5, 4.0, -3).recoveries == 0
    with pytest.raises(InvalidInputError, match='distance_remaining must be a finite number'):
        drive_progress(math.nan, 1.0)
    with pytest.raises(InvalidInputError, match='navigation_time must be a finite number'):
        drive_progress(1.0, -1.0)


@pytest.mark.parametrize(('xy', 'left'), [
    ((0.0, 0.0), 7.0),     # at the start: both legs
    ((2.0, 0.5), 5.0),     # beside the first leg, 2 m along it
    ((4.0, 1.0), 2.0),     # on the second leg, halfway
    ((4.0, 3.0), 0.0),     # at the end
    ((9.0, 9.0), 0.0),     # past the end: nothing left
])
def test_remaining_distance_follows_the_path_from_the_nearest_point(
        xy: tuple[float, float], left: float) -> None:
    path = [(0.0, 0.0), (4.0, 0.0), (4.0, 3.0)]
    assert remaining_path_m(path, xy) == pytest.approx(left)


def test_remaining_distance_of_a_path_of_one_point_or_none() -> None:
    assert remaining_path_m([(3.0, 4.0)], (0.0, 0.0)) == pytest.approx(5.0)
    assert remaining_path_m([], (1.0, 1.0)) == 0.0
    assert remaining_path_m([(1.0, 1.0), (1.0, 1.0)], (1.0, 2.0)) == 0.0


def test_a_goal_means_the_nearest_place_unless_it_is_off_the_map(
        two_room_graph: SceneGraph) -> None:
    assert goal_place(two_room_graph, 5.0, 2.5, 3.0) == 'place:study/0'
    with pytest.raises(InvalidInputError) as info:
        goal_place(two_room_graph, 106.0, 2.0, 3.0)
    assert str(info.value) == ('goal (106.00, 2.00) is 100.00 m from the nearest place '
                               'place:study/0 (at most 3 m): outside the map')
    with pytest.raises(InvalidInputError, match='no places'):
        goal_place(SceneGraph(), 0.0, 0.0, 3.0)


def test_an_aborted_drive_is_replanned_to_another_place(two_room_graph: SceneGraph) -> None:
    question = ActiveQuestion({'query': {'type': 'WhereIs', 'target': {'label': 'mug'}}}, 'q',
                              VoIPlanner(PlannerParams(cost_per_m=0.01)), layout=two_room_graph)
    belief = [{'value': 'room:kitchen', 'prob': 0.6, 'places': ['place:kitchen/0']},
              {'value': 'room:study', 'prob': 0.4, 'places': ['place:study/0']}]
    request = question.start()
    first = question.on_reply({'id': request.request_id, 'ok': True, 'belief': belief},
                              robot_place='place:study/0')
    assert isinstance(first, GoToPlace)
    end = drive_end('aborted', 208, 'no path')
    assert not end.arrived
    again = question.on_goal_failed(end.reason)
    second = question.on_reply({'id': again.request_id, 'ok': True, 'belief': belief},
                               robot_place='place:study/0')
    assert isinstance(second, GoToPlace) and second.place_id != first.place_id
    assert question.trace.failed == [first.place_id]
