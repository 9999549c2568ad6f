"""Drives to look-out places through a navigation action (Nav2's NavigateToPose), as values.

planner_node sends each look as a `NavigateToPose` goal; sim_bridge_node serves that action
in simulation. What an answer of the navigation server means for the question is decided
here, without ROS, so it is tested without a graph:

    drive_end(status, error_code, error_msg) → DriveEnd: arrived, or the reason it did not
    drive_progress(distance, time, recoveries) → DriveProgress (feedback, checked)
    remaining_path_m(waypoints, xy)          → metres left along a path (the bridge's feedback)
    goal_place(layout, x, y, tolerance_m)    → the place a goal pose means, or why there is none

A drive that did not arrive is not retried: the question excludes that place and the
value-of-information planner picks the next best one (`ActiveQuestion.on_goal_failed`), which
may be a place beside it. Nav2 already retries inside its own behaviour tree before it aborts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from robot_memory._compat import StrEnum
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'GOAL_OUTSIDE_MAP',
    'NO_VALID_PATH',
    'DriveEnd',
    'DriveProgress',
    'DriveStatus',
    'drive_end',
    'drive_progress',
    'goal_place',
    'remaining_path_m',
]

# Nav2's error codes for a goal off the map and for one with no path (ComputePathToPose; the
# bt_navigator passes its planner's code on as NavigateToPose's error_code).
GOAL_OUTSIDE_MAP = 204
NO_VALID_PATH = 208


class DriveStatus(StrEnum):
    """How a navigation goal ended (action_msgs/GoalStatus, by name)."""

    SUCCEEDED = 'succeeded'
    ABORTED = 'aborted'
    CANCELED = 'canceled'
    REJECTED = 'rejected'  # the server refused the goal
    UNKNOWN = 'unknown'


@dataclass(frozen=True, slots=True)
class DriveEnd:
    """What a finished drive means for the question: arrived, or failed with a reason."""

    arrived: bool
    status: DriveStatus
    reason: str

    @property
    def count_key(self) -> str:
        """The planner's counter for this end (`nav.succeeded`, `nav.aborted`, …)."""
        return f'nav.{self.status}'


@dataclass(frozen=True, slots=True)
class DriveProgress:
    """The latest feedback of a drive: metres and seconds, as the navigation server says."""

    distance_remaining_m: float
    navigation_time_s: float
    recoveries: int


def drive_end(status: DriveStatus | str, error_code: int = 0, error_msg: str = '') -> DriveEnd:
    """The meaning of a drive's final status: only `succeeded` is an arrival.

    An aborted or canceled drive fails the place it went to (the question replans without it);
    the server's error code and message go into the reason for the log and the answer.
    """
    try:
        status = DriveStatus(status)
    except ValueError:
        status = DriveStatus.UNKNOWN
    if status is DriveStatus.SUCCEEDED:
        return DriveEnd(True, status, 'arrived')
    detail = ''
    if error_code or error_msg:
        detail = f' (error {int(error_code)}' + (f': {error_msg[:200]}' if error_msg else '') \
            + ')'
    reasons = {DriveStatus.ABORTED: 'navigation aborted',
               DriveStatus.CANCELED: 'navigation canceled by the server',
               DriveStatus.REJECTED: 'navigation refused the goal',
               DriveStatus.UNKNOWN: 'navigation ended without a status'}
    return DriveEnd(False, status, reasons[status] + detail)


def drive_progress(distance_remaining_m: float, navigation_time_s: float,
                   recoveries: int = 0) -> DriveProgress:
    """Check one feedback message; raises `InvalidInputError` for NaN or negative values."""
    for name, value in (('distance_remaining', distance_remaining_m),
                        ('navigation_time', navigation_time_s)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise InvalidInputError(f'feedback {name} must be a finite number ≥ 0, got '
                                    f'{value!r}')
    return DriveProgress(float(distance_remaining_m), float(navigation_time_s),
                         max(int(recoveries), 0))


def remaining_path_m(waypoints: Sequence[tuple[float, float]], xy: tuple[float, float]) -> float:
    """Metres left along the polyline `waypoints` from its point nearest to `xy`.

    The robot is projected onto the nearest segment; what is left is the rest of that segment
    plus every later one. One waypoint (or none): the straight distance to it (or 0).
    """
    if not waypoints:
        return 0.0
    if len(waypoints) == 1:
        return math.dist(waypoints[0], xy)
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(waypoints)]
    best_d, best_left = math.inf, 0.0
    for k, ((ax, ay), (bx, by)) in enumerate(itertools.pairwise(waypoints)):
        length = lengths[k]
        f = 0.0 if length == 0 else min(max(((xy[0] - ax) * (bx - ax) + (xy[1] - ay)
                                             * (by - ay)) / length ** 2, 0.0), 1.0)
        px, py = ax + f * (bx - ax), ay + f * (by - ay)
        d = math.hypot(xy[0] - px, xy[1] - py)
        if d < best_d - 1e-12:
            best_d, best_left = d, (1.0 - f) * length + sum(lengths[k + 1:])
    return best_left


def goal_place(layout: SceneGraph, x: float, y: float, tolerance_m: float) -> str:
    """The place a goal at (x, y) drives to: the nearest one, if within `tolerance_m`.

    Raises `InvalidInputError` naming the distance when the goal is farther than that from
    every place (off the map, in a wall, outside the building) or the map has no places.
    """
    place = layout.nearest_place(x, y)
    if place is None:
        raise InvalidInputError('no places on the map to drive to')
    px, py, _ = layout.get_place(place).position_m
    distance = math.hypot(px - x, py - y)
    if distance > tolerance_m:
        raise InvalidInputError(f'goal ({x:.2f}, {y:.2f}) is {distance:.2f} m from the nearest '
                                f'place {place} (at most {tolerance_m:g} m): outside the map')
    return place
