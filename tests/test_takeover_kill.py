"""Several daemons on one PostgreSQL database, one SIGKILLed mid-run: its mailboxes and its
claimed work move to the others within `takeover_after`, nothing is lost, and nobody is
acknowledged twice except at the one ambiguous point of the kill (accepted by the SMTP server,
killed before the row was marked sent)."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import IO

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import auto_reply
from sqlalchemy import func, select

from gateway.config import Config, load_config
from gateway.reports.status import status
from gateway.store.db import Database
from gateway.store.models import Contact, Message, MessageSource, OutboxRow
from gateway.store.operations import MailboxLease

MakeConfig = Callable[..., tuple[Config, Path]]
TAKEOVER = 5.0  # seconds: `takeover_after` in these tests, so a takeover is quick to see
# A lease lapses at most TAKEOVER after the kill (it was renewed at most TAKEOVER/3 before);
# a free mailbox is looked at every TAKEOVER/4. The rest is a loaded 2-core machine's slack.
TAKEOVER_BOUND = TAKEOVER + TAKEOVER / 4 + 3.0
FIRST_NAMES = ["Amira", "Kofi", "Tomasz", "Leila", "Ravi", "Chloe", "Musa", "Ines", "Oskar"]
FAMILY_NAMES = ["Okafor", "Mensah", "Nowak", "Haddad", "Patel", "Brown", "Diallo", "Silva"]


def referral(n: int) -> tuple[bytes, str]:
    """A referral as a school sends it, from its own referrer, about its own child."""
    referrer = f"teacher{n}@school{n % 17}.example"
    child = f"{FIRST_NAMES[n % 9]} {FAMILY_NAMES[n % 8]}{chr(97 + n % 26)}{n}"
    msg = EmailMessage()
    msg["From"] = f"Teacher {n} <{referrer}>"
    msg["To"] = "mash@hackney.example"
    msg["Subject"] = f"MASH referral - {child}"
    msg["Date"] = format_datetime(datetime(2026, 3, 3, 10, 0, tzinfo=UTC) + timedelta(seconds=n))
    msg["Message-ID"] = f"<referral-{n}@school{n % 17}.example>"
    msg.set_content(
        f"Referrer's name: Teacher {n}\n"
        "Role: Designated Safeguarding Lead\n"
        f"Organisation: School {n % 17}\n"
        f"Email: {referrer}\n"
        "Phone: 020 7946 0000\n\n"
        f"Child's name: {child}\n"
        f"D.O.B.: {1 + n % 28} April {2012 + n % 10}\n"
        f"Address: {n} Mare Street, London\n"
        "Postcode: E8 1AA\n"
        f"School: School {n % 17}\n\n"
        "Household: Mother and father (both hold PR)\n"
        f"Concern: {child.split()[0]} has come to school hungry most days this week.\n"
        "Category of concern: Neglect\n"
        "Immediate risk: No\n"
        "Parents/carers aware of referral? Yes\n"
        "Consent: Given by mother\n"
    )
    return msg.as_bytes(policy=SMTP), referrer


def _instance_configs(
    make_config: MakeConfig, url: str, dovecot: Dovecot, smtp: RecordingSmtp, names: list[str],
    extra: str = "",
) -> list[Path]:
    _config, path = make_config(
        db_url=url,
        dovecot=dovecot,
        smtp=smtp,
        extra=extra,
        gateway_extra=f'takeover_after = "{int(TAKEOVER)} seconds"',
    )
    text = path.read_text()
    paths = []
    for name in names:
        own = path.with_name(f"{name}.toml")
        own.write_text(text.replace("[gateway]\n", f'[gateway]\ninstance = "{name}"\n', 1))
        load_config(own)  # a typo in the test's config fails here, not in a subprocess
        paths.append(own)
    return paths


def _start(path: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gateway", "-c", str(path), "--log-level", "warning", "run"]
    return subprocess.Popen(command, stdout=log, stderr=log)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait for the daemons' work (bounded); how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _scalar(db: Database, query: object) -> int:
    with db.transaction() as session:
        return int(session.execute(query).scalar_one())  # type: ignore[call-overload]


def _owners(db: Database) -> dict[str, str]:
    with db.transaction() as session:
        rows = session.execute(select(MailboxLease.name, MailboxLease.owner)).all()
        return {name: owner for name, owner in rows}


def _idle(db: Database) -> bool:
    pending = _scalar(
        db, select(func.count()).select_from(Message).where(Message.state == "pending")
    )
    unsent = _scalar(
        db,
        select(func.count())
        .select_from(OutboxRow)
        .where(OutboxRow.state.in_(("pending", "sending"))),
    )
    return pending == 0 and unsent == 0


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _extra_sends(sink: RecordingSmtp) -> dict[str, int]:
    received = collections.Counter(m.message_id for m in sink.messages)
    return {mid or "": n for mid, n in received.items() if n > 1}


def _kill_holder(
    db: Database, processes: dict[str, subprocess.Popen[bytes]]
) -> tuple[str, list[str], float]:
    """SIGKILL the instance that watches the first mailbox: no clean hand-over."""
    owners = _owners(db)
    victim = min(owners.values())
    processes[victim].send_signal(signal.SIGKILL)
    processes[victim].wait()
    return victim, sorted(n for n, o in owners.items() if o == victim), time.monotonic()


def _taken_over(db: Database, victim: str, boxes: list[str], killed_at: float) -> dict[str, float]:
    """How long after the kill each of the victim's mailboxes had a new watcher."""
    taken: dict[str, float] = {}

    def moved() -> bool:
        owners = _owners(db)
        for box in boxes:
            if box not in taken and owners.get(box) not in (None, victim):
                taken[box] = time.monotonic() - killed_at
        return len(taken) == len(boxes)

    _wait(moved, TAKEOVER_BOUND + 30, f"mailboxes {boxes} taken over from {victim}")
    return taken


