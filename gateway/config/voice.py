"""Configuration of what referrers read and how they answer back: the numbers every letter
gives, the disagreement route (protocol section 5), and the keys of internal addresses."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt, StrictStr

from gateway.config.base import EmailAddress, Fingerprint, _Section


def _url(value: str) -> str:
    if not re.fullmatch(r"https?://\S+", value):
        raise ValueError(f"{value!r} is not an http(s) address")
    return value


class LettersSection(_Section):
    """What every letter says about how to reach the MASH (protocol sections 5 and 9)."""

    mash_phone: StrictStr = "020 8356 5500"
    # The Children and Families Service complaints team, for members of the public.
    complaints_address: EmailAddress = "children.complaints@hackney.gov.uk"
    complaints_phone: StrictStr = "020 8356 5800"


class DisagreementSection(_Section):
    """Professional disagreement: who reviews beyond the MASH managers, and the policy."""

    # The MASH service manager (or head of service): every disagreement goes there at once.
    service_manager: EmailAddress | None = None
    # The safeguarding partnership's escalation policy, linked in professionals' letters.
    escalation_policy_url: Annotated[StrictStr, AfterValidator(_url)] | None = None
    # The professional is promised an answer within this many working days.
    respond_within_days: StrictInt = Field(default=3, ge=1, le=20)


class UnitSection(_Section):
    """An internal address (a social work unit) with a pinned OpenPGP key: mail to it is
    always sealed."""

    name: StrictStr
    address: EmailAddress
    key: Fingerprint
