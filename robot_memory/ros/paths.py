"""Where files are: the installed launch, config and RViz files; the memory file of a node."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ['memory_file', 'package_file', 'ros_home', 'share_file']

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def share_file(*parts: str) -> Path:
    """Find `share/robot_memory/<parts>` of an install, else that path in the source tree."""
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )

        try:
            installed = Path(get_package_share_directory('robot_memory'), *parts)
        except (PackageNotFoundError, OSError):  # OSError: no AMENT_PREFIX_PATH at all
            installed = None
        if installed is not None and installed.exists():
            return installed
    except ImportError:
        pass
    return _SOURCE_ROOT.joinpath(*parts)


def ros_home() -> Path:
    """The ROS home directory: `$ROS_HOME`, else `~/.ros` (where ROS tools keep their files)."""
    return Path(os.environ.get('ROS_HOME') or Path.home() / '.ros').expanduser()


def memory_file(db_path: str) -> Path:
    """The memory file a node's `db_path` names, its folder created.

    `~` is expanded; a relative path lies under `<ROS home>/robot_memory/`, so a node started
    from any directory by `ros2 launch` finds the same file, and no root-owned folder is needed.
    """
    path = Path(db_path).expanduser()
    if not path.is_absolute():
        path = ros_home() / 'robot_memory' / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def package_file(path: str) -> Path:
    """A file a parameter names: as given (absolute, or relative to the working directory) if
    it exists there, else relative to share/robot_memory/ (`config/…` of the package)."""
    given = Path(path).expanduser()
    if given.is_absolute() or given.exists():
        return given
    shared = share_file(*given.parts)
    return shared if shared.exists() else given
