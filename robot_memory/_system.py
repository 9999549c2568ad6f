"""What the process and its disk look like: resident memory and free space (Linux /proc)."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

__all__ = ['disk_free_mb', 'rss_mb']


def rss_mb() -> float:
    """Resident set size now (not the peak), in MB."""
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # the peak: an upper bound


def disk_free_mb(path: str | Path) -> float:
    """Free space on the filesystem holding `path` (its folder if it does not exist yet)."""
    path = Path(path)
    target = path if path.exists() else path.parent
    try:
        return shutil.disk_usage(target).free / 1e6
    except OSError:
        return float('nan')
