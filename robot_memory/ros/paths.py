"""Where the installed launch, config and RViz files are (a colcon install or the source tree)."""

from __future__ import annotations

from pathlib import Path

__all__ = ['share_file']

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
