"""The digest's sections about the referrer's voice: referrers whose kind a manager should
confirm (they get the public letters meanwhile), and professionals' open disagreements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.orm import Session

from gateway.durations import ago, due
from gateway.reports.sections import Section
from gateway.store.disagreements import Disagreement
from gateway.store.models import Contact

CLOSED = ("closed", "forwarded", "answered")


def unsure_referrers() -> Select[Contact]:
    """Open contacts whose referrer's kind a manager should confirm.

    Served by the partial index ix_contacts_referrer_unsure (migration 0022), which holds only
    these: the closed unsure ones pile up with the years. The closed states are written into
    the statement (literal_execute), so that the planner can see it implies the index's WHERE.
    """
    closed: BindParameter[str] = bindparam("closed", CLOSED, expanding=True, literal_execute=True)
    return (
        select(Contact)
        .where(Contact.referrer_unsure.is_(True), Contact.status.not_in(closed))
        .order_by(Contact.received_at)
    )


def referrer_sections(session: Session, now: datetime) -> list[Section]:
    unsure = session.execute(unsure_referrers()).scalars()
    lines = [
        f"{c.reference} (received {ago(now, c.received_at)}, treated as {c.referrer_kind}): "
        + "; ".join(c.referrer_reasons or ["the referrer's kind is not certain"])
        for c in unsure
    ]
    if not lines:
        return []
    return [
        Section(
            "Referrers to confirm",
            lines,
            todo="Reply with REFERRER professional (or public, or family) in a message whose "
            "subject names the reference.",
            cli="mash-gateway contacts set-referrer REF --kind professional --by MANAGER",
        )
    ]


def disagreement_sections(session: Session, now: datetime) -> list[Section]:
    rows = session.execute(
        select(Disagreement, Contact.reference)
        .join(Contact, Contact.id == Disagreement.contact_id)
        .where(Disagreement.status == "open")
        .order_by(Disagreement.respond_by)
    ).all()
    lines = [
        f"{reference}: {d.raised_by} disagrees (raised {ago(now, d.raised_at)}); "
        f"the answer is {due(now, d.respond_by)}"
        for d, reference in rows
    ]
    if not lines:
        return []
    return [
        Section(
            "Professional disagreements open",
            lines,
            todo="Review the decision with the professional, then reply to the disagreement's "
            "email with RESOLVE upheld (or not-upheld, or escalated) and a Reason: paragraph.",
            cli="mash-gateway disagreements resolve REF --outcome upheld|not-upheld|escalated "
            '--reason "..." --by MANAGER',
        )
    ]
