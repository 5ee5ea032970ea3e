"""Sharing the law allows, end to end: Dovecot in, the command line, aiosmtpd out, the ledger.

Data-sharing agreements, consent and its override, the lawful basis on every share, the
household in every check, no checks on closed contacts and no outcome before a decision.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from helpers import plain_message
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.store.models import AuditEvent, Check, Contact

BASE = (sys.executable, "-m", "gateway", "-c")
MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
REF = "MASH-2026-000001"
POLICE = "police-mash@met.example"
PROBATION = "duty@probation.example"
HOUSING = "housing@council.example"
PASSED = "mx.hackney.example; dmarc=pass header.from=hackney.example"
AGENCIES = """
[[agency]]
id = "police"
name = "Police Public Protection Desk"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "tls"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
dsa_review = 2026-03-20

[[agency]]
id = "probation"
name = "Probation"
check_address = "duty@probation.example"
reply_from = ["duty@probation.example"]
security = "tls"
dsa_signed = 2024-02-01
dsa_review = 2026-02-01

[[agency]]
id = "housing"
name = "Housing"
check_address = "housing@council.example"
reply_from = ["*@council.example"]
security = "tls"
"""
# A form that names the household's adults with their dates of birth, and the alleged person.
FORM = """Referrer's name: Sam Teacher
Organisation: St John's Primary School
Email: sam.teacher@stjohns-school.example
Child's name: Amira Okafor
Date of birth: 03/04/2019
Address: 12 Mare Street, London
Postcode: E8 1AA
Household: Mother Jo Okafor (holds PR), father Dan Okafor (holds PR)
Parent/carer name: Jo Okafor
Parent/carer date of birth: 02/01/1988
Alleged perpetrator: Lee Green
Alleged perpetrator's date of birth: 1 May 1990
Concern: Amira arrived with bruising to her upper arm after a weekend at home.
Category of concern: Physical abuse
Immediate risk: No
Parents aware: {aware}
Consent: {consent}
"""


def _form(consent: str, aware: str = "Yes", n: int = 1) -> bytes:
    return plain_message(
        n,
        sender="Sam Teacher <sam.teacher@stjohns-school.example>",
        subject="MASH referral - Amira Okafor",
        body=FORM.format(consent=consent, aware=aware),
    )


class Mash:
    def __init__(self, dovecot: Dovecot, smtp: RecordingSmtp, make_config: MakeConfig, url: str):
        self.cfg, self.path = make_config(
            db_url=url,
            dovecot=dovecot,
            smtp=smtp,
            extra=AGENCIES,
            # The MASH's boundary stamps Authentication-Results; a manager's command counts
            # only with its dmarc=pass there (gateway/inbound/authority.py).
            gateway_extra='authserv_id = "mx.hackney.example"',
        )
        self.dovecot, self.smtp = dovecot, smtp
        self.now = START
        self.daemon = Daemon(self.cfg, FrozenClock(START))
        self.daemon.prepare()

    def arrive(self, *raws: bytes) -> None:
        for raw in raws:
            self.dovecot.append("mash", raw, arrived=self.now)
        self.run()

    def run(self) -> None:
        self.daemon.clock.set(self.now)  # type: ignore[attr-defined]
        assert self.daemon.run_once().mailbox_errors == {}

    def cli(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*BASE, str(self.path), "--now", self.now.isoformat(), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == code, done.stdout + done.stderr
        return done

    def check(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        return self.cli(
            "checks", "request", REF, "--rag", "amber", "--by", "Duty Manager",
            "--context", "Bruising reported; is the household known?", *args, code=code,
        )  # fmt: skip

    def to(self, address: str) -> list[Received]:
        return [m for m in self.smtp.messages if address in m.recipients]

    def events(self, action: str) -> list[dict[str, object]]:
        with self.daemon.db.transaction() as session:
            rows = session.execute(
                select(AuditEvent.detail).where(AuditEvent.action == action)
            ).scalars()
            return [json.loads(r) for r in rows]

    def checks(self) -> list[str]:
        with self.daemon.db.transaction() as session:
            return list(session.execute(select(Check.agency).order_by(Check.id)).scalars())


def _command(body: str, n: int) -> bytes:
    return plain_message(
        n,
        sender="duty.manager@hackney.example",
        subject=f"Re: {REF}",
        body=body,
        headers={"Authentication-Results": PASSED},
    )


def _text(received: Received) -> str:
    message = message_from_bytes(received.data, policy=default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return f"{message['Subject']}\n{body.get_content()}"


@pytest.fixture
def mash(db_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig) -> Mash:
    return Mash(dovecot, smtp_sink, make_config, db_url)


def test_no_share_to_an_agency_without_a_data_sharing_agreement(mash: Mash) -> None:
    mash.arrive(_form("Given by mother"))
    refused = mash.check("--agency", "police", "--agency", "housing", code=2)
    assert "housing" in refused.stderr and "data-sharing agreement" in refused.stderr
    assert "dsa_signed" in refused.stderr
    mash.run()
    assert mash.checks() == [] and not mash.to(HOUSING) and not mash.to(POLICE)
    # A command email is refused the same way, by email.
    mash.arrive(_command("CHECKS RED housing\nContext: Is the family known at the address?\n", 40))
    (answer,) = [m for m in mash.to("duty.manager@hackney.example") if "command" in _text(m)]
    assert "not carried out" in _text(answer) or "refused" in _text(answer).lower()
    assert "data-sharing agreement" in _text(answer)
    assert mash.checks() == [] and not mash.to(HOUSING)


def test_a_check_states_consent_the_lawful_basis_and_the_household(mash: Mash) -> None:
    mash.arrive(_form("Given by mother"))
    done = mash.check("--agency", "police")
    assert "consent: given" in done.stdout and "lawful basis: UK GDPR" in done.stdout
    mash.run()
    (request,) = mash.to(POLICE)
    text = _text(request)
    assert "Consent: given by the family" in text
    assert "Article 6(1)(e)" in text and "Article 9(2)(g)" in text
    assert "Schedule 1 paragraph 18" in text
    assert "Data-sharing agreement: London MASH DSA Jan21 (confirmed 15 January 2025)" in text
    # The household, by its identifying details only: partners search by adults and addresses.
    assert "Jo Okafor (mother), born 1988-01-02" in text
    assert "Dan Okafor (father)" in text
    assert "Lee Green, the alleged person, born 1990-05-01" in text
    assert "Address: 12 Mare Street, London, E8 1AA" in text
    assert "weekend at home" not in text and "bruising to her upper arm" not in text
    (requested,) = mash.events("check-requested")
    assert requested["consent"] == {"status": "given", "override": None}
    assert str(requested["lawful_basis"]).startswith("UK GDPR Article 6(1)(e)")
    assert requested["purpose"] == "MASH check: Bruising reported; is the household known?"
    queued = [e for e in mash.events("mail-queued") if e.get("template") == "check_request"]
    assert queued and queued[0]["agreement"] == "London MASH DSA Jan21 (confirmed 15 January 2025)"
    shown = mash.cli("audit", "show", REF).stdout
    assert "lawful basis: UK GDPR Article 6(1)(e)" in shown and "consent: given" in shown


def test_consent_refused_needs_an_override_which_is_recorded_and_reused(mash: Mash) -> None:
    mash.arrive(_form("Refused by father"))
    refused = mash.check("--agency", "police", code=1)
    assert "consent for MASH-2026-000001 is refused" in refused.stderr
    assert "--consent-override" in refused.stderr
    assert mash.check("--agency", "police", "--consent-override", "  ", code=1).stderr
    stranger = mash.cli(
        "checks", "request", REF, "--agency", "police", "--rag", "red", "--context", "x",
        "--consent-override", "urgent", "--by", "Someone Else", code=2,
    )  # fmt: skip
    assert "not a configured [[manager]]" in stranger.stderr
    assert mash.checks() == []

    reason = "Father is the alleged abuser; telling the family may put Amira at immediate risk."
    done = mash.check("--agency", "police", "--consent-override", reason)
    assert "overridden by Duty Manager <duty.manager@hackney.example>" in done.stdout
    test = "speaking to the family about the concerns may increase the immediate risk"
    assert test in done.stdout
    shown = json.loads(mash.cli("contacts", "show", REF, "--json").stdout)
    assert shown["consent"] == {
        "status": "refused",
        "child": None,
        "override": {
            "by": "Duty Manager <duty.manager@hackney.example>",
            "at": START.isoformat(),
            "reason": reason,
        },
    }
    listed = json.loads(mash.cli("contacts", "list", "--json").stdout)
    assert listed[0]["consent"]["override"]["reason"] == reason
    mash.run()
    text = _text(mash.to(POLICE)[0])
    assert "not given (refused); overridden by a MASH manager" in text
    assert reason not in text  # the reason stays with the MASH unless configured otherwise

    # A later share on the same contact relies on the same override, stated again.
    mash.now = START + timedelta(hours=2)
    mash.check("--agency", "probation")
    requests = mash.events("check-requested")
    assert [r["consent"] for r in requests] == [
        {"status": "refused", "override": shown["consent"]["override"]}
    ] * 2
    assert len(mash.events("consent-overridden")) == 1
    audit = mash.cli("audit", "show", REF).stdout
    print(audit)  # the closing note quotes this
    assert "consent-overridden" in audit and reason in audit
    assert audit.count("consent: refused, overridden by Duty Manager") >= 2
    assert "lawful basis: UK GDPR Article 6(1)(e)" in audit
    assert mash.cli("audit", "verify").returncode == 0


def test_a_command_email_overrides_consent_and_is_told_the_protocols_test(mash: Mash) -> None:
    mash.arrive(_form("Not sought"))
    mash.arrive(_command("CHECKS AMBER police\nContext: Is the household known?\n", 41))
    (refused,) = [m for m in mash.to("duty.manager@hackney.example") if "command" in _text(m)]
    assert "consent for MASH-2026-000001 is not-sought" in _text(refused)
    assert "Consent-override" in _text(refused) and mash.checks() == []
    reason = "Father is the alleged abuser; asking the family may increase the risk to Amira."
    mash.arrive(
        _command(
            f"CHECKS AMBER police\nContext: Is the household known?\nConsent-override: {reason}\n",
            42,
        )
    )
    answers = [m for m in mash.to("duty.manager@hackney.example") if "command" in _text(m)]
    done = _text(answers[-1])
    assert "AMBER check to police" in done and reason in done
    assert "speaking to the family about the concerns may increase the immediate risk" in done
    assert mash.checks() == ["police"]
    shown = json.loads(mash.cli("contacts", "show", REF, "--json").stdout)
    override = shown["consent"]["override"]
    assert override["by"] == "duty.manager@hackney.example" and override["reason"] == reason
    request = _text(mash.to(POLICE)[0])
    assert "overridden by a MASH manager" in request and reason not in request
    assert "Is the household known?" in request  # the context, without the override's reason


def test_a_manager_records_consent(mash: Mash) -> None:
    mash.arrive(_form("", aware="No"))
    shown = json.loads(mash.cli("contacts", "show", REF, "--json").stdout)
    assert shown["consent"] == {"status": "not-sought", "child": None, "override": None}
    mash.cli("consent", REF, "--status", "bogus", code=2)
    mash.cli("consent", REF, "--status", "given", "--by", "Nobody", code=2)
    done = mash.cli(
        "consent", REF, "--status", "given", "--by", "duty.manager@hackney.example",
        "--reason", "Mother agreed on the phone at 10:20", "--json",
    )  # fmt: skip
    assert json.loads(done.stdout)["consent"]["status"] == "given"
    (event,) = mash.events("consent-recorded")
    assert event == {"status": "given", "was": "not-sought"}
    mash.check("--agency", "police")  # no override needed now
    assert mash.checks() == ["police"]


def test_no_checks_on_a_closed_contact_and_no_outcome_before_a_decision(mash: Mash) -> None:
    mash.arrive(_form("Given by mother"))
    early = mash.cli(
        "decide", REF, "--outcome", "early-help", "--by", "Duty Manager",
        "--reason", "Family accepts support", code=1,
    )  # fmt: skip
    assert "no screening decision yet" in early.stderr
    with mash.daemon.db.transaction() as session:
        assert session.execute(select(Contact.status)).scalar_one() == "open"
    done = mash.cli(
        "decide", REF, "--decision", "D", "--outcome", "early-help", "--by", "Duty Manager",
        "--reason", "Family accepts support",
    )  # fmt: skip
    assert "decision D" in done.stdout and "outcome: early help assessment" in done.stdout
    closed = mash.check("--agency", "police", code=1)
    assert "closed: no checks on a closed contact" in closed.stderr
    mash.run()
    assert not mash.to(POLICE)
    letter = [e for e in mash.events("mail-queued") if str(e["template"]).startswith("outcome_")]
    assert letter and letter[0]["lawful_basis"] and letter[0]["consent"]["status"] == "given"


def test_an_outcome_letter_to_an_agency_without_the_agreement_is_refused(mash: Mash) -> None:
    # The referrer works for housing, whose agreement is not on record: the letter is a copy
    # of the outcome, so the decision waits until the letter is withheld or the DSA recorded.
    mash.arrive(
        plain_message(
            3,
            sender="Pat Officer <pat.officer@council.example>",
            subject="MASH referral",
            body=FORM.format(consent="Given by mother", aware="Yes"),
        )
    )
    refused = mash.cli(
        "decide", REF, "--decision", "A", "--by", "Duty Manager", "--reason", "No concern",
        code=2,
    )  # fmt: skip
    assert "the outcome letter (a copy of the outcome) refused: agency housing" in refused.stderr
    assert "--no-letter" in refused.stderr
    with mash.daemon.db.transaction() as session:
        assert session.execute(select(Contact.status)).scalar_one() == "open"
    mash.cli(
        "decide", REF, "--decision", "A", "--by", "Duty Manager", "--reason", "No concern",
        "--no-letter",
    )  # fmt: skip
    mash.run()
    templates = [str(e["template"]) for e in mash.events("mail-queued")]
    assert "ack_professional" in templates or "ack_public" in templates
    assert not [t for t in templates if t.startswith("outcome_")]


def test_check_and_the_digest_name_agreements_missing_or_due_for_review(mash: Mash) -> None:
    done = mash.cli("check", code=1)
    assert "agency housing: no data-sharing agreement on record" in done.stdout
    assert "agency probation: its data-sharing agreement was due for review on 2026-02-01" in (
        done.stdout
    )
    assert "agency police" not in done.stdout
    digest = mash.cli("digest", "--dry-run").stdout
    assert "Data-sharing agreements to review" in digest
    assert (
        "Police Public Protection Desk (police): the data-sharing agreement's review is due in "
        "17 day(s) (2026-03-20)"
    ) in digest
    assert "Probation (probation): the data-sharing agreement's review was due 30 day(s) ago" in (
        digest
    )
