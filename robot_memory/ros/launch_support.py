"""What the launch files check before they start a node: RViz on request, a launchable install.

`ros2 launch` starts nodes in the order its actions come, and an exception in a later action
leaves the processes already started running. So the launch files run `preflight` first: it
raises before any node starts when the launch cannot succeed, and adds RViz only where it can.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ['MEMORY_CLOSE_S', 'RESPAWN_DELAY_S', 'RVIZ_CHOICES', 'preflight']

RVIZ_CHOICES = ('true', 'false', 'auto')
RESPAWN_DELAY_S = 2.0  # before a dead memory_node is started again (respawn:=true)
# How long launch lets memory_node close after SIGINT before SIGTERM, and again before SIGKILL
# (launch's default is 5 s each). It ingests the frames still queued and closes its file;
# on a loaded machine that took longer than 5 s. A node whose teardown stops moving ends
# itself sooner (`runtime.TEARDOWN_TIMEOUT_S` without progress).
MEMORY_CLOSE_S = 30.0
EXECUTABLES = ('memory_node', 'planner_node', 'sim_bridge_node')


class LaunchSetupError(RuntimeError):
    """The launch cannot start: says why and what to do."""


def _package_prefix(package: str) -> str | None:
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        return get_package_prefix(package)
    except (PackageNotFoundError, ValueError, OSError):
        return None


def check_executables() -> None:
    """Raise unless `ros2 launch` can find the nodes in `<prefix>/lib/robot_memory/`."""
    prefix = _package_prefix('robot_memory')
    if prefix is None:
        raise LaunchSetupError('robot_memory is not in AMENT_PREFIX_PATH: source the '
                               'workspace (source install/setup.bash) after colcon build')
    libexec = Path(prefix, 'lib', 'robot_memory')
    missing = [name for name in EXECUTABLES if not (libexec / name).exists()]
    if missing:
        raise LaunchSetupError(
            f'{libexec} has no {", ".join(missing)}: ros2 launch needs robot_memory built '
            'with colcon (colcon build, then source install/setup.bash). A plain pip install '
            "puts the nodes in bin/, where ros2 launch does not look; without ros2 launch, "
            "'robot-memory bringup' starts the same nodes in one process.")


def rviz_wanted(choice: str) -> bool:
    """Whether to start RViz for `rviz:=choice`; raises when it was asked for and is absent."""
    choice = choice.strip().lower()
    if choice not in RVIZ_CHOICES:
        raise LaunchSetupError(f'rviz:={choice!r}; valid: {", ".join(RVIZ_CHOICES)}')
    if choice == 'false':
        return False
    if _package_prefix('rviz2') is not None:
        return True
    if choice == 'true':
        raise LaunchSetupError("rviz:=true but the package 'rviz2' is not installed "
                               '(apt install ros-$ROS_DISTRO-rviz2); launch with rviz:=false '
                               "or rviz:=auto, or look at the memory file with 'robot-memory "
                               "inspect'")
    return False


def preflight(context: Any, rviz_node: Any) -> list[Any]:
    """OpaqueFunction body: check the install and RViz; the actions to add (RViz or a note)."""
    from launch.actions import LogInfo
    from launch.substitutions import LaunchConfiguration

    check_executables()
    choice = LaunchConfiguration('rviz').perform(context)
    if rviz_wanted(choice):
        return [rviz_node]
    if choice.strip().lower() == 'auto':
        return [LogInfo(msg='rviz2 is not installed: starting without RViz')]
    return []
