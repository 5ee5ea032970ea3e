"""Urgent-alert benchmark: from an urgent referral's arrival to its alert accepted by SMTP.

The daemon runs as in production (`run_forever`, watcher in IDLE) against a local Dovecot
and a recording aiosmtpd server. Each sample APPENDs one urgent referral (immediate risk:
yes) and times until the SMTP server has accepted the managers' alert for it. Two runs:

- quiet: 100 urgent referrals, one at a time, nothing else to do;
- busy: the same with 1,000 routine referrals queued ahead of each one (committed to the
  gateway's queue as the SMTP listener would, topped up to 1,000 before every sample), each
  of which becomes a contact and an acknowledgement; urgent work must not wait behind them.

Prints median and 99th percentile for each (target: p99 < 2 s; Dovecot's IDLE floor is
about 0.5 s).

    .venv/bin/python bench/urgent.py [--samples 100] [--routine 1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from sqlalchemy import func, select

from gateway.clock import SystemClock
from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.inbound.ingest import Arrival, Source, ingest_batch
from gateway.store.models import Message, OutboxRow

USERS = {"mash": "bench"}
MANAGER = "duty.manager@hackney.example"


GIVEN = ("Amira", "Kofi", "Leo", "Maya", "Ruby", "Tyler", "Zara", "Oscar", "Ife", "Noah")
FAMILY = ("Okafor", "Mensah", "Brown", "Cole", "Adeyemi", "Smith", "Khan", "Nowak", "Silva")


def referral(n: int, *, urgent: bool) -> bytes:
    """A referral about a distinct child (names and dates of birth vary, as they do)."""
    msg = EmailMessage()
    msg["From"] = f"Sam Teacher {n} <dsl{n % 40}@school.example>"
    msg["To"] = "mash@hackney.example"
    msg["Subject"] = f"MASH referral {n}"
    msg["Message-ID"] = f"<bench-urgent-{n}-{time.monotonic_ns()}@school.example>"
    concern = (
        "He has come back and is smashing things; the children are in immediate danger."
        if urgent
        else "Attendance has dropped this term and she seems tired."
    )
    msg.set_content(
        f"Referrer's name: Sam Teacher\nRole: DSL\nOrganisation: Bench School\n"
        f"Email: dsl{n % 40}@school.example\nPhone: 020 7946 0000\n\n"
        f"Child's name: {GIVEN[n % 10]} {FAMILY[n // 10 % 9]}-{n}\n"
        f"D.O.B.: {n % 28 + 1:02d}/{n // 28 % 12 + 1:02d}/{2008 + n % 15}\n"
        f"Address: {n} Mare Street\n"
        f"Household: Mother Jo Bench (holds PR)\nConcern: {concern}\n"
        f"Category of concern: neglect\nImmediate risk: {'Yes' if urgent else 'No'}\n"
        "Parents/carers aware of referral? Yes\nConsent: Given by mother\n"
    )
    return msg.as_bytes(policy=SMTP)


def config_text(workdir: Path, dovecot: Dovecot, smtp: RecordingSmtp) -> str:
    os.environ["MASH_BENCH_PASSWORD"] = USERS["mash"]
    return f"""
