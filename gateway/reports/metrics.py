"""Prometheus metrics and /healthz (`[metrics] listen`), read from the database at each scrape.

Reading the shared database, rather than counting in memory, makes every instance report the
same truth and survives restarts. No message body or personal data is ever exported: counts,
ages and mailbox names only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain.checks.request import OPEN_STATES, RAGS
from gateway.reports.status import status
from gateway.store.db import Database
from gateway.store.models import Check
from gateway.store.operations import SweepHealth

log = logging.getLogger(__name__)


class GatewayCollector(Collector):
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self.db, self.config, self.clock = db, config, clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock.now()
        snapshot = status(self.db, self.config, now)
        messages = GaugeMetricFamily(
            "mash_messages", "Messages ingested, by state", labels=["state"]
        )
        for state in ("processed", "quarantined", "pending"):
            messages.add_metric([state], snapshot["messages"][state])
        yield messages
        yield GaugeMetricFamily(
            "mash_messages_ingested",
            "Messages ingested in all",
            value=snapshot["messages"]["ingested"],
        )
        outbox = snapshot["outbox"]
        yield GaugeMetricFamily(
            "mash_outbox_depth", "Outbound messages waiting to be sent", value=outbox["pending"]
        )
        yield GaugeMetricFamily(
            "mash_outbox_held",
            "Outbound messages held for a usable OpenPGP key",
            value=outbox["held"],
        )
        yield GaugeMetricFamily(
            "mash_outbox_oldest_seconds",
            "Age of the oldest message waiting to be sent",
            value=outbox["oldest_pending_seconds"] or 0,
        )
        overdue = GaugeMetricFamily(
            "mash_checks_overdue", "MASH checks past due and unanswered", labels=["rag"]
        )
        with self.db.reading() as session:
            counts = dict(
                session.execute(
                    select(Check.rag, func.count())
                    .where(Check.status.in_(OPEN_STATES), Check.due_at <= now)
                    .group_by(Check.rag)
                ).all()
            )
        for rag in RAGS:
            overdue.add_metric([rag], counts.get(rag, 0))
        yield overdue
        polls = GaugeMetricFamily(
            "mash_mailbox_last_poll_timestamp_seconds",
            "When each mailbox was last read successfully (Unix time; 0: never)",
            labels=["mailbox"],
        )
        for name, box in snapshot["mailboxes"].items():
            polls.add_metric([name], _unix(box["last_poll"]))
        yield polls
        failures = CounterMetricFamily(
            "mash_sweep_failures",
            "Times each scheduled sweep has failed (the others ran on regardless)",
            labels=["sweep"],
        )
        failing = GaugeMetricFamily(
            "mash_sweep_failing", "1 while a scheduled sweep's latest run failed", labels=["sweep"]
        )
        with self.db.reading() as session:
            for health in session.execute(select(SweepHealth)).scalars():
                failures.add_metric([health.name], health.failures)
                failing.add_metric([health.name], 1 if health.failing_since else 0)
        yield failures
        yield failing


def _unix(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


def health(db: Database, config: Config, clock: Clock) -> tuple[bool, list[str]]:
    """Healthy: the database answers and no mailbox has failed for longer than the alert
    threshold."""
    now = clock.now()
    try:
        snapshot = status(db, config, now)
    except Exception as exc:  # noqa: BLE001 - reported as unhealthy, not raised
        return False, [f"database: {type(exc).__name__}"]
    problems = []
    for name, box in snapshot["mailboxes"].items():
        since = box["failing_since"]
        if since and now - datetime.fromisoformat(since) > config.gateway.mailbox_alert_after:
            problems.append(f"mailbox {name} failing since {since}")
    return not problems, problems


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(config: Config, db: Database, clock: Clock) -> WSGIServer | None:
    """Start the metrics server in a thread when `[metrics] listen` is set."""
    listen = config.metrics.listen
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    registry = CollectorRegistry()
    registry.register(GatewayCollector(db, config, clock))
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            ok, problems = health(db, config, clock)
            body = ("ok\n" if ok else "\n".join(problems) + "\n").encode()
            start(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [body]
        return metrics_app(environ, start)  # type: ignore[no-any-return]

    server = make_server(host.strip("[]"), int(port), app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s/metrics and /healthz", listen)
    return server
