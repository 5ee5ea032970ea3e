"""Is a manager's command email really from the manager? Fails closed.

Two ways, one per manager: a good signature by the key pinned in their [[manager]] `key`, or,
for a manager without a key, our boundary server's Authentication-Results (`gateway.authserv_id`)
saying `dmarc=pass` for the From: domain. Anything else (no `authserv_id` configured, no field
from our boundary, DMARC not a pass, a signature that is not the pinned key's) is a refusal
that names the condition that failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import ManagerSection
from gateway.crypto.signatures import Verdict, judge
from gateway.inbound.pipeline import StepContext, Work
from gateway.mail.authresults import boundary_dmarc


@dataclass(frozen=True)
class Authentication:
    """`method` is "signature" or "dmarc" when authenticated; else `condition` names what
    failed (for the ledger) and `why` says it in words (for the managers' alert)."""

    method: str | None
    condition: str | None = None
    why: str = ""
    verdict: Verdict | None = None

    @property
    def ok(self) -> bool:
        return self.method is not None


def authenticate(work: Work, ctx: StepContext, manager: ManagerSection) -> Authentication:
    assert work.decoded is not None
    if manager.key is not None:
        verdict = judge(
            work.crypto,
            work.decoded.message,
            ctx.config,
            expected=manager.key,
            seen=ctx.lookup.signature_seen,
        )
        if not verdict.verified:
            return Authentication(
                None,
                f"signature:{verdict.status}",
                f"{manager.name}'s key is pinned, so only mail signed with it counts; this was "
                f"not ({verdict.status}: {'; '.join(verdict.reasons) or 'no detail'})",
                verdict,
            )
        return Authentication("signature", verdict=verdict)
    authserv_id = ctx.config.gateway.authserv_id
    if not authserv_id:
        return Authentication(
            None,
            "no-authserv-id",
            f"{manager.name} has no pinned key and gateway.authserv_id is not set, so nothing "
            "can show that the mail is theirs",
        )
    envelope = work.envelope if work.envelope is not None else work.decoded.message
    dmarc = boundary_dmarc(envelope, authserv_id)
    domain = manager.address.rpartition("@")[2].lower()
    if not dmarc.found:
        return Authentication(
            None,
            "no-authentication-results",
            f"no Authentication-Results from {authserv_id} on the message",
        )
    if not dmarc.passed_for(domain):
        return Authentication(
            None,
            f"dmarc:{dmarc.result}",
            f"{authserv_id} did not find dmarc=pass for {domain} (dmarc={dmarc.result}"
            + (f", header.from={dmarc.header_from}" if dmarc.header_from else "")
            + ")",
        )
    return Authentication("dmarc")