[gateway]
database = "sqlite:///{workdir}/gateway.db"
mash_address = "mash@hackney.example"
state_dir = "{workdir}/state"
[smtp]
host = "127.0.0.1"
port = {smtp.port}
tls = "none"
[hours]
edt_address = "edt@hackney.example"
[digest]
times = []
[meeting]
enabled = false
[[manager]]
name = "Duty Manager"
address = "{MANAGER}"
[[mailbox]]
name = "front-door"
role = "front-door"
host = "127.0.0.1"
port = {dovecot.port}
tls = "none"
username = "mash"
password_env = "MASH_BENCH_PASSWORD"
"""


class Alerts:
    """Counts urgent alerts to the manager as the SMTP server accepts them."""

    def __init__(self) -> None:
        self.accepted = threading.Condition()
        self.times: list[float] = []

    def on_message(self, received: Received) -> None:
        subject = str(message_from_bytes(received.data, policy=default).get("Subject", ""))
        if MANAGER in received.recipients and "[ALERT #" in subject and "NOT ACK" not in subject:
            with self.accepted:
                self.times.append(time.perf_counter())
                self.accepted.notify_all()

    def wait_for(self, count: int, timeout: float) -> float | None:
        with self.accepted:
            if not self.accepted.wait_for(lambda: len(self.times) >= count, timeout):
                return None
            return self.times[count - 1]


def backlog(daemon: Daemon) -> tuple[int, int]:
    with daemon.db.transaction() as session:
        messages = session.execute(
            select(func.count()).select_from(Message).where(Message.state == "pending")
        ).scalar_one()
        outbox = session.execute(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "pending")
        ).scalar_one()
    return int(messages), int(outbox)


def queue_routine(daemon: Daemon, first: int, count: int) -> None:
    """COUNT routine referrals committed straight to the gateway's queue (one transaction)."""
    now = datetime.now(UTC)
    arrivals = [
        Arrival(referral(n, urgent=False), Source("bench", "routine", session_id=str(n)), now)
        for n in range(first, first + count)
    ]
    ingest_batch(daemon.db, arrivals, now=now, role="front-door")


def run(samples: int, routine: int) -> tuple[list[float], list[tuple[int, int]]]:
    workdir = Path(tempfile.mkdtemp(prefix="mash-bench-urgent-"))
    dovecot = Dovecot(users=dict(USERS))
    dovecot.start()
    alerts = Alerts()
    smtp = RecordingSmtp(on_message=alerts.on_message).start()
    latencies: list[float] = []
    queued: list[tuple[int, int]] = []
    try:
        daemon = Daemon(parse_config(config_text(workdir, dovecot, smtp), "bench"), SystemClock())
        daemon.prepare()
        thread = threading.Thread(target=daemon.run_forever, daemon=True)
        thread.start()
        time.sleep(1.0)  # the watcher is in IDLE
        appender = dovecot.client("mash")
        number = 1_000_000
        for i in range(samples):
            if routine:
                pending, _ = backlog(daemon)
                if pending < routine:
                    queue_routine(daemon, number, routine - pending)
                    number += routine - pending
            messages, outbox = backlog(daemon) if routine else (0, 0)
            raw = referral(i, urgent=True)
            sent = time.perf_counter()
            appender.append("INBOX", raw)
            accepted = alerts.wait_for(i + 1, 30)
            if accepted is None:
                print(f"sample {i}: no alert within 30 s", file=sys.stderr)
                break
            latencies.append(accepted - sent)
            queued.append((messages, outbox))
        appender.logout()
        daemon.stop()
        thread.join(timeout=60)
    finally:
        smtp.stop()
        dovecot.cleanup()
    return latencies, queued


def report(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{name}: {len(ordered)} samples, median {statistics.median(ordered) * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms (target p99 < 2000 ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--routine", type=int, default=1000)
    args = parser.parse_args()
    # One warning per alert raised is the daemon's job, not the benchmark's output.
    logging.basicConfig(level=logging.ERROR)
    quiet, _ = run(args.samples, 0)
    busy, queued = run(args.samples, args.routine)
    print(report("urgent referral, nothing queued   ", quiet))
    print(report(f"urgent referral, {args.routine} routine ahead", busy))
    if queued:
        pending = [q[0] for q in queued]
        outbox = [q[1] for q in queued]
        print(
            "routine work queued ahead when each urgent one arrived: in the pipeline "
            f"{min(pending)}-{max(pending)} messages, in the outbox {min(outbox)}-{max(outbox)}"
        )
    return 0 if quiet and busy else 1


if __name__ == "__main__":
    sys.exit(main())
