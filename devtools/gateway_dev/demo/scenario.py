"""Three days of a MASH, scripted: who writes when, how each partner answers, what the
manager decides. Times are Europe/London from Monday 2 March 2026, 07:00."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.store.db import Database
from gateway.store.models import Contact, OutboxRow
from gateway_dev.demo import people
from gateway_dev.demo.world import EDT, MANAGER, Identity, World

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 3, 2, 7, 0, tzinfo=LONDON)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return (START + timedelta(days=day)).replace(hour=hour, minute=minute)


@dataclass
class Partner:
    """How one agency answers a check request."""

    user: str  # its IMAP login in the world
    address: str
    reply_after: timedelta | None  # None: never (an out-of-office only)
    text: str
    out_of_office: bool = False
    identity: Identity | None = None  # signs and encrypts when set


@dataclass
class Script:
    world: World
    db: Database
    mash: Identity
    manager: Identity
    partners: dict[str, Partner]
    # (when, what, action) still to do; the actions return a line for the timeline.
    pending: list[tuple[datetime, str, Callable[[datetime], None]]] = field(default_factory=list)
    seen: dict[str, set[int]] = field(default_factory=dict)
    last_outbox: int = 0

    def __post_init__(self) -> None:
        send = self.send
        self.pending = [
            (
                at(0, 9, 0),
                "a school's DSL sends the online referral form (HTML)",
                lambda t: send(people.school_html_form(t), t),
            ),
            (
                at(0, 9, 40),
                "the manager asks police and health, RED",
                lambda t: self.command(
                    "Amira",
                    "CHECKS RED police health\nContext: Bruising and "
                    "a disclosure about the father; is the household known?",
                    t,
                ),
            ),
            (
                at(0, 10, 40),
                "a health visitor emails a Word referral form",
                lambda t: send(people.health_visitor_docx(t), t),
            ),
            (
                at(0, 11, 20),
                "the manager asks probation and housing, AMBER, overriding consent",
                lambda t: self.command(
                    "Kofi",
                    "CHECKS AMBER probation housing\nContext: Mother "
                    "intoxicated at the review; any history at the address?\n"
                    # Consent was not sought: the protocol's test, recorded (section 7).
                    "Consent-override: Mother was intoxicated caring for a baby; telling "
                    "her now may increase the immediate risk to Kofi.",
                    t,
                ),
            ),
            (
                at(0, 11, 50),
                "the manager acknowledges health's increased-risk alert",
                lambda t: self.acknowledge("manager", t),
            ),
            (
                at(0, 21, 20),
                "a neighbour writes in their own words, out of hours",
                lambda t: send(people.worried_neighbour(t), t),
            ),
            (
                # Nobody at the MASH reads this tonight: the alert's first rung goes out at
                # 22:00, and the EDT, which has it too, answers at 22:20.
                at(0, 22, 20),
                "the EDT reads its mail and acknowledges the alerts",
                lambda t: self.acknowledge("edt", t),
            ),
            (
                at(0, 23, 40),
                "an A&E nurse refers a child at immediate risk, at night",
                lambda t: send(people.night_referral(t), t),
            ),
            (
                at(0, 23, 55),
                "the EDT acknowledges the nurse's alert",
                lambda t: self.acknowledge("edt", t),
            ),
            (
                at(1, 2, 20),
                "police send an overnight Merlin notification",
                lambda t: send(people.police_notification(t), t),
            ),
            (
                at(1, 9, 40),
                "the manager screens the police notification (C)",
                lambda t: self.command(
                    "Leo",
                    "DECISION C\nReason: Domestic incident with the "
                    "child present; screen in the MASH.",
                    t,
                ),
            ),
            (
                # An outcome comes after a screening decision, which starts its clock.
                at(1, 9, 50),
                "the manager screens the neighbour's worry for early help (D)",
                lambda t: self.command_free(
                    "worried.neighbour@mail.example",
                    "DECISION D\nReason: A child left alone at night; early help screening.",
                    t,
                ),
            ),
            (
                at(1, 10, 0),
                "the manager answers the neighbour, letter withheld",
                lambda t: self.command_free(
                    "worried.neighbour@mail.example",
                    "OUTCOME advice-and-guidance\nNO LETTER\nReason: A "
                    "letter to the neighbour could identify the family.",
                    t,
                ),
            ),
            (
                at(1, 11, 0),
                "the manager decides Section 47 for Amira",
                lambda t: self.command(
                    "Amira",
                    "DECISION B\nSECTION 47\nReason: Police know of "
                    "domestic abuse; health report increased risk.",
                    t,
                ),
            ),
            (
                at(1, 14, 0),
                "the manager screens Kofi's family for early help (D)",
                lambda t: self.command(
                    "Kofi",
                    "DECISION D\nReason: Mother's drinking and a cold flat; early help screening.",
                    t,
                ),
            ),
            (
                # After probation's late answer: an outcome withdraws the checks still open.
                at(2, 11, 0),
                "the manager offers Kofi's family early help",
                lambda t: self.command(
                    "Kofi",
                    "OUTCOME early-help\nReason: Mother accepts support; no statutory threshold.",
                    t,
                ),
            ),
            (
                at(2, 14, 0),
                "the health visitor disagrees with early help for Kofi",
                lambda t: self.professional(
                    "Kofi",
                    "hana.visitor@nhs.example",
                    "DISAGREE\nKofi's mother has missed three health appointments since the "
                    "referral, and he has lost weight. Early help alone is not enough: please "
                    "review the decision.\n\nHana Visitor, health visitor",
                    t,
                ),
            ),
            (
                at(2, 12, 0),
                "the manager closes the police notification",
                lambda t: self.command(
                    "Leo",
                    "OUTCOME no-further-action\nReason: Police and school have no further concern.",
                    t,
                ),
            ),
        ]

    def send(self, raw: bytes, when: datetime) -> None:
        self.world.imap.append("mash", raw, arrived=when)

    def _reference(self, given_name: str | None = None, email: str | None = None) -> str | None:
        with self.db.transaction() as session:
            for contact in session.execute(select(Contact).order_by(Contact.id)).scalars():
                children = (contact.referral or {}).get("children") or []
                if given_name and any(c.get("given_name") == given_name for c in children):
                    return contact.reference
                if email and contact.reply_address == email:
                    return contact.reference
        return None

    def command(self, child: str, text: str, when: datetime) -> None:
        reference = self._reference(given_name=child)
        if reference is not None:
            self.send(people.manager_command(self.manager, reference, text, when), when)

    def professional(self, child: str, sender: str, text: str, when: datetime) -> None:
        reference = self._reference(given_name=child)
        if reference is not None:
            self.send(people.professional_reply(sender, reference, text, when), when)

    def command_free(self, email: str, text: str, when: datetime) -> None:
        reference = self._reference(email=email)
        if reference is not None:
            self.send(people.manager_command(self.manager, reference, text, when), when)

    def due(self, now: datetime) -> list[str]:
        """Carry out what is due by NOW; what was done, for the timeline."""
        done = []
        for item in sorted(self.pending, key=lambda p: p[0]):
            when, what, action = item
            if when <= now:
                self.pending.remove(item)
                action(when)
                done.append(what)
        return done

    def partners_read_mail(self, now: datetime) -> None:
        """Each partner reads new check requests and schedules its answer."""
        with self.db.transaction() as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.recipients).where(OutboxRow.id > self.last_outbox)
            ).all()
        if not rows:
            return
        self.last_outbox = max(row_id for row_id, _ in rows)
        addressed = {r.lower() for _, recipients in rows for r in recipients}
        for agency, partner in self.partners.items():
            if partner.address not in addressed:
                continue
            for request in self._new_requests(partner.user):
                if partner.out_of_office:
                    self.send(
                        people.partner_reply(
                            partner.address,
                            request,
                            "I am out of the office until Thursday.",
                            now,
                            auto=True,
                        ),
                        now,
                    )
                if partner.reply_after is not None:
                    answer = self._answer(partner, request)
                    self.pending.append((now + partner.reply_after, f"{agency} answers", answer))

    def _answer(self, partner: Partner, request: EmailMessage) -> Callable[[datetime], None]:
        def send(when: datetime) -> None:
            raw = people.partner_reply(
                partner.address,
                request,
                partner.text,
                when,
                identity=partner.identity,
                mash_key=self.mash.fingerprint,
            )
            self.send(raw, when)

        return send

    def acknowledge(self, user: str, when: datetime) -> None:
        """USER (the manager, or the EDT) answers each urgent alert it has not answered yet."""
        sender, text = {
            "manager": (MANAGER, "Seen; I am reading the contact now.\n\nDuty Manager"),
            "edt": (EDT, "EDT has this; a duty social worker is on the way.\n\nEDT"),
        }[user]
        seen = self.seen.setdefault(f"alerts-{user}", set())
        client = self.world.imap.session(user)
        client.select_folder("INBOX", readonly=True)
        uids = [uid for uid in client.search("ALL") if uid not in seen]
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER]"]) if uids else {}
        for uid, data in sorted(fetched.items()):
            seen.add(uid)
            message = message_from_bytes(data[b"BODY[HEADER]"], policy=default)
            subject = str(message["Subject"] or "")
            if "[ALERT #" in subject and "NOT ACKNOWLEDGED" not in subject:
                assert isinstance(message, EmailMessage)
                signer = self.manager if user == "manager" else None
                self.send(people.acknowledges(sender, message, text, when, signer), when)

    def _new_requests(self, user: str) -> list[EmailMessage]:
        seen = self.seen.setdefault(user, set())
        client = self.world.imap.session(user)
        client.select_folder("INBOX", readonly=True)
        uids = [uid for uid in client.search("ALL") if uid not in seen]
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER]"]) if uids else {}
        out = []
        for uid, data in sorted(fetched.items()):
            message = message_from_bytes(data[b"BODY[HEADER]"], policy=default)
            subject = str(message["Subject"] or "")
            if uid in seen or "MASH check" not in subject or "reminder" in subject:
                seen.add(uid)
                continue
            seen.add(uid)
            assert isinstance(message, EmailMessage)
            out.append(message)
        return out


def partners(police: Identity) -> dict[str, Partner]:
    return {
        "police": Partner(
            "police",
            "police-mash@met.example",
            timedelta(hours=1),
            "Known: two domestic call-outs to the address in 2025.\n\nPC Officer",
            identity=police,
        ),
        "health": Partner(
            "health",
            "health-mash@nhs.example",
            timedelta(hours=2),
            "RISK: INCREASED\nFather was discharged from hospital yesterday "
            "after an assault charge.\n\nNurse Lee",
        ),
        # Away: an out-of-office now, the real answer two days later: late, after the
        # reminder at the due time and the escalation the next working morning.
        "probation": Partner(
            "probation",
            "duty@probation.example",
            timedelta(hours=47),
            "Not known to probation.\n\nDuty officer",
            out_of_office=True,
        ),
    }
