"""Configuration of urgent alerts and of police notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr, field_validator

from gateway.config.base import Duration, EmailAddress, _Section, _tuple
from gateway.mail.addresses import AddressError, normalise_address, normalise_domain


class AlertsSection(_Section):
    """Urgent alerts someone must acknowledge, and who hears when nobody does."""

    # An urgent alert nobody has acknowledged this long after it was raised is sent again;
    # then again each time this long passes, `escalations` times at most.
    acknowledge_within: Duration = timedelta(minutes=30)
    escalations: StrictInt = Field(default=3, ge=0, le=20)
    # Who else gets the repeats (a service manager, the head of service), and the alert when
    # an alert itself could not be delivered.
    escalate_to: Annotated[tuple[EmailAddress, ...], BeforeValidator(_tuple)] = ()
    # Urgent alerts go to the Emergency Duty Team in opening hours too (default: out of hours).
    edt_in_hours: StrictBool = False

    @field_validator("acknowledge_within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("acknowledge_within must be a positive duration")
        return value


def _sender_pattern(value: str) -> str:
    try:
        if value.startswith("*@"):
            return "*@" + normalise_domain(value[2:])
        return normalise_address(value)
    except AddressError as exc:
        raise ValueError(str(exc)) from exc


class PoliceSection(_Section):
    """Police notifications: Merlin "Coming to Notice" reports, pre-assessment checks,
    domestic-abuse notifications. Not referrals: nobody is asked for the form's fields."""

    # Words in the subject that make a message a notification (whole words, any case).
    subjects: Annotated[tuple[StrictStr, ...], BeforeValidator(_tuple)] = (
        "merlin",
        "coming to notice",
        "ctn",
        "pre-assessment check",
        "pac report",
        "domestic abuse notification",
        "domestic-abuse notification",
        "da notification",
        "merlin pac",
    )
    # Senders whose mail (other than replies to our checks) is a notification: addresses or
    # `*@domain`, e.g. the police's MASH notification unit.
    senders: Annotated[
        tuple[Annotated[StrictStr, BeforeValidator(_sender_pattern)], ...],
        BeforeValidator(_tuple),
    ] = ()
    # Acknowledge a notification to its sender (it asks for no form fields either way).
    acknowledge: StrictBool = True
