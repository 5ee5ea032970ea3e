"""Durations written with their units spelled out, e.g. "4 hours", "90 seconds"."""

from __future__ import annotations

import re
from datetime import timedelta

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
