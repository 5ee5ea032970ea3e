"""A synthetic quarter with known answers, built through the gateway's own code paths.

Referrals, police notifications and information requests are ingested and run through the
pipeline; checks are requested, answered by mail (or bounced) and chased by the sweep;
decisions and outcomes are recorded as `decide` records them; a FrozenClock moves between.
The quarter is 1 January to 31 March 2026; six school contacts in November 2025 are the
previous period's, and the earlier contacts the quarter's re-referrals match. Consent is
recorded and overridden, letters withheld with their reason's kind, and professionals'
disagreements raised by reply and resolved, as the gateway does them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config, load_config
from gateway.daemon import Daemon
from gateway.domain.alert_ladder import escalate_due
from gateway.domain.alerts import acknowledge
from gateway.domain.cases import parse_csv, replace_register
from gateway.domain.checks.chase import chase_due
from gateway.domain.checks.request import Request, request_checks
from gateway.domain.consent import set_status
from gateway.domain.decisions import DecisionRequest, record
from gateway.domain.disagreements import resolve
from gateway.inbound.ingest import Source, ingest
from gateway.store.alert_models import Alert
from gateway.store.disagreements import Disagreement
from gateway.store.models import Check, Contact, OutboxRow

MANAGER = "duty.manager@hackney.example"
AGENCIES = """
[[agency]]
id = "police"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
name = "Police Public Protection Desk"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
escalation_address = "ppd-inspector@met.example"
security = "tls"

[[agency]]
id = "health"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
name = "Health MASH team"
check_address = "health-mash@nhs.example"
reply_from = ["*@nhs.example"]
security = "tls"

[[agency]]
id = "education"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
name = "Education safeguarding"
check_address = "education-mash@learning.example"
reply_from = ["education-mash@learning.example"]
security = "tls"
"""


def config_text(db_url: str, state_dir: Path, extra: str = "") -> str:
    return f"""
[gateway]
database = "{db_url}"
mash_address = "mash@hackney.example"
state_dir = "{state_dir}"

[smtp]
host = "127.0.0.1"
port = 25
tls = "none"

[[manager]]
name = "Duty Manager"
address = "{MANAGER}"

[digest]
times = []

[meeting]
enabled = false

[hours]
edt_address = "edt@hackney.example"

[clocks]
section47_address = "s47-unit@hackney.example"

