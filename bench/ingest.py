"""Ingest benchmark: the gateway against a raw imapclient + email + SQLite baseline.

Appends N messages (default 2,000 of about 5 KB) to a local Dovecot, then prints, from one run:
the gateway's end-to-end rate (IMAP to committed and processed), the raw baseline's rate, their
ratio, and the latency from APPEND to committed with the watcher in IDLE (median and p99).

    make bench                     # or: .venv/bin/python bench/ingest.py --messages 2000
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import func, select

from gateway.clock import SystemClock
from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.store.models import Message

USERS = {"mash": "bench", "baseline": "bench"}


def make_message(n: int, size: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"sender{n % 50}@school.example"
    msg["To"] = "mash@hackney.example"
    msg["Subject"] = f"Benchmark message {n}"
    msg["Message-ID"] = f"<bench-{n}-{time.monotonic_ns()}@school.example>"
    msg["Auto-Submitted"] = "auto-replied"  # processed (recorded) rather than quarantined
    line = "The quick brown fox jumps over the lazy dog near the school gate today.\n"
    msg.set_content(line * max(1, size // len(line)))
    return msg.as_bytes(policy=email.policy.SMTP)


def append_all(dovecot: Dovecot, user: str, messages: list[bytes]) -> None:
    client = dovecot.client(user)
    for raw in messages:
        client.append("INBOX", raw)
    client.logout()


def baseline(dovecot: Dovecot, workdir: Path, batch: int) -> tuple[int, float]:
    """imapclient fetch, email parse, one SQLite insert and commit per message."""
    db = sqlite3.connect(workdir / "baseline.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, uid INTEGER UNIQUE, subject TEXT, raw BLOB)"
    )
    started = time.perf_counter()
    client = dovecot.client("baseline")
    client.select_folder("INBOX")
    uids = client.search(["ALL"])
    for start in range(0, len(uids), batch):
        chunk = uids[start : start + batch]
        for uid, data in client.fetch(chunk, ["BODY.PEEK[]", "INTERNALDATE"]).items():
            raw = data[b"BODY[]"]
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            db.execute("BEGIN")
            db.execute(
                "INSERT INTO m (uid, subject, raw) VALUES (?, ?, ?)",
                (uid, str(parsed["Subject"]), raw),
            )
            db.execute("COMMIT")
    client.logout()
    return len(uids), time.perf_counter() - started


def gateway_config(workdir: Path, dovecot: Dovecot, smtp: RecordingSmtp) -> str:
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
[[mailbox]]
name = "front-door"
role = "front-door"
host = "127.0.0.1"
port = {dovecot.port}
tls = "none"
username = "mash"
password_env = "MASH_BENCH_PASSWORD"
"""


def processed(daemon: Daemon) -> int:
    with daemon.db.transaction() as session:
        return session.execute(
            select(func.count()).select_from(Message).where(Message.state != "pending")
        ).scalar_one()


def ingested_at(daemon: Daemon, marker: str) -> datetime | None:
    with daemon.db.transaction() as session:
        return session.execute(
            select(Message.ingested_at).where(Message.header_message_id == marker)
        ).scalar_one_or_none()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=5000, help="approximate bytes each")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument(
        "--mail-format",
        choices=["maildir", "mdbox"],
        default="maildir",
        help="Dovecot's storage; maildir rescans can add about a second",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mash-bench-"))
    dovecot = Dovecot(users=dict(USERS), mail_format=args.mail_format)
    dovecot.start()
    smtp = RecordingSmtp().start()
    try:
        messages = [make_message(i, args.size) for i in range(args.messages)]
        print(
            f"appending {len(messages)} messages of ~{len(messages[0])} bytes twice ...",
            file=sys.stderr,
        )
        append_all(dovecot, "baseline", messages)
        append_all(dovecot, "mash", [make_message(i, args.size) for i in range(args.messages)])

        count, elapsed = baseline(dovecot, workdir, batch=100)
        base_rate = count / elapsed

        config = parse_config(gateway_config(workdir, dovecot, smtp), "bench")
        daemon = Daemon(config, SystemClock())
        daemon.prepare()
        thread = threading.Thread(target=daemon.run_forever, daemon=True)
        started = time.perf_counter()
        thread.start()
        while processed(daemon) < args.messages:
            time.sleep(0.01)
        gw_elapsed = time.perf_counter() - started
        while dovecot.count("mash") > 0:
            time.sleep(0.05)
        filed_elapsed = time.perf_counter() - started
        gw_rate = args.messages / gw_elapsed

        latencies: list[float] = []
        appender = dovecot.client("mash")
        for i in range(args.latency_samples):
            raw = make_message(100_000 + i, args.size)
            marker = str(email.message_from_bytes(raw)["Message-ID"])
            # Timed from just before APPEND: conservative, it includes the APPEND itself.
            sent = datetime.now(UTC)
            appender.append("INBOX", raw)
            deadline = time.monotonic() + 10
            while (at := ingested_at(daemon, marker)) is None and time.monotonic() < deadline:
                time.sleep(0.002)
            if at is None:
                print(f"sample {i}: not ingested within 10 s", file=sys.stderr)
                continue
            latencies.append((at - sent).total_seconds())
            time.sleep(0.02)
        appender.logout()
        daemon.stop()
        thread.join(timeout=30)
    finally:
        smtp.stop()
        dovecot.cleanup()

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(f"messages:                {args.messages} of ~{args.size} bytes")
    print(f"baseline (imapclient + email + SQLite commit each): {base_rate:8.1f} msg/s")
    print(
        f"gateway  (IMAP -> committed -> processed):          {gw_rate:8.1f} msg/s "
        f"({gw_elapsed:.2f} s; all filed on the server after {filed_elapsed:.2f} s)"
    )
    print(f"ratio gateway/baseline:  {gw_rate / base_rate:.2f} (target >= 0.50)")
    missed = args.latency_samples - len(latencies)
    print(
        f"APPEND -> committed in IDLE, {len(latencies)} samples: "
        f"median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms (target p99 < 1000 ms)"
        + (f"; {missed} not ingested within 10 s" if missed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
