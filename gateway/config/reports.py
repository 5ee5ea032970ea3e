"""Configuration of the steering group's report: when it is sent, and to whom."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator

from gateway.config.base import EmailAddress, Fingerprint, _Section, _tuple
from gateway.config.work import _clock_time


class ReportRecipient(_Section):
    """A reader of the scheduled report; with a key it goes sealed (OpenPGP)."""

    address: EmailAddress
    key: Fingerprint | None = None


def _recipient(value: Any) -> Any:
    return {"address": value} if isinstance(value, str) else value


class ReportsSection(_Section):
    """`mash-gateway report` and its scheduled sending by email."""

    # "quarterly" or "monthly": on the first working day of each quarter or month, at `at`,
    # the report of the quarter or month just ended; "none": only by hand.
    schedule: Literal["none", "monthly", "quarterly"] = "none"
    at: Annotated[time, BeforeValidator(_clock_time)] = time(9, 0)
    # Addresses, or {address = "...", key = "FINGERPRINT"} to seal it to that reader's key;
    # a reader who is a [[manager]] with a pinned key gets it sealed to that key.
    recipients: Annotated[
        tuple[Annotated[ReportRecipient, BeforeValidator(_recipient)], ...],
        BeforeValidator(_tuple),
    ] = ()
    # What the scheduled mail attaches (figures.json always goes with it).
    formats: Annotated[tuple[Literal["html", "pdf", "csv"], ...], BeforeValidator(_tuple)] = (
        "html",
        "pdf",
    )

    @model_validator(mode="after")
    def _scheduled_needs_readers(self) -> ReportsSection:
        if self.schedule != "none" and not self.recipients:
            raise ValueError("a [reports] schedule needs recipients")
        return self
