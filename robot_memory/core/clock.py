"""The memory's clock: stamps ↔ local calendar time and human labels ("Monday morning")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from robot_memory.exceptions import InvalidInputError

__all__ = ['DAY_PARTS', 'WEEKDAYS', 'MemoryClock']

WEEKDAYS = ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')
# (name, first hour, end hour) in local time; 'night' also covers 22:00–24:00.
DAY_PARTS = (
    ('night', 0, 6),
    ('morning', 6, 12),
    ('afternoon', 12, 17),
    ('evening', 17, 22),
    ('night', 22, 24),
)


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
        """Local, timezone-aware datetime of a stamp."""
        return dt.datetime.fromtimestamp(stamp_s, tz=self.tzinfo)

    def stamp(self, when: dt.datetime) -> float:
        """Stamp of a datetime; naive datetimes are taken as local time."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.tzinfo)
        return when.timestamp()

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
