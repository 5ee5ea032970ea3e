"""The open-cases register: CSV import, matching, and contacts forwarded to the unit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.domain.cases import ImportError_, find_case, parse_csv, replace_register
from gateway.store.db import Database
from gateway.store.models import AuditEvent, Contact

REFERRALS = Path(__file__).parent / "data" / "referrals"
LONDON = ZoneInfo("Europe/London")
MakeConfig = Callable[..., tuple[Config, Path]]
REGISTER = """nhs_number,given_name,family_name,date_of_birth,unit,unit_email,status,closed_on
943 476 5919,Amira,Okafor,03/04/2019,Unit 4,unit4@hackney.example,open,
,Zoë,Brontë-Smith,20/11/2015,Unit 7,unit7@hackney.example,closed,15/01/2026
,Leo,Brown,05/06/2012,Unit 2,unit2@hackney.example,closed,01/06/2025
"""


@pytest.fixture
def db(sqlite_url: str) -> Database:
    database = Database(sqlite_url)
    database.upgrade()
    return database


def test_register_matching(db: Database, clock: FrozenClock) -> None:
    with db.transaction() as session:
        assert replace_register(session, parse_csv(REGISTER), clock.now()) == 3
    today = date(2026, 3, 3)
    with db.transaction() as session:
        by_nhs = find_case(session, "9434765919", "Someone", "Else", None, today)
        assert by_nhs is not None and by_nhs.unit == "Unit 4" and by_nhs.status == "open"
        swapped = find_case(session, None, "BRONTE SMITH", "zoe", "2015-11-20", today)
        assert swapped is not None and swapped.status == "recently-closed"
        assert find_case(session, None, "Zoe", "Bronte-Smith", "2015-11-21", today) is None
        assert find_case(session, None, "Leo", "Brown", "2012-06-05", today) is None  # too old
    with db.transaction() as session:  # a re-import replaces the register
        replace_register(session, parse_csv(REGISTER.splitlines()[0] + "\n"), clock.now())
        assert find_case(session, "9434765919", None, None, None, today) is None


def test_bad_rows_stop_the_import() -> None:
    bad = REGISTER + "123,Tom,,2019-13-01,Unit 1,not-an-address,maybe,\n"
    with pytest.raises(ImportError_) as info:
        parse_csv(bad)
    problems = info.value.problems
    assert "line 5: family_name is empty" in problems
    assert "line 5: nhs_number fails the modulus-11 check" in problems
    assert any(p.startswith("line 5: date_of_birth") for p in problems)
    assert "line 5: status must be open or closed" in problems
    assert "line 5: unit_email is not an address" in problems
    with pytest.raises(ImportError_, match="missing column"):
        parse_csv("name,unit\nTom,Unit 1\n")


def test_an_open_case_is_forwarded_at_once_and_a_recently_closed_one_offered_by_decision_b(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    config, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    register = tmp_path / "cases.csv"
    register.write_text(REGISTER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "-c", str(path), "cases", "import", str(register)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "3 children" in done.stdout, done.stderr
    tuesday = datetime(2026, 3, 3, 10, 0, tzinfo=LONDON)
    for name in ("plain-school.eml", "html-form.eml"):
        dovecot.append("mash", (REFERRALS / name).read_bytes(), arrived=tuesday)
    daemon = Daemon(config, clock)
    daemon.prepare()
    daemon.run_once()
    with daemon.db.transaction() as session:
        contacts = session.execute(select(Contact)).scalars().all()
        statuses = {c.referral["children"][0]["given_name"]: c.status for c in contacts}
        # Zoë's form looks urgent, so it is processed first: find her by name.
        refs = {c.referral["children"][0]["given_name"]: c.reference for c in contacts}
        forwards = (
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "mail-sent",
                    AuditEvent.recipient.in_(["unit4@hackney.example", "unit7@hackney.example"]),
                )
            )
            .scalars()
            .all()
        )
    # Zoë's unit closed her case within three months: not routed back before any decision,
    # but offered to that unit by decision B (protocol 4); Amira's case is open: forwarded.
    assert statuses == {"Amira": "forwarded", "Zoë": "open"}
    assert {e.purpose for e in forwards} == {
        "open case: shared with the case-holding unit without delay"
    }
    assert not [m for m in smtp_sink.messages if "unit7@hackney.example" in m.recipients]
    zoe = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "-c",
            str(path),
            "--now",
            clock.now().isoformat(),
            "decide",
            refs["Zoë"],
            "--decision",
            "B",
            "--by",
            "Duty Manager",
            "--reason",
            "Neglect; a Section 17 assessment is needed",
        ],
        capture_output=True,
        text=True,
    )
    assert zoe.returncode == 0 and "re-referred to Unit 7" in zoe.stdout, zoe.stderr
    daemon.run_once()
    assert [m for m in smtp_sink.messages if "unit7@hackney.example" in m.recipients]
    (to_unit4,) = [m for m in smtp_sink.messages if m.recipients == ("unit4@hackney.example",)]
    forwarded = message_from_bytes(to_unit4.data, policy=default)
    attached = [p for p in forwarded.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert len(attached) == 1
    assert (
        "Amira arrived with bruising"
        in attached[0].get_content().get_body(("plain",)).get_content()
    )
    assert sum(1 for m in smtp_sink.messages if "school" in m.recipients[0]) == 1  # still acked


def test_bad_register_file_keeps_the_old_one(
    sqlite_url: str, make_config: MakeConfig, tmp_path: Path
) -> None:
    _config, path = make_config(db_url=sqlite_url, dovecot=None, smtp=None)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(REGISTER)
    bad.write_text(REGISTER + ",Tom,,,Unit 1,u1@hackney.example,open,\n")
    base = [sys.executable, "-m", "gateway", "-c", str(path), "cases", "import"]
    assert subprocess.run([*base, str(good)], capture_output=True).returncode == 0
    refused = subprocess.run([*base, str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2 and "line 5: family_name is empty" in refused.stderr
    db = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    with db.transaction() as session:
        assert find_case(session, "9434765919", None, None, None, date(2026, 3, 3)) is not None