@pytest.mark.slow
def test_two_instances_200_referrals_one_killed(
    fresh_postgres_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    tmp_path: Path,
) -> None:
    db = Database(fresh_postgres_url)
    db.upgrade()
    paths = _instance_configs(
        make_config, fresh_postgres_url, dovecot, smtp_sink, ["mash-a", "mash-b"]
    )
    mails = [referral(n) for n in range(200)]
    client = dovecot.client("mash")
    for raw, _referrer in mails:
        client.append("INBOX", raw)
    client.logout()
    log = (tmp_path / "daemons.log").open("ab")
    processes = {p.stem: _start(p, log) for p in paths}
    try:
        contacts = select(func.count()).select_from(Contact)
        _wait(lambda: bool(_owners(db)), 60, "an instance to watch the mailbox")
        # About 2 s of work in: some referrals done, most still to do.
        _wait(lambda: _scalar(db, contacts) >= 20, 60, "the first referrals processed")
        victim, boxes, killed_at = _kill_holder(db, processes)
        at_kill = _scalar(db, contacts)
        assert at_kill < 200, "the kill came too late to test anything"
        assert boxes == ["front-door"]
        taken = _taken_over(db, victim, boxes, killed_at)
        assert taken["front-door"] <= TAKEOVER_BOUND, taken
        _wait(lambda: _scalar(db, contacts) == 200 and _idle(db), 120, "all 200 contacts")
        survivor = next(p for p in paths if p.stem != victim)
        report = status(db, load_config(survivor), datetime.now(UTC))
        assert report["mailboxes"]["front-door"]["watched_by"] == survivor.stem
        assert report["instances"][survivor.stem]["alive"]
        # The dead instance's last heartbeat is older than takeover_after: shown as not alive.
        _wait(
            lambda: not status(db, load_config(survivor), datetime.now(UTC))["instances"][victim][
                "alive"
            ],
            TAKEOVER_BOUND,
            "the killed instance shown as not alive",
        )
    finally:
        _stop(list(processes.values()))
        log.close()

    assert _scalar(db, select(func.count()).select_from(MessageSource)) == 200
    acks = collections.Counter(
        r for m in smtp_sink.messages for r in m.recipients if r.startswith("teacher")
    )
    referrers = {referrer for _raw, referrer in mails}
    assert set(acks) == referrers, "every referrer acknowledged"
    assert sum(n - 1 for n in acks.values()) <= 1, {r: n for r, n in acks.items() if n > 1}
    assert sum(n - 1 for n in _extra_sends(smtp_sink).values()) <= 1
    assert dovecot.count("mash") == 0
    db.dispose()