[front_door]
# The synthetic partners' and schools' domains are professional ones, as a MASH would set them.
professional_domains = ["*.example", "hackney.gov.uk"]
{AGENCIES}
{extra}
"""


def nhs_number(seed: int) -> str:
    """A valid NHS number (modulus 11), distinct for each seed."""
    n = 100_000_000 + seed * 7919
    while True:
        digits = [int(d) for d in f"{n:09d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            return f"{n:09d}{0 if check == 11 else check}"
        n += 1


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Child:
    name: str
    dob: str | None
    nhs: str | None


@dataclass
class Sender:
    name: str
    email: str
    organisation: str | None
    role: str | None = None


SCHOOL = Sender(
    "Sam Teacher", "sam.teacher@stjohns-school.example", "St John's Primary School", "DSL"
)
HEALTH = Sender(
    "Hana Visitor", "hana.visitor@nhs.example", "Homerton Healthcare NHS Trust", "Health visitor"
)
LA = Sender(
    "Lee Officer", "lee.officer@hackney.gov.uk", "Hackney Council Housing", "Housing officer"
)
OTHER = Sender(
    "Ola Worker", "ola.worker@youthcharity.example", "Hackney Youth Charity", "Youth worker"
)
NEIGHBOUR = Sender("Nell Neighbour", "nell.neighbour@gmail.example", None)
PROBATION = Sender("Pat Officer", "pat.officer@probation.example", "Probation Service")


def referral(
    n: int, sender: Sender, child: Child, *, urgent: bool = False, consent: bool = True
) -> bytes:
    lines = [f"Referrer's name: {sender.name}"]
    if sender.role:
        lines.append(f"Role: {sender.role}")
    if sender.organisation:
        lines.append(f"Organisation: {sender.organisation}")
    lines += [f"Email: {sender.email}", "", f"Child's name: {child.name}"]
    if child.dob:
        lines.append(f"Date of birth: {child.dob}")
    lines.append(f"Address: {n} Mare Street, London E8 1AA")
    if child.nhs:
        lines.append(f"NHS number: {child.nhs}")
    lines += [
        "Household: Mother and father (both hold PR)",
        "Concern: The child has come to school hungry and withdrawn several days running.",
        "Category of concern: Neglect",
        f"Immediate risk: {'Yes' if urgent else 'No'}",
        "Parents/carers aware of referral? Yes",
    ]
    if consent:
        lines.append("Consent: Given by mother")
    return _mail(n, sender, f"MASH referral {n}", "\n".join(lines) + "\n")


def police_notification(n: int, child: Child) -> bytes:
    body = (
        f"MERLIN reference: 01MIS02600{n:04d}\nChild's name: {child.name}\n"
        f"Date of birth: {child.dob}\nAddress: {n} Morning Lane, London E9 6NA\n"
        "Referrer's name: PC Sam Lee\nAgency: Metropolitan Police Service\n"
        "Concern: Police attended a verbal domestic argument; the child was present.\n"
        "Category: Domestic abuse\nImmediate risk: No\n"
    )
    police = Sender("CEBCU MASH PPD", "cebcu.ppd@met.police.example", None)
    return _mail(n, police, f"MERLIN PAC - Coming to Notice - {n}", body)


def information_request(n: int, child: Child) -> bytes:
    body = (
        "Please could you tell us whether the MASH holds any information about this child.\n\n"
        f"Child's name: {child.name}\nDate of birth: {child.dob}\n"
        f"Referrer's name: {PROBATION.name}\nOrganisation: {PROBATION.organisation}\n"
        f"Email: {PROBATION.email}\nReason for request: a man on licence may move in.\n"
    )
    return _mail(n, PROBATION, "Request for information - child safeguarding check", body)


def _mail(n: int, sender: Sender, subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{sender.name} <{sender.email}>"
    msg["To"] = "mash@hackney.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<world-{n}-{uuid.uuid4().hex[:8]}@example.org>"
    msg.set_content(body)
    return msg.as_bytes()


@dataclass
class World:
    config: Config
    daemon: Daemon
    clock: FrozenClock
    refs: dict[str, str] = field(default_factory=dict)

    def arrive(self, key: str, raw: bytes, when: datetime) -> str:
        self.clock.set(when)
        ingest(
            self.daemon.db,
            raw,
            Source("smtp", "front-door", session_id=uuid.uuid4().hex),
            received_at=when,
            now=when,
            role="front-door",
        )
        while self.daemon.processor.process_due():
            pass
        with self.daemon.db.transaction() as session:
            reference = session.execute(
                select(Contact.reference).order_by(Contact.id.desc()).limit(1)
            ).scalar_one()
        self.refs[key] = reference
        return reference

    def check(
        self, key: str, agency: str, rag: str, when: datetime, override: str | None = None
    ) -> int:
        self.clock.set(when)
        with self.daemon.db.transaction() as session:
            (made,) = request_checks(
                session,
                self.config,
                self.daemon.letters,
                when,
                Request(
                    self.refs[key],
                    (agency,),
                    rag,
                    "Is the household known to you?",
                    (),
                    requested_by=MANAGER,
                    consent_override=override,
                ),
            )
            return made.id

    def reply(self, check_id: int, when: datetime, text: str = "Not known to us.") -> None:
        with self.daemon.db.transaction() as session:
            check = session.get(Check, check_id)
            assert check is not None
            agency = self.config.agency_named(check.agency)
            request_id, token = check.request_message_id, check.token
        sender = agency.reply_from[0].replace("*@", "mash-team@")
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = f"mash+{token}@hackney.example"
        msg["Subject"] = f"RE: MASH check [#{token}]"
        msg["Message-ID"] = f"<reply-{uuid.uuid4().hex}@partner.example>"
        msg["In-Reply-To"] = str(request_id)
        msg.set_content(text + "\n")
        self._ingest(msg.as_bytes(), when)

    def bounce(self, check_id: int, when: datetime) -> None:
        with self.daemon.db.transaction() as session:
            check = session.get(Check, check_id)
            assert check is not None
            row = session.execute(
                select(OutboxRow).where(OutboxRow.header_message_id == check.request_message_id)
            ).scalar_one()
            envelope, message_id = row.envelope_from, row.header_message_id
            recipient = self.config.agency_named(check.agency).check_address
        dsn = (
            f"Return-Path: <>\r\nFrom: MAILER-DAEMON@partner.example\r\nTo: {envelope}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: <dsn-{uuid.uuid4().hex}@partner.example>\r\n"
            "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"\r\n\r\n'
            "--DSN\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            "--DSN\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.partner.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
            f"--DSN\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n"
            "--DSN--\r\n"
        ).encode()
        self._ingest(dsn, when)

    def _ingest(self, raw: bytes, when: datetime) -> None:
        self.clock.set(when)
        ingest(
            self.daemon.db,
            raw,
            Source("smtp", "front-door", session_id=uuid.uuid4().hex),
            received_at=when,
            now=when,
            role="front-door",
        )
        while self.daemon.processor.process_due():
            pass

    def consent(self, key: str, status: str, when: datetime) -> None:
        """The manager records the family's consent, as `mash-gateway consent` does."""
        self.clock.set(when)
        with self.daemon.db.transaction() as session:
            contact = session.execute(
                select(Contact).where(Contact.reference == self.refs[key])
            ).scalar_one()
            set_status(
                session, contact, status, by=MANAGER, reason="Spoke to the family.", now=when
            )

    def _write_again(self, key: str, sender: Sender, body: str, when: datetime) -> None:
        """SENDER replies to the latest mail about the contact, saying BODY."""
        with self.daemon.db.transaction() as session:
            latest = session.execute(
                select(OutboxRow.header_message_id)
                .where(OutboxRow.subject_ref == self.refs[key])
                .order_by(OutboxRow.id.desc())
                .limit(1)
            ).scalar_one()
        msg = EmailMessage()
        msg["From"] = f"{sender.name} <{sender.email}>"
        msg["To"] = "mash@hackney.example"
        msg["Subject"] = f"RE: {self.refs[key]}"
        msg["Message-ID"] = f"<again-{uuid.uuid4().hex}@example.org>"
        msg["In-Reply-To"] = str(latest)
        msg.set_content(body)
        self._ingest(msg.as_bytes(), when)

    def disagree(self, key: str, sender: Sender, when: datetime) -> None:
        """The professional replies to the latest mail about the contact, disagreeing."""
        with self.daemon.db.transaction() as session:
            before = session.execute(select(Disagreement.id)).all()
        body = "We disagree with this decision: the family needs more than this.\n"
        self._write_again(key, sender, body, when)
        with self.daemon.db.transaction() as session:
            after = session.execute(select(Disagreement.id)).all()
        assert len(after) == len(before) + 1, f"{key}: no disagreement was recorded"

    def worry(self, key: str, sender: Sender, when: datetime) -> None:
        """The referrer writes again: the children are in danger."""
        body = "He has come back drunk. The children are in immediate danger.\n"
        self._write_again(key, sender, body, when)

    def acknowledge(self, alert_id: int, when: datetime) -> None:
        """A manager acknowledges an urgent alert, as `mash-gateway alerts ack` does."""
        self.clock.set(when)
        with self.daemon.db.transaction() as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            assert acknowledge(session, alert, MANAGER, when, via="command line", message_id=None)

    def escalate(self, when: datetime) -> None:
        """The alert ladder's sweep, as the daemon runs it."""
        self.clock.set(when)
        escalate_due(self.daemon.db, self.config, self.clock, self.daemon.letters)

    def resolve(self, key: str, outcome: str, when: datetime) -> None:
        """A manager resolves it, as `mash-gateway disagreements resolve` does."""
        self.clock.set(when)
        with self.daemon.db.transaction() as session:
            resolve(
                session,
                self.config,
                self.daemon.letters,
                when,
                reference=self.refs[key],
                outcome=outcome,
                reason="Reviewed with the service manager.",
                by=MANAGER,
            )

    def chase(self, when: datetime) -> None:
        self.clock.set(when)
        chase_due(self.daemon.db, self.config, self.clock, self.daemon.letters)

    def decide(
        self,
        key: str,
        when: datetime,
        *,
        decision: str | None = None,
        outcome: str | None = None,
        section: str | None = None,
        withhold: str | None = None,
        category: str | None = None,
    ) -> None:
        self.clock.set(when)
        with self.daemon.db.transaction() as session:
            record(
                session,
                self.config,
                self.daemon.letters,
                when,
                DecisionRequest(
                    reference=self.refs[key],
                    reason="Recorded for the synthetic quarter.",
                    decided_by=MANAGER,
                    decision=decision,
                    outcome=outcome,
                    section=section,
                    letter=withhold is None,
                    letter_withheld_reason=withhold,
                    letter_withheld_category=category,
                ),
            )


