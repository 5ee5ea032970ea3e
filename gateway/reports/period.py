"""A report's period in the MASH's own time zone, the one before it, and its weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """Whole local days FIRST..LAST inclusive; instants [start, end) in UTC."""

    first: date
    last: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"--to {self.last} is before --from {self.first}")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def _instant(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self._instant(self.first)

    @property
    def end(self) -> datetime:
        return self._instant(self.last + timedelta(days=1))

    def previous(self) -> Period:
        """The period of the same length just before this one (the trends' baseline)."""
        return Period(
            self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.zone
        )

    def weeks(self) -> list[tuple[date, datetime]]:
        """(Monday the week starts, first instant of it inside the period) for each week."""
        monday = self.first - timedelta(days=self.first.weekday())
        out = []
        while monday <= self.last:
            out.append((monday, self._instant(max(monday, self.first))))
            monday += timedelta(days=7)
        return out

    def as_json(self) -> dict[str, object]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "days": self.days}


def spoken(day: date, weekday: bool = False) -> str:
    """ "1 January 2026" (or "Thursday 1 January 2026"): no leading zero."""
    words = f"{day.day} {day:%B %Y}"
    return f"{day:%A} {words}" if weekday else words


def quarter_before(day: date) -> tuple[date, date]:
    """The calendar quarter that ended before DAY's quarter began."""
    first_of_this = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last = first_of_this - timedelta(days=1)
    return date(last.year, 3 * ((last.month - 1) // 3) + 1, 1), last


def month_before(day: date) -> tuple[date, date]:
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last
