"""What only reads never holds SQLite's write lock, even inside the daemon.

Every write transaction on SQLite begins IMMEDIATE (it queues for the write lock at BEGIN). A
read done that way holds the lock for as long as it reads, and the daemon's ingest waits: the
quarterly steering report (its figures, then its page and PDF, seconds at a borough's size),
the status page and every metrics scrape did. `Database.reading` begins deferred instead. Each
test here has another connection write and commit while the read is under way: it must not
have to wait for the read to end.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from report_world import config_text
from sqlalchemy import func, select

from gateway.clock import FrozenClock
from gateway.config import load_config
from gateway.outbound.compose import Letters
from gateway.reports import metrics, status
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import Message, OutboxRow

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)  # the quarter's report is due (09:00 BST)


def _a_writer_commits(url: str) -> bool:
    """Whether another connection (the daemon's ingest, say) commits a write within 10 s.
    A reader holding the write lock makes it wait until the read is over."""
    other = Database(url)
    done = threading.Event()

    def write() -> None:
        with other.transaction() as session:
            ledger.append(session, START, ledger.Event(action="probe"))
        done.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(10)
    return done.is_set()


def test_a_reading_lets_a_writer_commit_meanwhile(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.upgrade()
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 0
        assert _a_writer_commits(sqlite_url)
    with db.transaction() as session:  # and a write transaction still takes the lock
        ledger.append(session, START, ledger.Event(action="after"))
    db.dispose()


def test_the_scheduled_report_reads_and_renders_without_the_write_lock(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.reports import render, steering
    from gateway.reports.schedule import send_scheduled_report

    readers = (
        '[reports]\nschedule = "quarterly"\nformats = ["html"]\nrecipients = ["c@h.example"]\n'
    )
    path = tmp_path / "mailboxes.toml"
    path.write_text(config_text(sqlite_url, tmp_path / "state", readers), encoding="utf-8")
    config = load_config(path)
    db = Database(sqlite_url)
    db.upgrade()
    probes: dict[str, bool] = {}
    figures, write = steering.contact_figures, render.write

    def reading_figures(session: Any, period: Any) -> Any:
        found = figures(session, period)  # the transaction has begun: it is reading
        probes["figures"] = _a_writer_commits(sqlite_url)
        return found

    def rendering(*args: Any) -> Any:
        probes["page"] = _a_writer_commits(sqlite_url)
        return write(*args)

    monkeypatch.setattr(steering, "contact_figures", reading_figures)
    monkeypatch.setattr(render, "write", rendering)
    assert send_scheduled_report(db, config, FrozenClock(START), Letters()) == 1
    assert probes == {"figures": True, "page": True}
    with db.transaction() as session:
        queued = session.execute(
            select(func.count()).where(OutboxRow.purpose.like("steering group report%"))
        ).scalar_one()
    assert queued == 1
    db.dispose()


def test_status_and_the_metrics_scrape_read_without_the_write_lock(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mailboxes.toml"
    path.write_text(config_text(sqlite_url, tmp_path / "state"), encoding="utf-8")
    config = load_config(path)
    db = Database(sqlite_url)
    db.upgrade()
    probes: list[bool] = []
    current = status.counts.current

    def counting(session: Any) -> Any:
        found = current(session)  # the transaction has begun: it is reading
        probes.append(_a_writer_commits(sqlite_url))
        return found

    monkeypatch.setattr(status.counts, "current", counting)
    status.status(db, config, START)
    list(metrics.GatewayCollector(db, config, FrozenClock(START)).collect())
    assert probes == [True, True]  # status itself, and the scrape (which reads the status)
    db.dispose()
