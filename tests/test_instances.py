"""Several instances: each mailbox watched by one at a time, taken over when its holder dies;
SQLite refuses a second instance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from harness import Running, counts, wait_until
from helpers import plain_message

from gateway.clock import FrozenClock
from gateway.config import Config, load_config
from gateway.daemon import Daemon
from gateway.reports.status import status
from gateway.store.db import AnotherInstance

MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def _instances(
    make_config: MakeConfig, url: str, dovecot: Dovecot | None, smtp: RecordingSmtp | None
) -> tuple[Daemon, Daemon]:
    _config, path = make_config(
        db_url=url, dovecot=dovecot, smtp=smtp, gateway_extra='takeover_after = "5 seconds"'
    )
    text = path.read_text()
    one = load_config(path)
    path.write_text(text.replace("[gateway]\n", '[gateway]\ninstance = "mash-b"\n', 1))
    two = load_config(path)
    clock = FrozenClock(START)
    first = Daemon(one, clock, sweep_every=3600)
    first.db.upgrade()
    return first, Daemon(two, clock, sweep_every=3600)


def test_a_second_instance_on_sqlite_is_refused(
    sqlite_url: str, make_config: MakeConfig
) -> None:
    first, second = _instances(make_config, sqlite_url, None, None)
    with Running(first):
        # The first holds the lock once it has said it is alive (its thread may start late).
        wait_until(
            lambda: bool(status(first.db, first.config, first.clock.now())["instances"]),
            what="the first instance's heartbeat",
        )
        with pytest.raises(AnotherInstance, match="SQLite serves one instance"):
            second.run_forever()
    # Once the first has stopped, the database is free for a new instance.
    with Running(second):
        pass


def test_one_instance_watches_a_mailbox_and_another_takes_it_over_when_it_dies(
    fresh_postgres_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = _instances(make_config, fresh_postgres_url, dovecot, smtp_sink)
    box = a.config.mailbox[0].name
    with Running(a):
        wait_until(lambda: a.claims.holds(box), what="the first instance to take the mailbox")
        with Running(b):
            client = dovecot.client("mash")
            client.append("INBOX", plain_message(1))
            client.logout()
            wait_until(lambda: counts(a)["messages"] == 1, what="the first message ingested")
            assert not b.claims.holds(box), "two instances watching one mailbox"
            watched = status(a.db, a.config, a.clock.now())["mailboxes"][box]["watched_by"]
            assert watched == a.owner

            # The first instance dies: it stops renewing and never hands the mailbox over.
            monkeypatch.setattr(a.claims, "release_all", lambda: None)
            a.stop()
            a.clock.advance(timedelta(seconds=6))  # past takeover_after
            wait_until(lambda: b.claims.holds(box), what="the mailbox taken over")

            client = dovecot.client("mash")
            client.append("INBOX", plain_message(2))
            client.logout()
            wait_until(lambda: counts(b)["messages"] == 2, what="the second message ingested")
            report = status(b.db, b.config, b.clock.now())
            assert report["mailboxes"][box]["watched_by"] == b.owner
            assert set(report["instances"]) == {a.owner, b.owner}