@pytest.mark.slow
def test_three_instances_500_messages_two_mailboxes_one_killed(
    fresh_postgres_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    tmp_path: Path,
) -> None:
    db = Database(fresh_postgres_url)
    db.upgrade()
    second_box = "\n".join(
        [
            "[[mailbox]]",
            'name = "front-door-2"',
            'role = "front-door"',
            'host = "127.0.0.1"',
            f"port = {dovecot.port}",
            'tls = "none"',
            'username = "police"',
            'password_env = "MASH_TEST_POLICE_PASSWORD"',
            'socket_timeout = "10 seconds"',
            'reconnect_cap = "2 seconds"',
        ]
    )
    names = ["mash-a", "mash-b", "mash-c"]
    paths = _instance_configs(
        make_config, fresh_postgres_url, dovecot, smtp_sink, names, extra=second_box
    )
    users = {"front-door": "mash", "front-door-2": "police"}
    # One in four a referral (each acknowledged: the sends to count), the rest automatic
    # replies (filed, nothing sent): the mix of a front door, and cheap enough to run often.
    corpus = [referral(1000 + n)[0] if n % 4 == 1 else auto_reply(70_000 + n) for n in range(500)]
    log = (tmp_path / "daemons.log").open("ab")
    processes = {p.stem: _start(p, log) for p in paths}
    appended = collections.Counter[str]()
    halfway = threading.Event()

    def arrive() -> None:
        # Mail keeps arriving in its own thread while the main thread kills and watches.
        clients = {box: dovecot.client(user) for box, user in users.items()}
        for n, raw in enumerate(corpus):
            box = "front-door" if (n // 4) % 2 == 0 else "front-door-2"
            clients[box].append("INBOX", raw)
            appended[box] += 1
            if n % 10 == 9:
                time.sleep(0.05)
            if n == 200:
                halfway.set()
        for client in clients.values():
            client.logout()

    arrivals = threading.Thread(target=arrive, daemon=True)
    try:
        _wait(lambda: len(_owners(db)) == 2, 60, "both mailboxes watched")
        arrivals.start()
        assert halfway.wait(120), "200 messages appended"
        victim, boxes, killed_at = _kill_holder(db, processes)
        assert boxes, "the killed instance watched a mailbox"
        taken = _taken_over(db, victim, boxes, killed_at)
        assert all(seconds <= TAKEOVER_BOUND for seconds in taken.values()), taken
        arrivals.join(timeout=120)
        assert not arrivals.is_alive(), "appending took too long"
        sources = select(func.count()).select_from(MessageSource)
        _wait(lambda: _scalar(db, sources) == 500 and _idle(db), 120, "all 500 messages")
        _wait(
            lambda: all(dovecot.count(user) == 0 for user in users.values()),
            60,
            "every message filed on the server",
        )
    finally:
        _stop(list(processes.values()))
        log.close()

    with db.transaction() as session:
        states = dict(
            session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
        )
        per_box = dict(
            session.execute(
                select(MessageSource.mailbox, func.count()).group_by(MessageSource.mailbox)
            ).all()
        )
    assert sum(states.values()) == 500 and set(states) <= {"processed", "quarantined"}, states
    assert per_box == dict(appended), "no message lost from either mailbox"
    for box, user in users.items():
        filed = dovecot.count(user, "Processed") + dovecot.count(user, "Quarantine")
        assert filed == appended[box]
    acks = collections.Counter(
        r for m in smtp_sink.messages for r in m.recipients if r.startswith("teacher")
    )
    assert len(acks) == 125, "every referrer acknowledged"
    # One kill: at most one send between the server's 250 and the row marked sent.
    assert sum(n - 1 for n in _extra_sends(smtp_sink).values()) <= 1, _extra_sends(smtp_sink)
    db.dispose()
