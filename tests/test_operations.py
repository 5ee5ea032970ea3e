"""The operator's view: Prometheus metrics and /healthz, and logs without personal data."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.ports import free_port, wait_for_port
from gateway_dev.localworld.smtpsink import RecordingSmtp
from harness import Running, wait_until

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.domain.checks.request import Request, request_checks

REFERRALS = Path(__file__).parent / "data" / "referrals"
MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
POLICE = """
[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "tls"
"""


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_metrics_and_healthz(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    port = free_port()
    cfg, _ = make_config(
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        extra=POLICE + f'[metrics]\nlisten = "127.0.0.1:{port}"\n',
    )
    clock = FrozenClock(START)
    daemon = Daemon(cfg, clock)
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    daemon.run_once()
    with daemon.db.transaction() as session:
        request_checks(
            session,
            cfg,
            daemon.letters,
            START,
            Request("MASH-2026-000001", ("police",), "red", "why"),
        )
    clock.set(START + timedelta(hours=5))
    with Running(daemon):
        wait_for_port(port)
        wait_until(
            lambda: "mash_outbox_depth 0.0" in _get(f"http://127.0.0.1:{port}/metrics")[1],
            timeout=30,
            what="the outbox to drain",
        )
        code, body = _get(f"http://127.0.0.1:{port}/metrics")
        assert code == 200
        assert 'mash_messages{state="processed"} 1.0' in body
        assert 'mash_checks_overdue{rag="red"} 1.0' in body
        assert 'mash_checks_overdue{rag="amber"} 0.0' in body
        assert 'mash_mailbox_last_poll_timestamp_seconds{mailbox="front-door"}' in body
        assert "Amira" not in body
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")


def test_metrics_listen_must_be_host_and_port(make_config: MakeConfig, sqlite_url: str) -> None:
    from gateway.config import ConfigError

    with pytest.raises(ConfigError, match="not HOST:PORT"):
        make_config(
            db_url=sqlite_url, dovecot=None, smtp=None, extra='[metrics]\nlisten = "9464"\n'
        )


def test_logs_carry_no_message_content(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    for name in ("plain-school.eml", "hostile.eml", "missing-fields.eml"):
        dovecot.append("mash", (REFERRALS / name).read_bytes(), arrived=START)
    # Servers name the recipient when they refuse: a deferral, then a refusal.
    smtp_sink.script(
        [
            "451 4.2.0 <sam.teacher@stjohns-school.example>: mailbox busy",
            "550 5.1.1 <sam.teacher@stjohns-school.example>: Recipient address rejected",
        ]
    )
    with caplog.at_level(logging.DEBUG):
        daemon.run_once()
        daemon.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        daemon.run_once()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "processed as referral" in logged
    assert "deferred" in logged and "failed: 550 5.1.1 <[address]>" in logged
    for personal in ("Amira", "Okafor", "Mare Street", "grabbed", "sam.teacher", "943 476"):
        leaks = [
            f"{r.name}: {r.getMessage()[:200]}"
            for r in caplog.records
            if personal in r.getMessage()
        ]
        assert not leaks, leaks
    # The JSON log format is one object per line.
    from gateway.cli.common import JsonFormatter

    line = JsonFormatter().format(caplog.records[0])
    assert set(json.loads(line)) >= {"time", "level", "logger", "message"}
