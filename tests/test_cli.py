"""The command line as an operator uses it: inspect, status, quarantine, check, --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import auto_reply, plain_message

from gateway.config import Config

MAIL = Path(__file__).parent / "data" / "mail"
MakeConfig = Callable[..., tuple[Config, Path]]


def gateway(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_inspect_one_file_json(tmp_path: Path) -> None:
    done = gateway("inspect", str(MAIL / "ooo-outlook.eml"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["file"].endswith("ooo-outlook.eml")
    assert result["kind"] == "auto_reply" and result["auto_reply"] is True
    assert result["quarantine_reason"] is None
    assert any(r.startswith("classify:") for r in result["reasons"])


def test_inspect_many_files_including_broken(tmp_path: Path) -> None:
    huge = tmp_path / "huge.eml"
    huge.write_bytes(b"Subject: x\r\n\r\n" + b"A" * (30 * 1024 * 1024))
    names = [
        str(MAIL / "dsn-postfix.eml"),
        str(MAIL / "garbage.eml"),
        str(huge),
        str(tmp_path / "missing.eml"),
    ]
    done = gateway("inspect", *names, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["file"] for r in results] == names
    assert [r["kind"] for r in results] == ["bounce", "unknown", "unknown", "unknown"]
    assert results[0]["auto_reply"] is True
    assert results[1]["quarantine_reason"] == "malformed"
    assert results[2]["quarantine_reason"] == "too-large"
    assert results[3]["quarantine_reason"].startswith("unreadable")


def test_inspect_text_output(tmp_path: Path) -> None:
    done = gateway("inspect", str(MAIL / "person-plain.eml"), cwd=tmp_path)
    assert done.returncode == 0
    assert "person-plain.eml: referral" in done.stdout


def test_status_and_quarantine_commands(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    _config, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    dovecot.append("mash", auto_reply(1))
    dovecot.append("mash", plain_message(2))
    dovecot.append("mash", b"no headers at all\x00")
    once = gateway("-c", str(path), "run", "--once")
    assert once.returncode == 0, once.stderr
    assert "ingested 3, processed 3" in once.stdout
    assert "Running upgrade" in once.stderr, "a migration that runs is logged"
    shown_status = gateway("status", "-c", str(path), "--json")
    assert "Context impl" not in shown_status.stderr, "alembic's chatter is not"
    assert shown_status.returncode == 0, shown_status.stderr[-3000:]
    status = json.loads(shown_status.stdout)
    assert status["messages"] == {"ingested": 3, "processed": 1, "quarantined": 2, "pending": 0}
    assert status["quarantine_reasons"] == {"malformed": 1, "unhandled-kind": 1}
    assert status["outbox"]["pending"] == 0 and status["outbox"]["failed"] == 0
    assert status["mailboxes"]["front-door"]["error"] is None
    assert status["mailboxes"]["front-door"]["last_poll"]
    listing = json.loads(gateway("-c", str(path), "quarantine", "list", "--json").stdout)
    assert {item["reason"] for item in listing} == {"malformed", "unhandled-kind"}
    held = next(item for item in listing if item["reason"] == "unhandled-kind")
    shown = json.loads(
        gateway("-c", str(path), "quarantine", "show", str(held["id"]), "--json").stdout
    )
    assert shown["steps"][-1].startswith("handle:")
    raw = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "-c",
            str(path),
            "quarantine",
            "show",
            str(held["id"]),
            "--raw",
        ],
        capture_output=True,
    )
    assert raw.stdout == plain_message(2)
    release = ("-c", str(path), "quarantine", "release", str(held["id"]), "--by", "Duty Manager")
    released = gateway(*release)
    assert released.returncode == 0, released.stderr
    again = gateway(*release)
    assert again.returncode != 0 and "not in quarantine" in again.stderr
    gateway("-c", str(path), "run", "--once")
    status = json.loads(gateway("-c", str(path), "status", "--json").stdout)
    assert status["messages"]["quarantined"] == 2, "released, processed again, held again"
    assert gateway("-c", str(path), "audit", "verify").returncode == 0


def test_check_reports_each_problem(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    _config, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    good = gateway("check", "-c", str(path))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("ok:")
    dovecot.stop()
    smtp_sink.stop()
    bad = gateway("check", "-c", str(path))
    assert bad.returncode == 1
    lines = bad.stdout.splitlines()
    assert any(
        line.startswith("problem: mailbox front-door") and "refused" in line for line in lines
    )
    assert any(line.startswith("problem: smtp") for line in lines)


def test_check_wrong_password(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    _config, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    text = path.read_text().replace("MASH_TEST_MASH_PASSWORD", "MASH_TEST_WRONG_PASSWORD")
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "MASH_TEST_WRONG_PASSWORD": "nope"},
    )
    assert done.returncode == 1
    assert "login refused" in done.stdout


def test_config_error_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "mailboxes.toml"
    bad.write_text('[gateway]\nmash_address = "mash@h.example"\nbogus = 1\n[smtp]\nhost = "x"\n')
    done = gateway("-c", str(bad), "status")
    assert done.returncode == 2
    assert f"{bad}:3: gateway.bogus: unknown key" in done.stderr


def test_help_lists_commands() -> None:
    done = gateway("--help")
    for command in ("run", "check", "db", "status", "inspect", "quarantine", "audit"):
        assert command in done.stdout
    assert "--once" in gateway("run", "--help").stdout
