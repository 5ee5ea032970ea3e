"""The audit ledger: hash-chained, and `audit verify` finds edits, insertions and deletions."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.store import ledger
from gateway.store.db import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _fill(db: Database, n: int = 5, start: int = 0) -> None:
    for i in range(start, start + n):
        with db.transaction() as session:
            ledger.append(
                session,
                T0 + timedelta(minutes=i),
                ledger.Event(
                    action="mail-sent",
                    subject_ref=f"MASH-2026-{i:06d}",
                    recipient="ppd@police.example",
                    purpose="check request",
                    detail={"outbox_id": i},
                ),
            )


@pytest.fixture
def db(db_url: str) -> Database:
    database = Database(db_url)
    database.upgrade()
    yield database
    database.dispose()


def _problems(db: Database) -> list[ledger.Problem]:
    with db.transaction() as session:
        return ledger.verify(session)


def test_intact_chain(db: Database) -> None:
    _fill(db)
    assert _problems(db) == []


def test_edited_row_detected(db: Database) -> None:
    _fill(db)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET recipient = 'attacker@evil.example' WHERE id = 3")
        )
    found = _problems(db)
    assert [p.row_id for p in found] == [3]
    assert "edited" in found[0].problem


def test_deleted_row_detected(db: Database) -> None:
    _fill(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    assert any(p.row_id == 3 for p in _problems(db))


def test_inserted_row_detected(db: Database) -> None:
    _fill(db, 3)
    with db.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM audit_events WHERE id = 2")).mappings().one()
        conn.execute(text("UPDATE audit_events SET id = id + 10 WHERE id = 3"))
        values = dict(row)
        values["id"] = 3
        values["action"] = "forged"
        conn.execute(
            text(
                "INSERT INTO audit_events (id, at, actor, action, subject_ref, recipient, purpose, "
                "detail, prev_hash, hash) VALUES (:id, :at, :actor, :action, :subject_ref, "
                ":recipient, :purpose, :detail, :prev_hash, :hash)"
            ),
            values,
        )
    assert _problems(db)


def test_cut_tail_detected(db: Database) -> None:
    _fill(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 5"))
    found = _problems(db)
    assert found and "tail" in found[-1].problem


def test_audit_verify_command_fails_after_edit(
    db_url: str, make_config: Callable[..., tuple[object, Path]]
) -> None:
    _config, path = make_config(db_url=db_url, dovecot=None, smtp=None)
    database = Database(db_url)
    database.upgrade()
    _fill(database)
    command = [sys.executable, "-m", "gateway", "-c", str(path), "audit", "verify"]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "5 rows, intact" in ok.stdout
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET purpose = 'changed' WHERE id = 4"))
    # By default verify starts at the last checkpoint (row 5): an edit before it needs --full.
    bad = subprocess.run([*command, "--full"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "row 4" in bad.stdout and "TAMPERED" in bad.stdout
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET purpose = 'check request' WHERE id = 4"))
    _fill(database, start=5)  # rows 6 to 10, after the checkpoint
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET purpose = 'changed' WHERE id = 8"))
    bad = subprocess.run([*command, "--json"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert [p["row"] for p in json.loads(bad.stdout)["problems"]] == [8]
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET purpose = 'check request' WHERE id = 8"))
    database.dispose()
    again = subprocess.run([*command, "--json"], capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)
    # Only what was recorded since the last intact run is walked.
    assert report["verified_rows"] == 5 and report["from_row"] == 6 and not report["full"]


def test_run_refuses_unmigrated_postgres(
    fresh_postgres_url: str, make_config: Callable[..., tuple[object, Path]]
) -> None:
    _config, path = make_config(db_url=fresh_postgres_url, dovecot=None, smtp=None)
    base = [sys.executable, "-m", "gateway", "-c", str(path)]
    refused = subprocess.run([*base, "status"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "mash-gateway db upgrade" in refused.stderr
    upgraded = subprocess.run([*base, "db", "upgrade"], capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    assert subprocess.run([*base, "status"], capture_output=True).returncode == 0
