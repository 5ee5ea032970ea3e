"""Who the referrer is, decided from evidence on a table of senders and forms."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config, parse_config
from gateway.daemon import Daemon
from gateway.domain.decisions import DecisionRequest, record
from gateway.domain.referrer import corrected, decide
from gateway.store.models import AuditEvent, Contact

REFERRALS = Path(__file__).parent / "data" / "referrals"
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
PARENT = "parent.of.a.pupil@gmail.com"

CONFIG = """
[gateway]
mash_address = "mash@hackney.example"
gnupg_home = "/nonexistent"
[smtp]
host = "127.0.0.1"
tls = "none"
[[agency]]
id = "police"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
name = "Police Public Protection Desk"
check_address = "ppd@met.police.example"
reply_from = ["*@met.police.example"]
security = "tls"
[[agency]]
id = "voluntary"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
name = "Hackney Family Charity"
check_address = "safeguarding@charity.example"
reply_from = ["lead@charity.example"]
security = "tls"
"""


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config(CONFIG, "mailboxes.toml")


TABLE = [
    # sender, role, agency, forwarded, kind, unsure
    ("dsl@stjohns.hackney.sch.uk", "Designated Safeguarding Lead", "St John's", False,
     "professional", False),
    ("hv@homerton.nhs.uk", "Health visitor", None, False, "professional", False),
    ("gp.surgery@nhs.net", None, None, False, "professional", False),
    ("pc.jones@met.police.uk", "PC", "Metropolitan Police", False, "professional", False),
    ("officer@met.police.example", None, None, False, "professional", False),
    ("lead@charity.example", "Support worker", None, False, "professional", False),
    ("social.worker@hackney.gov.uk", None, None, False, "professional", False),
    # A parent's Gmail naming a school is not a school.
    ("parent.jones@gmail.com", "Parent", "St John's Primary School", False, "family", False),
    ("someone@gmail.com", None, "St John's Primary School", False, "public", True),
    ("teacher.at.home@hotmail.co.uk", "Teacher", None, False, "public", True),
    # "Role: neighbour" is public, whatever else the form says.
    ("neighbour@gmail.com", "Neighbour", None, False, "public", False),
    ("worried@btinternet.com", "Neighbour", "School governor", False, "public", False),
    ("jo@outlook.com", "Member of the public", None, False, "public", False),
    ("nan@yahoo.co.uk", "Grandmother", None, False, "family", False),
    ("aunt@icloud.com", "Aunt of the child", None, False, "family", False),
    ("person@example.org", None, None, False, "public", False),
    (None, None, None, False, "public", False),
    # A family support worker is a professional's role, not a relative.
    ("fsw@hackney.gov.uk", "Family support worker", None, False, "professional", False),
    ("fsw@familycharity.example", "Family support worker", None, False, "public", True),
    # A professional writing as a parent from work: the role they give wins.
    ("teacher@stjohns.hackney.sch.uk", "Mother", None, False, "family", False),
    # A colleague's forward: the form describes someone else; only the address counts.
    ("dsl@stjohns.hackney.sch.uk", "Neighbour", None, True, "professional", False),
    ("friend@gmail.com", "Teacher", "School", True, "public", False),
    ("someone@local-nursery.example", "Nursery manager", "Little Stars Nursery", False,
     "public", True),
    ("random@example.org", "Concerned", None, False, "public", True),
]


@pytest.mark.parametrize(("sender", "role", "agency", "forwarded", "kind", "unsure"), TABLE)
def test_referrer_kind(
    config: Config,
    sender: str | None,
    role: str | None,
    agency: str | None,
    forwarded: bool,
    kind: str,
    unsure: bool,
) -> None:
    verdict = decide(config, sender, role, agency, forwarded=forwarded)
    assert (verdict.kind, verdict.unsure) == (kind, unsure), verdict.reasons
    assert verdict.reasons


def test_professional_domains_are_configurable() -> None:
    config = parse_config(
        CONFIG + '[front_door]\nprofessional_domains = ["*.nursery.example"]\n',
        "mailboxes.toml",
    )
    assert decide(config, "a@little.nursery.example", "Manager").kind == "professional"
    # The defaults are replaced, not added to.
    assert decide(config, "hv@homerton.nhs.uk", None).kind == "public"


def test_a_managers_correction_is_final() -> None:
    verdict = corrected("professional", "Duty Manager")
    assert (verdict.kind, verdict.unsure) == ("professional", False)
    with pytest.raises(ValueError, match="one of public, professional, family"):
        corrected("school", "Duty Manager")


def _cli(path: Path, now: datetime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "-c", str(path), "--now", now.isoformat(), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_parents_gmail_naming_a_school_gets_the_public_letters_until_a_manager_says(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: Any
) -> None:
    cfg, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    raw = raw.replace(b"sam.teacher@stjohns-school.example", PARENT.encode())
    dovecot.append("mash", raw, arrived=START)
    daemon.run_once()
    (ack,) = [m for m in smtp_sink.messages if PARENT in m.recipients]
    assert b"worry for a child" in ack.data and b"Amira" not in ack.data
    with daemon.db.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
        assert (contact.referrer_kind, contact.referrer_unsure) == ("public", True)
        assert contact.source == "individual"  # not "school": nothing vouches for the address
    digest = _cli(path, START + timedelta(hours=1), "digest", "--dry-run")
    assert "Referrers to confirm" in digest.stdout, digest.stdout + digest.stderr
    assert "MASH-2026-000001" in digest.stdout and "personal mail service" in digest.stdout
    assert "contacts set-referrer" in digest.stdout  # the operator's footnote
    refused = _cli(path, START, "contacts", "set-referrer", "MASH-2026-000001",
                   "--kind", "professional", "--by", "A Stranger")
    assert refused.returncode == 2 and "Duty Manager" in refused.stderr
    done = _cli(path, START, "contacts", "set-referrer", "MASH-2026-000001",
                "--kind", "professional", "--by", "duty manager")
    assert done.returncode == 0, done.stderr
    assert "the referrer is professional (was public)" in done.stdout
    with daemon.db.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
        assert (contact.referrer_kind, contact.referrer_unsure) == ("professional", False)
        record(
            session, cfg, daemon.letters, START,
            # An outcome follows a screening decision (decision A and its outcome together).
            DecisionRequest("MASH-2026-000001", "School will monitor.", "Duty Manager",
                            decision="A", outcome="no-further-action"),
        )
        events = [e.action for e in session.execute(select(AuditEvent)).scalars()]
    assert "referrer-set" in events
    daemon.run_once()
    letter = [m for m in smtp_sink.messages if PARENT in m.recipients][-1]
    assert b"If you disagree with this decision" in letter.data  # the professional letter
    again = _cli(path, START + timedelta(hours=1), "digest", "--dry-run")
    assert "Referrers to confirm" not in again.stdout
