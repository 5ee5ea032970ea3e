"""Durations written with their units spelled out, e.g. "4 hours", "90 seconds"; and
spans as a person says them ("22 hours ago", "due in 40 minutes"), for what managers read."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*$", re.I)


def parse_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('a duration is a string with its unit, e.g. "10 minutes"')
    match = _PATTERN.match(value)
    if not match:
        raise ValueError(
            f'{value!r} is not a duration; write a number and a unit, e.g. "4 hours" '
            "(units: seconds, minutes, hours, days, weeks)"
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit in ("week", "day", "hour", "minute"):
        size = _UNITS[unit]
        if seconds and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def in_words(delta: timedelta) -> str:
    """A span as a person says it: "40 minutes", "1 hour 20 minutes", "22 hours", "3 days"."""
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return _plural(minutes, "minute")
    hours, rest = divmod(minutes, 60)
    if hours < 3:
        return _plural(hours, "hour") + (f" {_plural(rest, 'minute')}" if rest else "")
    if hours < 48:
        return _plural(hours, "hour")
    return _plural(hours // 24, "day")


def ago(now: datetime, then: datetime) -> str:
    """ "22 hours ago", or "just now"."""
    if now - then < timedelta(minutes=1):
        return "just now"
    return f"{in_words(now - then)} ago"


def due(now: datetime, at: datetime) -> str:
    """ "due in 40 minutes", "due now" or "overdue by 2 hours"."""
    if abs(at - now) < timedelta(minutes=1):
        return "due now"
    if at > now:
        return f"due in {in_words(at - now)}"
    return f"overdue by {in_words(now - at)}"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'s' if n != 1 else ''}"
