"""The durable outbox: rows written in the handler's transaction, claimed and sent later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.crypto.pgp_mime import seal
from gateway.mail.verp import verp_address
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters, OutgoingMail, build_mime, new_message_id
from gateway.outbound.sealing_policy import Required, required
from gateway.store import ledger
from gateway.store.models import OutboxRow


def enqueue(
    session: Session,
    config: Config,
    letters: Letters,
    mail: OutgoingMail,
    now: datetime,
    *,
    source_message_id: int | None = None,
) -> OutboxRow:
    """Build the bytes now (fixed Message-ID) and queue them, with the ledger event."""
    message_id = new_message_id(
        config.gateway.mash_address, mail.message_id_tag, mail.message_id_kind
    )
    raw = build_mime(
        letters,
        mail,
        mash_address=config.gateway.mash_address,
        instance=config.gateway.instance,
        message_id=message_id,
        now=now,
    )
    sealing, mixed = _sealing_for(config, mail)
    held = [*mixed, *unusable_keys(config, letters, sealing, now)]
    if not held and sealing.wanted:
        raw = seal_mail(config, letters, sealing, raw)
    row = OutboxRow(
        header_message_id=message_id,
        envelope_from="",
        recipients=[*mail.recipients, *mail.cc],
        raw=raw,
        # The column is short (String(64)); the ledger event below keeps the whole purpose.
        # A check request's purpose quotes its context, which PostgreSQL would refuse whole.
        purpose=mail.purpose[:64],
        subject_ref=mail.subject_ref,
        automatic=mail.automatic,
        # Never plaintext where encryption is due: held until the key is fixed.
        state="held" if held else "pending",
        last_error="; ".join(held) or None,
        sealing=sealing.as_json() if sealing.wanted else None,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        source_message_id=source_message_id,
        priority=mail.priority,
    )
    session.add(row)
    session.flush()
    row.envelope_from = verp_address(config.gateway.mash_address, row.id, message_id)
    ledger.append(
        session,
        now,
        ledger.Event(
            action="mail-queued",
            subject_ref=mail.subject_ref,
            recipient=", ".join([*mail.recipients, *mail.cc]),
            purpose=mail.purpose,
            detail={
                "outbox_id": row.id,
                "message_id": message_id,
                "template": mail.template,
                **(mail.share or {}),
            },
        ),
    )
    if held:
        _hold(session, config, letters, mail, row, held, now)
    return row


def _sealing_for(config: Config, mail: OutgoingMail) -> tuple[Sealing, list[str]]:
    """What the handler asked for, and whatever the recipients demand (a `pgp` agency, a keyed
    unit or section 47 address): sealed to their keys, whoever built the mail. The problems
    are why it must be held however the keys stand (one message, sealed and clear recipients)."""
    need = (
        Required() if mail.content_free else required(config, [*mail.recipients, *mail.cc])
    )
    keys = tuple(dict.fromkeys([*mail.encrypt_to, *need.keys]))
    outer = mail.outer_subject
    if need.keys and outer is None:
        outer = f"MASH {mail.subject_ref}" if mail.subject_ref else "MASH"
    sealing = Sealing(mail.sign or bool(keys), keys, outer)
    return sealing, list(need.problems)


@dataclass(frozen=True)
class Sealing:
    sign: bool = False
    encrypt_to: tuple[str, ...] = ()
    outer_subject: str | None = None

    @property
    def wanted(self) -> bool:
        return self.sign or bool(self.encrypt_to)

    def as_json(self) -> dict[str, Any]:
        return {
            "sign": self.sign,
            "encrypt_to": list(self.encrypt_to),
            "outer_subject": self.outer_subject,
        }

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Sealing:
        data = data or {}
        return cls(
            bool(data.get("sign")), tuple(data.get("encrypt_to") or ()), data.get("outer_subject")
        )


def unusable_keys(config: Config, letters: Letters, mail: Sealing, now: datetime) -> list[str]:
    """Why it cannot be encrypted now (empty: it can, or needs no encryption)."""
    if not mail.encrypt_to:
        return []
    if letters.keyring is None:
        return ["no keyring: gateway.gnupg_home is not set"]
    problems = []
    keys = {k.fingerprint: k for k in letters.keyring.list_keys()}
    for fingerprint in (*mail.encrypt_to, *filter(None, [config.gateway.signing_key])):
        key = keys.get(fingerprint.upper())
        problem = "is not in the keyring" if key is None else key.problem(now)
        if problem:
            problems.append(f"key {fingerprint} {problem}")
    if not config.gateway.signing_key:
        problems.append("no gateway.signing_key to sign with")
    return problems


def seal_mail(config: Config, letters: Letters, mail: Sealing, raw: bytes) -> bytes:
    keyring = letters.keyring
    if keyring is None or not config.gateway.signing_key:
        return raw  # nothing to sign with; encryption never gets here without a key
    recipients = [*mail.encrypt_to, config.gateway.signing_key] if mail.encrypt_to else None
    return seal(raw, keyring, encrypt_to=recipients, outer_subject=mail.outer_subject or "MASH")


def _hold(
    session: Session,
    config: Config,
    letters: Letters,
    mail: OutgoingMail,
    row: OutboxRow,
    problems: list[str],
    now: datetime,
) -> None:
    """The managers are told; the recipient gets at most a notice with no content at all."""
    ledger.append(
        session,
        now,
        ledger.Event(
            action="mail-held",
            subject_ref=mail.subject_ref,
            recipient=", ".join(row.recipients),
            purpose=mail.purpose,
            detail={"outbox_id": row.id, "why": problems},
        ),
    )
    alert = manager_alert(
        config,
        now,
        title="a message to a partner is held: it cannot be encrypted",
        lines=[f"To: {', '.join(row.recipients)}", f"Purpose: {mail.purpose}", *problems],
        action="Ask the recipient for a current public key, and an operator to import it; "
        "the held message is then sealed and sent by the next sweep.",
        reference=mail.subject_ref,
        cli="mash-gateway keys import FILE",
    )
    notice = OutgoingMail(
        template="pgp_notice",
        values={"problem": "your OpenPGP key is missing, expired or revoked"},
        recipients=mail.recipients,
        purpose="content-free notice: a secure message is waiting",
        content_free=True,
    )
    for extra in filter(None, (alert, notice)):
        enqueue(session, config, letters, extra, now)


def release_held(session: Session, config: Config, letters: Letters, now: datetime) -> int:
    """Seal and queue held mail whose keys are usable again."""
    released = 0
    for row in session.execute(select(OutboxRow).where(OutboxRow.state == "held")).scalars():
        mail = Sealing.of(row.sealing)
        if unusable_keys(config, letters, mail, now) or required(config, row.recipients).problems:
            continue
        row.raw = seal_mail(config, letters, mail, row.raw)
        row.state, row.last_error, row.next_attempt_at = "pending", None, now
        ledger.append(
            session,
            now,
            ledger.Event(
                action="mail-released",
                subject_ref=row.subject_ref,
                recipient=", ".join(row.recipients),
                purpose=row.purpose,
                detail={"outbox_id": row.id},
            ),
        )
        released += 1
    return released


def claim_due(
    session: Session, now: datetime, owner: str, lease: timedelta, limit: int, skip_locked: bool
) -> list[OutboxRow]:
    """Lease due rows to `owner`. Expired leases (a crashed sender) are claimable again."""
    query = (
        select(OutboxRow)
        .where(
            OutboxRow.state.in_(("pending", "sending")),
            OutboxRow.next_attempt_at <= now,
            or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
        )
        # Urgent alerts first: they never wait behind routine mail queued before them.
        .order_by(OutboxRow.priority.desc(), OutboxRow.next_attempt_at, OutboxRow.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = list(session.execute(query).scalars())
    for row in rows:
        row.state = "sending"
        row.lease_until = now + lease
        row.lease_owner = owner
        row.lease_token = (row.lease_token or 0) + 1
    return rows


def urgent_waiting(session: Session, now: datetime) -> bool:
    """Whether an urgent row is due and free to claim (a cheap read before each routine send)."""
    found = session.execute(
        select(OutboxRow.id)
        .where(
            OutboxRow.state == "pending",
            OutboxRow.priority > 0,
            OutboxRow.next_attempt_at <= now,
            or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
        )
        .limit(1)
    ).first()
    return found is not None


def release_claims(session: Session, claims: list[tuple[int, int]], owner: str) -> None:
    """Hand claimed rows back unsent (only while the claim is still this one)."""
    for row_id, token in claims:
        session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == row_id,
                OutboxRow.state == "sending",
                OutboxRow.lease_owner == owner,
                OutboxRow.lease_token == token,
            )
            .values(state="pending", lease_until=None, lease_owner=None)
        )


def renew_lease(
    session: Session, row_id: int, owner: str, token: int, now: datetime, lease: timedelta
) -> bool:
    """Extend one claimed row's lease, only while the claim is still this one (owner and token):
    the check made before each send, so a row taken over by another instance is never sent."""
    result = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == row_id,
            OutboxRow.state == "sending",
            OutboxRow.lease_owner == owner,
            OutboxRow.lease_token == token,
            OutboxRow.lease_until >= now,
        )
        .values(lease_until=now + lease)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def release_own_leases(session: Session, owner: str) -> int:
    """At start-up an instance takes back what it held when it last stopped or crashed."""
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "sending", OutboxRow.lease_owner == owner)
        .values(lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
