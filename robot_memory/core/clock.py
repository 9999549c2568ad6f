"""The memory's clock: stamps ↔ local calendar time and human labels ("Monday morning")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from robot_memory.exceptions import InvalidInputError

__all__ = ['DAY_PARTS', 'FIRST_STAMP_S', 'LAST_STAMP_S', 'WEEKDAYS', 'MemoryClock', 'check_stamp']

WEEKDAYS = ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')
# (name, first hour, end hour) in local time; 'night' also covers 22:00–24:00.
DAY_PARTS = (
    ('night', 0, 6),
    ('morning', 6, 12),
    ('afternoon', 12, 17),
    ('evening', 17, 22),
    ('night', 22, 24),
)

# The calendar Python can show: years 1 to 9999, less a day each side for any timezone.
FIRST_STAMP_S = dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc).timestamp()
LAST_STAMP_S = dt.datetime(9999, 12, 30, tzinfo=dt.timezone.utc).timestamp()


def check_stamp(value: object, what: str = 'time') -> float:
    """`value` as a stamp the calendar can show; raises `InvalidInputError` with the range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f'{what} must be seconds since 1970, got {str(value)[:60]!r}')
    try:
        stamp = float(value)
    except OverflowError:
        stamp = float('inf')
    if not FIRST_STAMP_S <= stamp <= LAST_STAMP_S:  # NaN fails too
        raise InvalidInputError(
            f'{what} {str(value)[:40]} is outside the calendar (stamps from '
            f'{FIRST_STAMP_S:.0f} to {LAST_STAMP_S:.0f} s: 0001-01-02 to 9999-12-30)')
    return stamp


@dataclass(frozen=True, slots=True)
class MemoryClock:
    """Converts stamps (seconds since the Unix epoch) to the robot's local calendar."""

    timezone: str = 'UTC'

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError(
                f'unknown timezone {self.timezone!r}; use an IANA name such as "Europe/Berlin"'
            ) from exc

    @property
    def tzinfo(self) -> ZoneInfo:
        """The zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    def local(self, stamp_s: float) -> dt.datetime:
        """Local, timezone-aware datetime of a stamp (one the calendar can show)."""
        return dt.datetime.fromtimestamp(check_stamp(stamp_s), tz=self.tzinfo)

    def stamp(self, when: dt.datetime) -> float:
        """Stamp of a datetime; naive datetimes are taken as local time."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.tzinfo)
        try:
            return when.timestamp()
        except (OverflowError, ValueError):  # the first or last hours of the calendar
            raise InvalidInputError(f'{when.isoformat()} is outside the calendar') from None

    def day_part(self, stamp_s: float) -> str:
        """'morning', 'afternoon', 'evening' or 'night'."""
        hour = self.local(stamp_s).hour
        return next(name for name, lo, hi in DAY_PARTS if lo <= hour < hi)

    def weekday(self, stamp_s: float) -> str:
        """Local weekday name."""
        return WEEKDAYS[self.local(stamp_s).weekday()]

    def label(self, stamp_s: float) -> str:
        """A human label such as 'Monday morning'."""
        return f'{self.weekday(stamp_s)} {self.day_part(stamp_s)}'

    def start_of_day(self, stamp_s: float) -> float:
        """Stamp of local midnight on the day of `stamp_s`."""
        local = self.local(stamp_s)
        return self.stamp(dt.datetime(local.year, local.month, local.day))
