"""The business calendar: opening hours, bank holidays, clock changes, deadline arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.timescales import BusinessCalendar, deadline

LONDON = ZoneInfo("Europe/London")
CAL = BusinessCalendar()


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (london(2026, 3, 6, 16, 59, 59), True),  # Friday 16:59:59
        (london(2026, 3, 6, 17, 0), False),  # Friday 17:00 is closed
        (london(2026, 3, 9, 9, 0), True),  # Monday 09:00 is open
        (london(2026, 3, 9, 8, 59, 59), False),
        (london(2026, 3, 7, 12, 0), False),  # Saturday
        (london(2026, 4, 3, 12, 0), False),  # Good Friday
        (london(2026, 4, 6, 12, 0), False),  # Easter Monday
        (london(2026, 12, 28, 12, 0), False),  # Boxing Day (substitute, Monday)
        (london(2027, 12, 27, 12, 0), False),  # Christmas Day substitute
        (london(2027, 12, 28, 12, 0), False),  # Boxing Day substitute
        (london(2027, 12, 29, 12, 0), True),
        (london(2026, 12, 31, 10, 0), True),  # New Year's Eve is a working day
        (london(2026, 1, 1, 10, 0), False),  # New Year's Day
    ],
)
def test_is_open(at: datetime, open_: bool) -> None:
    assert CAL.is_open(at) is open_


def test_next_opening_friday_evening_and_bank_holiday_weekend() -> None:
    assert CAL.next_opening(london(2026, 3, 6, 17, 0)) == london(2026, 3, 9, 9, 0)
    assert CAL.next_opening(london(2026, 3, 6, 16, 59)) == london(2026, 3, 6, 16, 59)
    # Thursday before Easter, after hours: Good Friday and Easter Monday are closed.
    assert CAL.next_opening(london(2026, 4, 2, 18, 0)) == london(2026, 4, 7, 9, 0)


def test_working_time_rolls_over_the_weekend() -> None:
    start = london(2026, 3, 6, 16, 0)  # Friday 16:00
    assert CAL.add_working_time(start, timedelta(hours=2)) == london(2026, 3, 9, 10, 0)
    assert CAL.add_working_time(start, timedelta(hours=1)) == london(2026, 3, 6, 17, 0)
    assert CAL.add_working_time(start, timedelta(hours=24)) == london(2026, 3, 11, 16, 0)


def test_working_time_across_march_clock_change() -> None:
    # Clocks go forward on Sunday 29 March 2026; a working day is still eight hours.
    start = london(2026, 3, 27, 13, 0)  # Friday 13:00 GMT
    due = CAL.add_working_time(start, timedelta(hours=8))
    assert due == london(2026, 3, 30, 13, 0)  # Monday 13:00 BST
    assert due - start == timedelta(days=3, hours=-1)  # one real hour fewer


def test_clock_time_across_october_clock_change() -> None:
    # Clocks go back at 02:00 BST on Sunday 25 October 2026: 4 hours is 4 real hours.
    start = london(2026, 10, 25, 0, 30)
    due = deadline(start, timedelta(hours=4), "clock", CAL)
    assert due == datetime(2026, 10, 25, 3, 30, tzinfo=UTC)
    assert due.astimezone(LONDON).hour == 3  # 03:30 GMT, the wall clock says so


def test_working_time_across_october_clock_change() -> None:
    start = london(2026, 10, 23, 15, 0)  # Friday 15:00 BST
    assert CAL.add_working_time(start, timedelta(hours=4)) == london(2026, 10, 26, 11, 0)


def test_ten_working_days_skip_weekends_and_bank_holidays() -> None:
    # Received Tuesday 31 March 2026; Good Friday and Easter Monday fall inside.
    due = CAL.add_working_days(london(2026, 3, 31, 11, 0), 10)
    assert due == london(2026, 4, 16, 17, 0)
    # Received on Saturday: counting starts from Monday.
    assert CAL.add_working_days(london(2026, 3, 7, 11, 0), 1) == london(2026, 3, 10, 17, 0)
    # Received at 17:00 on Friday: counting starts from Monday too.
    assert CAL.add_working_days(london(2026, 3, 6, 17, 0), 1) == london(2026, 3, 10, 17, 0)


def test_working_days_until() -> None:
    start = london(2026, 3, 31, 11, 0)
    assert CAL.working_days_until(start, london(2026, 4, 16, 12, 0)) == 10
    assert CAL.working_days_until(london(2026, 4, 16, 12, 0), start) == -10


def test_extra_closures_and_custom_hours() -> None:
    cal = BusinessCalendar(extra_closures=frozenset({date(2026, 3, 9)}))
    assert not cal.is_open(london(2026, 3, 9, 10, 0))
    assert cal.next_opening(london(2026, 3, 6, 17, 0)) == london(2026, 3, 10, 9, 0)
    assert cal.holiday_name(date(2026, 3, 9)) == "closure"
    no_holidays = BusinessCalendar(bank_holidays=False)
    assert no_holidays.is_open(london(2026, 4, 3, 12, 0))
    with pytest.raises(ValueError, match="opening time"):
        BusinessCalendar(opens=CAL.closes, closes=CAL.opens)


def test_calendar_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        CAL.is_open(datetime(2026, 3, 6, 12, 0))


def test_hours_config_builds_the_calendar() -> None:
    from gateway.config import ConfigError, load_config, parse_config

    config = load_config("mailboxes.toml")
    cal = BusinessCalendar.from_config(config)
    assert not cal.is_open(london(2026, 12, 24, 10, 0))  # the sample's extra closure
    assert cal.is_open(london(2026, 12, 23, 10, 0))
    base = '[gateway]\nmash_address = "m@h.example"\n[smtp]\nhost = "x"\n'
    weekend = parse_config(base + '[hours]\ndays = ["saturday"]\nopen = "10:00"\n', "t.toml")
    assert BusinessCalendar.from_config(weekend).is_open(london(2026, 3, 7, 10, 0))
    assert not BusinessCalendar.from_config(weekend).is_open(london(2026, 3, 9, 10, 0))
    with pytest.raises(ConfigError, match=r"t\.toml:6: hours\.days\[1\]"):
        parse_config(base + '[hours]\ndays = ["funday"]\n', "t.toml")
    with pytest.raises(ConfigError, match=r"t\.toml:6: hours\.open"):
        parse_config(base + '[hours]\nopen = "9am"\n', "t.toml")


def _rag(rag: str, counting: str) -> tuple[timedelta, str]:
    from helpers import config

    policy = config(
        f'[rag.{rag}]\nreply_within = "{ {"red": 4, "amber": 24, "green": 72}[rag] } hours"\n'
        f'counting = "{counting}"\n'
    ).rag.of(rag)
    return policy.reply_within, policy.counting


@pytest.mark.parametrize(
    ("rag", "counting", "start", "due"),
    [
        # Clock time: the window runs through nights, weekends and holidays.
        ("red", "clock", london(2026, 3, 6, 16, 30), london(2026, 3, 6, 20, 30)),
        ("amber", "clock", london(2026, 3, 6, 16, 30), london(2026, 3, 7, 16, 30)),
        ("green", "clock", london(2026, 3, 6, 16, 30), london(2026, 3, 9, 16, 30)),
        # March clock change: 4 elapsed hours from 00:30 GMT end at 05:30 BST.
        ("red", "clock", london(2026, 3, 29, 0, 30), london(2026, 3, 29, 5, 30)),
        # October: 4 elapsed hours from 00:30 BST end at 03:30 GMT.
        ("red", "clock", london(2026, 10, 25, 0, 30), london(2026, 10, 25, 3, 30)),
        # Working time, Friday afternoon: RED's 4 hours finish on Monday morning.
        ("red", "working", london(2026, 3, 6, 16, 30), london(2026, 3, 9, 12, 30)),
        ("red", "working", london(2026, 3, 6, 17, 0), london(2026, 3, 9, 13, 0)),
        # AMBER 24 working hours = three 8-hour days.
        ("amber", "working", london(2026, 3, 6, 16, 30), london(2026, 3, 11, 16, 30)),
        # Easter: Good Friday and Easter Monday are not working days.
        ("red", "working", london(2026, 4, 2, 15, 0), london(2026, 4, 7, 11, 0)),
        ("green", "working", london(2026, 4, 2, 9, 0), london(2026, 4, 16, 17, 0)),
    ],
)
def test_rag_deadlines(rag: str, counting: str, start: datetime, due: datetime) -> None:
    within, how = _rag(rag, counting)
    assert deadline(start, within, how, CAL) == due.astimezone(UTC)  # type: ignore[arg-type]