def _child(seed: int, name: str, *, dob: bool = True, nhs: bool = True) -> Child:
    # Distinct dates of birth, so only the intended contacts are linked as re-referrals.
    day = datetime(2012, 1, 1) + timedelta(days=37 * seed)
    return Child(name, day.strftime("%d/%m/%Y") if dob else None, nhs_number(seed) if nhs else None)


def build(db_url: str, folder: Path, extra_config: str = "") -> World:
    """The quarter's world; the test module lists what each figure must then be."""
    path = folder / "mailboxes.toml"
    path.write_text(config_text(db_url, folder / "state", extra_config), encoding="utf-8")
    config = load_config(path)
    clock = FrozenClock(at("2025-11-01T09:00"))
    daemon = Daemon(config, clock)
    daemon.prepare()
    world = World(config, daemon, clock)

    names = [
        "Amira Okafor",
        "Ben Carter",
        "Chloe Dunn",
        "Dara Evans",
        "Eli Fox",
        "Finn Grey",
        "Gia Hall",
        "Hugo Irwin",
        "Isla Jones",
        "Jack King",
        "Kemi Lowe",
        "Liam Moss",
    ]
    school = [_child(i, names[i]) for i in range(8)]  # S1..S8
    health = [_child(20 + i, f"Noor Patel{'ABCDEF'[i]}") for i in range(6)]  # H1..H6

    # The open-cases register: S1 and H1 are open to units, so forwarded at the door.
    register = "nhs_number,given_name,family_name,date_of_birth,unit,unit_email,status,closed_on\n"
    for child in (school[0], health[0]):
        given, family = child.name.split(" ", 1)
        register += f"{child.nhs},{given},{family},{child.dob},Unit 3,unit3@hackney.example,open,\n"
    with daemon.db.transaction() as session:
        replace_register(session, parse_csv(register), clock.now())

    # The previous period: six school contacts on Tuesday 11 November 2025, about the
    # children who come back in the quarter (S2..S6 and H2); five police checks, answered.
    before = [*school[1:6], health[1]]
    for i, child in enumerate(before):
        world.arrive(
            f"Q{i + 1}",
            referral(100 + i, SCHOOL, child),
            at("2025-11-11T10:00") + timedelta(minutes=30 * i),
        )
    for i in range(5):
        cid = world.check(f"Q{i + 1}", "police", "amber", at("2025-11-11T14:00"))
        world.reply(cid, at("2025-11-11T16:00"))
    # Q1's letter withheld before reasons had kinds (so "not given"); Q2's referrer disagrees.
    world.decide(
        "Q1", at("2025-11-12T10:00"), decision="A", withhold="The school was told by phone."
    )
    world.disagree("Q2", SCHOOL, at("2025-11-12T11:00"))

    # The quarter's contacts.
    for i, child in enumerate(school):  # Tue 13 Jan, in hours; S7 and S8 urgent
        world.arrive(
            f"S{i + 1}",
            referral(i + 1, SCHOOL, child, urgent=i >= 6),
            at("2026-01-13T10:00") + timedelta(minutes=30 * i),
        )
    for i, child in enumerate(health):  # Wed 4 Feb
        world.arrive(
            f"H{i + 1}",
            referral(20 + i, HEALTH, child),
            at("2026-02-04T10:00") + timedelta(minutes=30 * i),
        )
    for i in range(5):  # Sun 15 Feb, overnight police notifications
        world.arrive(
            f"P{i + 1}",
            police_notification(40 + i, _child(40 + i, f"Ruby Adeyemi{'ABCDE'[i]}", nhs=False)),
            at("2026-02-15T02:00") + timedelta(minutes=10 * i),
        )
    for i in range(5):  # Mon 2 Mar; L4 and L5 without an NHS number
        world.arrive(
            f"L{i + 1}",
            referral(50 + i, LA, _child(50 + i, f"Sami Quinn{'ABCDE'[i]}", nhs=i < 3)),
            at("2026-03-02T11:00") + timedelta(minutes=30 * i),
        )
    for i in range(5):  # Tue 10 Mar, information requests
        world.arrive(
            f"R{i + 1}",
            information_request(60 + i, _child(60 + i, f"Kai Turner{'ABCDE'[i]}", nhs=False)),
            at("2026-03-10T10:00") + timedelta(minutes=30 * i),
        )
    for i in range(2):  # Thu 19 Mar; O2 gives no consent
        world.arrive(
            f"O{i + 1}",
            referral(70 + i, OTHER, _child(70 + i, f"Tom Umar{'AB'[i]}"), consent=i == 0),
            at("2026-03-19T10:00") + timedelta(minutes=30 * i),
        )
    for i in range(3):  # Sat 21 Mar, a neighbour: no date of birth, NHS number or consent
        world.arrive(
            f"I{i + 1}",
            referral(
                80 + i,
                NEIGHBOUR,
                _child(80 + i, f"Zoe Vance{'ABC'[i]}", dob=False, nhs=False),
                consent=False,
            ),
            at("2026-03-21T20:00") + timedelta(minutes=10 * i),
        )

    # Checks and their answers (hours after the request in the comments).
    police_s = {
        k: world.check(k, "police", "amber", at("2026-01-13T14:00"))
        for k in ("S2", "S3", "S4", "S5", "S6")
    }
    health_red = {k: world.check(k, "health", "red", at("2026-01-13T14:00")) for k in ("S7", "S8")}
    education = {
        k: world.check(k, "education", "amber", at("2026-01-13T14:00")) for k in ("S7", "S8")
    }
    world.reply(police_s["S2"], at("2026-01-13T16:00"))  # 2
    world.reply(
        health_red["S7"], at("2026-01-13T15:00"), "RISK: INCREASED\nFather known for violence."
    )  # 1
    world.reply(health_red["S8"], at("2026-01-13T16:00"))  # 2
    world.reply(education["S7"], at("2026-01-13T17:00"))  # 3
    world.reply(police_s["S3"], at("2026-01-13T18:00"))  # 4
    world.reply(education["S8"], at("2026-01-14T09:00"))  # 19
    world.reply(police_s["S4"], at("2026-01-14T10:00"))  # 20
    world.chase(at("2026-01-15T10:00"))  # S5, S6: both rungs due, the escalation sent
    world.reply(police_s["S5"], at("2026-01-15T14:00"))  # 48, late
    world.reply(police_s["S6"], at("2026-01-16T14:00"))  # 72, late

    police_h = {
        k: world.check(k, "police", "amber", at("2026-02-04T14:00"))
        for k in ("H2", "H3", "H4", "H5", "H6")
    }
    world.reply(police_h["H2"], at("2026-02-04T15:00"))  # 1
    world.reply(police_h["H3"], at("2026-02-05T12:00"))  # 22
    world.chase(at("2026-02-05T15:00"))  # H4, H5, H6: the first reminder
    world.reply(police_h["H4"], at("2026-02-05T16:00"))  # 26, late
    world.chase(at("2026-02-06T10:00"))  # H5, H6: the escalation
    world.reply(police_h["H5"], at("2026-02-06T14:00"))  # 48, late
    world.reply(police_h["H6"], at("2026-02-06T20:00"))  # 54, late

    health_l = {
        k: world.check(k, "health", "green", at("2026-03-02T14:00"))
        for k in ("L1", "L2", "L3", "L4", "L5")
    }
    world.bounce(health_l["L4"], at("2026-03-02T15:00"))
    world.reply(health_l["L1"], at("2026-03-03T14:00"))  # 24
    world.reply(health_l["L2"], at("2026-03-04T14:00"))  # 48
    world.reply(health_l["L3"], at("2026-03-05T10:00"))  # 68

    # Decisions and outcomes.
    world.decide("S7", at("2026-01-14T12:00"), decision="B", section="47")
    world.decide("S8", at("2026-01-14T12:30"), decision="B", section="47")
    world.decide("S2", at("2026-01-19T11:00"), decision="A")
    world.decide("S3", at("2026-01-19T11:10"), decision="A")
    for key in ("S4", "S5", "S6"):
        world.decide(key, at("2026-01-19T10:00"), decision="C")
    world.decide("S4", at("2026-01-19T20:00"), outcome="statutory-assessment", section="17")
    world.decide("S5", at("2026-01-20T09:00"), outcome="early-help")
    world.decide("S6", at("2026-01-20T08:00"), outcome="advice-and-guidance")
    for key in ("H2", "H3", "H4"):
        world.decide(key, at("2026-02-09T10:00"), decision="C")
    for key in ("H5", "H6"):
        world.decide(key, at("2026-02-09T10:05"), decision="D")
    world.decide("H2", at("2026-02-09T12:00"), outcome="statutory-assessment", section="47")
    world.decide("H4", at("2026-02-09T15:00"), outcome="community-service")
    world.decide("H3", at("2026-02-10T09:00"), outcome="early-help")
    world.decide("H5", at("2026-02-10T10:00"), outcome="early-help")
    world.decide("H6", at("2026-02-11T10:00"), outcome="early-help")
    # The police notifications' families: P1 and P2 refused consent, P3 and P4 gave it.
    for key, status in (("P1", "refused"), ("P2", "refused"), ("P3", "given"), ("P4", "given")):
        world.consent(key, status, at("2026-02-16T09:00"))
    # Every police notification's letter withheld: the police asked (an investigation).
    police_asked = {"withhold": "Police asked us not to write.", "category": "investigation"}
    for i in range(4):
        world.decide(
            f"P{i + 1}", at("2026-02-16T10:00") + timedelta(minutes=5 * i), decision="A",
            **police_asked,
        )  # fmt: skip
    # Screened first (an outcome never comes before a decision), then sent to the unit.
    world.decide("P5", at("2026-02-16T10:30"), decision="D")
    world.decide("P5", at("2026-02-16T11:00"), outcome="forwarded-to-unit", **police_asked)
    world.decide("L1", at("2026-03-09T11:00"), decision="B", section="17")
    for key in ("L3", "L4", "L5"):
        world.decide(key, at("2026-03-09T10:00"), decision="D")
    world.decide("L3", at("2026-03-10T10:00"), outcome="community-service")
    world.decide(
        "L5", at("2026-03-11T10:00"), outcome="advice-and-guidance"
    )  # withdraws L5's check
    world.decide("L4", at("2026-03-13T10:00"), outcome="early-help")  # 96 hours: late
    for i in range(5):  # answered within 10 working days
        world.decide(
            f"R{i + 1}", at("2026-03-12T10:00") + timedelta(minutes=i), outcome="no-further-action"
        )
    for key in ("O1", "O2"):
        world.decide(key, at("2026-03-19T12:00"), decision="D")
    world.decide("O1", at("2026-03-20T12:00"), outcome="early-help")  # O2: the clock ran out
    world.decide(
        "I1", at("2026-03-23T10:00"), decision="A", withhold="A neighbour: no detail to give.",
        category="third-party",
    )  # fmt: skip
    world.decide("L2", at("2026-03-31T12:00"), decision="C")  # still running on 1 April 09:00

    # Consent: O2's family and the neighbour's three refused it when the MASH asked.
    for key in ("O2", "I1", "I2", "I3"):
        world.consent(key, "refused", at("2026-03-24T09:00"))

    # Professional disagreements, raised by reply and resolved by a manager: 5 upheld, 6 not
    # upheld, 1 escalated, and S8's still open at the report (resolved on 2 April).
    raised = [*(("S3", "S4", "S5", "S6", "S7")), "L1", "L3", "H2", "H3", "H4", "H5", "H6"]
    for i, key in enumerate(raised):
        who = {"S": SCHOOL, "L": LA, "H": HEALTH}[key[0]]
        world.disagree(key, who, at("2026-03-25T10:00") + timedelta(minutes=10 * i))
    for key in raised:
        outcome = (
            "upheld" if key in ("S3", "S4", "S5", "S6", "L1")
            else "escalated" if key == "S7" else "not-upheld"
        )  # fmt: skip
        world.resolve(key, outcome, at("2026-03-27T10:00"))
    world.disagree("S8", SCHOOL, at("2026-03-30T10:00"))

    # Urgent alerts (raised by the gateway itself): S7's and S8's forms and S7's RED answer,
    # Tue 13 Jan in hours (alerts 1-3); three referrers write again on Saturday 28 March at
    # night that the children are in danger (alerts 4-6, out of hours: the EDT's too).
    # Acknowledged after 10, 20, 45 (one reminder), 5 and 90 minutes (two reminders); alert 6
    # never (three reminders). Known answers: 6 raised, 3 out of hours and to the EDT, 5
    # acknowledged, 3 in time, 3 escalated, median 20 minutes.
    world.acknowledge(1, at("2026-01-13T13:10"))
    world.acknowledge(2, at("2026-01-13T13:50"))
    world.escalate(at("2026-01-13T15:30"))
    world.acknowledge(3, at("2026-01-13T15:45"))
    night = at("2026-03-28T22:00")
    for i, (key, who) in enumerate((("H2", HEALTH), ("H3", HEALTH), ("L1", LA))):
        world.worry(key, who, night + timedelta(minutes=10 * i))
    world.acknowledge(4, night + timedelta(minutes=5))
    for minutes in (40, 50, 70, 80):
        world.escalate(night + timedelta(minutes=minutes))
    world.acknowledge(5, night + timedelta(minutes=100))
    world.escalate(night + timedelta(minutes=110))

    # After the quarter, before the report: a manager overrides the refusals of the three
    # families still open to share with the police (protocol section 7).
    for key in ("O2", "I2", "I3"):
        world.check(
            key, "police", "red", at("2026-04-01T08:00"),
            override="Telling the family may put the children at immediate risk.",
        )  # fmt: skip
    world.resolve("S8", "upheld", at("2026-04-02T10:00"))
    return world


REPORT_NOW = at("2026-04-01T09:00")
