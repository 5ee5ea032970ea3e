"""The MASH's business calendar and deadline arithmetic, in clock or working time.

Pure functions of their arguments: every caller passes `now` in, nothing reads the clock.
Opening hours are wall-clock hours in the configured zone (Europe/London by default), so a
working day is the same length either side of the March and October clock changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from gateway.config import WEEKDAYS, Config

Counting = Literal["clock", "working"]
MAX_DAYS_SEARCHED = 400  # a year of closures is a configuration error, not a loop


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    bank_holidays: bool = True
    extra_closures: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("opening time must be before closing time")
        if not self.days:
            raise ValueError("at least one opening day is needed")
        # England and Wales bank holidays, substitute days included; years load on demand.
        object.__setattr__(
            self, "_holidays", holiday_calendars.country_holidays("GB", subdiv="ENG")
        )

    @classmethod
    def from_config(cls, config: Config) -> BusinessCalendar:
        hours = config.hours
        return cls(
            zone=ZoneInfo(config.gateway.timezone),
            opens=hours.open,
            closes=hours.close,
            days=frozenset(WEEKDAYS.index(day) for day in hours.days),
            bank_holidays=hours.holidays == "england-and-wales",
            extra_closures=frozenset(hours.extra_closures),
        )

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_closures:
            return "closure"
        if self.bank_holidays:
            name = self._holidays.get(day)  # type: ignore[attr-defined]
            return str(name) if name else None
        return None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and self.holiday_name(day) is None

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("naive datetime given to the calendar")
        return at.astimezone(self.zone)

    def is_open(self, at: datetime) -> bool:
        """Open at this instant? 17:00 exactly is closed; 09:00 exactly is open."""
        local = self.local(at)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the next moment the MASH opens."""
        if self.is_open(at):
            return at
        local = self.local(at)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.opens:
            return self._at(day, self.opens)
        return self._at(self._next_working_day(day), self.opens)

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """Count `duration` only while open: Friday 16:00 plus 2 working hours is Monday 10:00."""
        if duration < timedelta(0):
            raise ValueError("negative duration")
        cursor = self.next_opening(start)
        remaining = duration
        for _ in range(MAX_DAYS_SEARCHED * 2):
            local = self.local(cursor)
            closing = datetime.combine(local.date(), self.closes)
            available = closing - local.replace(tzinfo=None)
            if remaining <= available:
                return self._at(local.date(), (local.replace(tzinfo=None) + remaining).time())
            remaining -= available
            cursor = self.next_opening(self._at(local.date(), self.closes))
        raise ValueError("no working time found within a year: check [hours]")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Close of business on the `days`-th working day after the day work could start.

        Mail that arrives after closing, or on a closed day, counts from the next working day.
        """
        if days < 0:
            raise ValueError("negative day count")
        local = self.local(start)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= self.closes:
            day = self._next_working_day(day)
        for _ in range(days):
            day = self._next_working_day(day)
        return self._at(day, self.closes)

    def working_days_until(self, start: datetime, end: datetime) -> int:
        """Whole working days from `start`'s day to `end`'s day (negative when `end` is past)."""
        first, last = self.local(start).date(), self.local(end).date()
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return sign * count

    def _next_working_day(self, day: date) -> date:
        for _ in range(MAX_DAYS_SEARCHED):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day within a year: check [hours]")

    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)


def deadline(
    start: datetime, within: timedelta, counting: Counting, calendar: BusinessCalendar
) -> datetime:
    """When something started at `start` is due: elapsed time, or open hours only."""
    if counting == "clock":
        return start.astimezone(UTC) + within
    return calendar.add_working_time(start, within)
