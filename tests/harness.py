"""Drive a real Daemon in-process against the fixtures' servers, and wait on its state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from gateway.daemon import Daemon
from gateway.store.models import Message, MessageSource, OutboxRow


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    """Wait for asynchronous work to finish (not for a clock deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


class Running:
    """run_forever in a thread; stop() joins it."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.thread = threading.Thread(target=daemon.run_forever, daemon=True)

    def __enter__(self) -> Running:
        self.daemon.prepare()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.daemon.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "daemon did not stop"


def counts(daemon: Daemon) -> dict[str, Any]:
    with daemon.db.transaction() as session:
        states = dict(
            session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
        )
        sources = session.execute(select(func.count()).select_from(MessageSource)).scalar_one()
        outbox = dict(
            session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)).all()
        )
    return {
        "states": states,
        "sources": sources,
        "outbox": outbox,
        "messages": sum(states.values()),
    }
