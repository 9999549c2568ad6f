"""The simulated clock: day 0 is Monday 2026-11-02 00:00 UTC."""

from __future__ import annotations

import math

__all__ = ['DAY_S', 'HOUR_S', 'SIM_EPOCH_S', 'day_of', 'hour_of', 'sim_time', 'weekday_of']

# 2026-11-02T00:00:00Z is a Monday, so day k of the simulation has weekday k % 7.
SIM_EPOCH_S = 1_793_577_600.0
HOUR_S = 3600.0
DAY_S = 24 * HOUR_S


def sim_time(day: int, hour: float = 0.0) -> float:
    """Stamp of `hour` o'clock on simulation day `day`."""
    return SIM_EPOCH_S + day * DAY_S + hour * HOUR_S


def day_of(stamp_s: float) -> int:
    """Simulation day (0 = the first Monday) of a stamp."""
    return math.floor((stamp_s - SIM_EPOCH_S) / DAY_S)


def hour_of(stamp_s: float) -> float:
    """Hour of the day (0 ≤ h < 24) of a stamp."""
    return ((stamp_s - SIM_EPOCH_S) % DAY_S) / HOUR_S


def weekday_of(stamp_s: float) -> int:
    """Weekday of a stamp, 0 = Monday."""
    return day_of(stamp_s) % 7
