"""Configuration of the MASH's working: hours, the front door, RAG clocks, digests, meetings."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from gateway.config.base import (
    Duration,
    EmailAddress,
    Fingerprint,
    _Section,
    _tuple,
)
from gateway.config.phrases import DEFAULT_INCREASED_RISK_PHRASES, DEFAULT_URGENT_PHRASES
from gateway.durations import parse_duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        return time.fromisoformat(value)
    raise ValueError('a time of day is "HH:MM", e.g. "09:00"')


def _weekday(value: str) -> str:
    if value.lower() not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a day of the week")
    return value.lower()


class HoursSection(_Section):
    """Opening hours: everything outside them is out of hours (the Emergency Duty Team)."""

    open: Annotated[time, BeforeValidator(_clock_time)] = time(9, 0)
    close: Annotated[time, BeforeValidator(_clock_time)] = time(17, 0)
    days: Annotated[
        tuple[Annotated[StrictStr, AfterValidator(_weekday)], ...],
        BeforeValidator(_tuple),
        Field(min_length=1),
    ] = WEEKDAYS[:5]
    holidays: Literal["england-and-wales", "none"] = "england-and-wales"
    extra_closures: Annotated[tuple[date, ...], BeforeValidator(_tuple)] = ()
    out_of_hours_phone: StrictStr = "0208 356 2710"
    # The Emergency Duty Team: out of hours every urgent alert goes here too, with what the
    # EDT needs to act on it; sealed with OpenPGP to edt_key (a pinned fingerprint) if set.
    edt_address: EmailAddress | None = None
    edt_key: Fingerprint | None = None

    @model_validator(mode="after")
    def _order(self) -> HoursSection:
        if self.open >= self.close:
            raise ValueError("open must be before close")
        return self


class FrontDoorSection(_Section):
    """How the MASH mailbox's mail is handled."""

    # Words that make any message about a child urgent (a referral, a reply to one of our
    # letters, a partner's answer): the alert goes at once, whatever the hour.
    urgent_phrases: Annotated[tuple[StrictStr, ...], BeforeValidator(_tuple)] = (
        DEFAULT_URGENT_PHRASES
    )
    # Words that mean the risk has gone up (as a partner's RISK: INCREASED); also urgent.
    increased_risk_phrases: Annotated[tuple[StrictStr, ...], BeforeValidator(_tuple)] = (
        DEFAULT_INCREASED_RISK_PHRASES
    )
    # Mail domains whose senders are professionals (fnmatch patterns on the domain): their
    # referrers get the professional letters. Replaces the defaults when set.
    professional_domains: Annotated[tuple[StrictStr, ...], BeforeValidator(_tuple)] = (
        "*.nhs.uk",
        "nhs.net",
        "*.nhs.net",
        "*.police.uk",
        "*.sch.uk",
        "*.gov.uk",
        "*.cjsm.net",
    )


def _after_due(value: object) -> object:
    """A ladder step's offset: a duration, or a percentage of the RAG's reply window."""
    if isinstance(value, float):
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        if not number.replace(".", "", 1).isdigit():
            raise ValueError(f'{value!r} is not a percentage such as "50%"')
        return float(number) / 100
    return parse_duration(value)


class ChaseStep(_Section):
    """One rung of the chasing ladder, counted from the check's due time."""

    after_due: Annotated[timedelta | float, BeforeValidator(_after_due)]
    # Copy the reminder to the agency's escalation_address.
    copy_escalation: StrictBool = False
    alert_managers: StrictBool = False


class RagSection(_Section):
    reply_within: Duration
    # "clock": elapsed time; "working": only [hours] opening hours count.
    counting: Literal["clock", "working"] = "clock"
    # "any": chases go out at any hour; "working": held until the MASH is open.
    chase_hours: Literal["any", "working"] = "working"
    ladder: Annotated[tuple[ChaseStep, ...], BeforeValidator(_tuple)] = (
        ChaseStep(after_due=0.0),
        ChaseStep(after_due=0.5, copy_escalation=True, alert_managers=True),
    )

    def offset(self, step: ChaseStep) -> timedelta:
        if isinstance(step.after_due, float):
            return self.reply_within * step.after_due
        return step.after_due


class RagTable(_Section):
    # An overdue RED check also alerts the managers at once, whatever its ladder says.
    red: RagSection = RagSection(reply_within=timedelta(hours=4), chase_hours="any")
    amber: RagSection = RagSection(reply_within=timedelta(hours=24))
    green: RagSection = RagSection(reply_within=timedelta(hours=72))

    def of(self, rag: str) -> RagSection:
        return {"red": self.red, "amber": self.amber, "green": self.green}[rag]


class DigestSection(_Section):
    """The managers' digest of what needs attention."""

    times: Annotated[
        tuple[Annotated[time, BeforeValidator(_clock_time)], ...],
        BeforeValidator(_tuple),
    ] = (time(9, 0), time(13, 0), time(16, 0))
    # Only on working days ([hours] days, bank holidays and closures excluded).
    working_days_only: StrictBool = True
    # An information request is listed once its reply is due within this many working days.
    rfi_due_within_days: StrictInt = Field(default=2, ge=0, le=30)


class MeetingSection(_Section):
    """The Daily MASH Meeting agenda, sent every working day."""

    enabled: StrictBool = True
    at: Annotated[time, BeforeValidator(_clock_time)] = time(8, 30)
    # Who gets the agenda; empty means every [[manager]].
    recipients: Annotated[tuple[EmailAddress, ...], BeforeValidator(_tuple)] = ()


class ClocksSection(_Section):
    """Protocol section 4's screening clocks, and where a Section 47 goes at once."""

    # After decision C: whether a statutory response is needed, within this long.
    csc_screening: Duration = timedelta(hours=24)
    csc_screening_counting: Literal["clock", "working"] = "clock"
    # After decision D: the early-help outcome, within this long.
    early_help_screening: Duration = timedelta(hours=72)
    early_help_screening_counting: Literal["clock", "working"] = "clock"
    # The social work unit that takes Section 47 enquiries (the contact is sent there at once).
    section47_address: EmailAddress | None = None
    # Its pinned OpenPGP key: the section 47 referral and its attachment are always sealed.
    section47_key: Fingerprint | None = None
