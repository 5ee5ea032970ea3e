"""`mash-gateway inspect`: the decode and classify steps on raw bytes, with no side effects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gateway.cases import CaseMatch
from gateway.config import Config
from gateway.inbound.check_replies import CheckInfo
from gateway.inbound.pipeline import (
    INSPECT_STEPS,
    OutboxInfo,
    StepContext,
    StepFailed,
    Work,
    run,
)


class _NoState:
    """Inspect reads nothing from the database."""

    def outbox_row(self, row_id: int) -> OutboxInfo | None:
        return None

    def outbox_by_message_id(self, header_message_id: str) -> OutboxInfo | None:
        return None

    def open_case(
        self,
        nhs_number: str | None,
        given: str | None,
        family: str | None,
        date_of_birth: str | None,
        today: date,
    ) -> CaseMatch | None:
        return None

    def contact_exists(self, reference: str) -> bool:
        return False

    def check_by_token(self, token: str) -> CheckInfo | None:
        return None

    def check_by_request(self, header_message_id: str) -> CheckInfo | None:
        return None


def inspect_bytes(raw: bytes, config: Config, now: datetime) -> dict[str, Any]:
    ctx = StepContext(config=config, now=now, lookup=_NoState())
    try:
        result = run(INSPECT_STEPS, Work(raw=raw), ctx)
    except StepFailed as failure:
        return {
            "kind": "unknown",
            "auto_reply": False,
            "quarantine_reason": f"step-failed:{failure.step}",
            "reasons": [*failure.reasons, f"{failure.step}: raised {type(failure.error).__name__}"],
            "size": len(raw),
        }
    work = result.work
    decision = result.decision
    automatic = work.automatic
    out: dict[str, Any] = {
        "kind": (decision.kind if decision else work.kind) or "unknown",
        "auto_reply": bool(automatic and automatic.automatic)
        or bool(decision and decision.auto_reply),
        "quarantine_reason": decision.quarantine_reason if decision else None,
        "reasons": list(result.reasons),
        "size": len(raw),
    }
    if automatic is not None:
        out["automatic"] = list(automatic.reasons)
    if work.referral is not None:
        out["referral"] = work.referral.as_json()
    if work.decoded is not None:
        out["mime"] = {
            "parts": work.decoded.part_count,
            "depth": work.decoded.depth,
            "defects": list(work.decoded.defects),
        }
    return out
