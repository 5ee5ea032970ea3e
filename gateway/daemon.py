"""The one place that wires the gateway together: watchers, pipeline, scheduler, outbox."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from gateway.clock import Clock
from gateway.config import Config
from gateway.crypto.keyring import keyring_from_config
from gateway.domain.checks.records import request_refused
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.imap import Connector, MailboxWatcher
from gateway.inbound.imap_connection import connect_imap
from gateway.inbound.ownership import MailboxClaims, heartbeat
from gateway.inbound.pipeline import Handler
from gateway.inbound.processing import Processor
from gateway.inbound.smtp import start_listener
from gateway.outbound.compose import DEFAULT_TEMPLATES, Letters
from gateway.outbound.outbox import release_own_leases
from gateway.outbound.sender import OutboxSender
from gateway.outbound.smtp import SmtpConnector, SmtpTransport, connect_smtp
from gateway.reports.metrics import serve as serve_metrics
from gateway.store.db import Database, single_instance_lock
from gateway.sweeps import SweepContext, SweepRunner

log = logging.getLogger(__name__)

WORKER_TICK = 5.0


@dataclass
class OnceReport:
    ingested: int = 0
    processed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    mailbox_errors: dict[str, str] = field(default_factory=dict)


class Daemon:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        *,
        connect: Connector = connect_imap,
        smtp_connect: SmtpConnector = connect_smtp,
        handlers: Mapping[str, Handler] | None = None,
        templates: Path = DEFAULT_TEMPLATES,
        sweep_every: float = 30.0,
    ) -> None:
        self.sweep_every = sweep_every
        self.config = config
        self.clock = clock
        self.db = Database(config.gateway.database)
        self.keyring = keyring_from_config(config)
        self.letters = Letters(templates, self.keyring)
        self.owner = config.gateway.instance
        self.stop_event = threading.Event()
        self.pipeline_wake = threading.Event()
        self.outbox_wake = threading.Event()
        self.claims = MailboxClaims(self.db, clock, self.owner, config.gateway.takeover_after)
        self.watchers = {
            box.name: MailboxWatcher(
                box,
                config,
                self.db,
                clock,
                self.letters,
                connect=connect,
                on_ingested=self.pipeline_wake.set,
                stop=self.stop_event,
                claims=self.claims,
            )
            for box in config.mailbox
        }
        self.processor = Processor(
            self.db,
            config,
            clock,
            self.letters,
            handlers or default_handlers(),
            self.owner,
            on_finished=self._finished,
            on_queued=self.outbox_wake.set,
            keyring=self.keyring,
        )
        transport = SmtpTransport(config.smtp, self._smtp_password, smtp_connect)
        self.sender = OutboxSender(
            self.db,
            config,
            clock,
            transport,
            self.letters,
            self.owner,
            on_failed=request_refused,
        )
        self.sweeps = SweepRunner(SweepContext(self.db, config, clock, self.letters))

    def _smtp_password(self) -> str | None:
        if not self.config.smtp.username:
            return None
        return self.config.smtp.password.resolve("smtp")

    def _finished(self, mailbox: str | None) -> None:
        watcher = self.watchers.get(mailbox or "")
        if watcher is not None:
            watcher.moves_due.set()

    def prepare(self) -> None:
        Path(self.config.gateway.state_dir).mkdir(parents=True, exist_ok=True)
        if self.db.is_sqlite:
            self.db.upgrade()
        else:
            self.db.require_current()
        # Whatever this instance held when it last stopped is free again.
        self.processor.release_own_leases()
        with self.db.transaction() as session:
            release_own_leases(session, self.owner)

    def run_jobs(self) -> dict[str, str | None]:
        """Every sweep once, each in its own error boundary; for each, None or its error."""
        return self.sweeps.run()

    # --- --once ----------------------------------------------------------------------------
    def run_once(self) -> OnceReport:
        report = OnceReport()
        self._sync_all(report)
        for _round in range(3):
            report.processed += self.processor.process_due()
            self.run_jobs()
            flushed = self.sender.flush()
            report.sent += flushed.sent
            report.deferred += flushed.retried
            report.failed += flushed.failed
            if not self._sync_all(report):
                break
        return report

    def _sync_all(self, report: OnceReport) -> int:
        before = report.ingested
        for name, watcher in self.watchers.items():
            try:
                report.ingested += watcher.run_once()
            except Exception as exc:  # noqa: BLE001 - one broken mailbox never stops the rest
                report.mailbox_errors[name] = f"{type(exc).__name__}: {exc}"
        return report.ingested - before

    # --- the daemon --------------------------------------------------------------------------
    def run_forever(self) -> None:
        self._install_signals()
        # SQLite serves one instance; several share PostgreSQL. Held until this process ends.
        single = single_instance_lock(self.db) if self.db.is_sqlite else None
        started_at = self.clock.now()
        heartbeat(self.db, self.owner, started_at, started_at)
        threads = [
            threading.Thread(target=w.run_forever, name=f"watch-{n}", daemon=True)
            for n, w in self.watchers.items()
        ]
        threads.append(threading.Thread(target=self._pipeline_loop, name="pipeline", daemon=True))
        threads.append(threading.Thread(target=self._outbox_loop, name="outbox", daemon=True))
        threads.append(
            threading.Thread(
                target=self._heartbeat_loop, args=(started_at,), name="heartbeat", daemon=True
            )
        )
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self._safe_jobs,
            "interval",
            seconds=self.sweep_every,
            id="sweeps",
            max_instances=1,
            coalesce=True,
        )
        metrics = serve_metrics(self.config, self.db, self.clock)
        listener = None
        if self.config.listener.enabled:
            listener = start_listener(self.config, self.db, self.clock, self.pipeline_wake.set)
        # Chases and digests missed while the gateway was down happen now, once, not at the
        # first tick; then work left by a previous run.
        self._safe_jobs()
        self.pipeline_wake.set()
        self.outbox_wake.set()
        for thread in threads:
            thread.start()
        scheduler.start()
        log.info("mash-gateway running: %d mailbox(es)", len(self.watchers))
        try:
            self.stop_event.wait()
        finally:
            log.info("stopping")
            scheduler.shutdown(wait=False)
            if metrics is not None:
                metrics.shutdown()
            if listener is not None:
                listener.stop()
            self.pipeline_wake.set()
            self.outbox_wake.set()
            for thread in threads:
                thread.join(timeout=15)
            # A clean stop hands the mailboxes over at once; a crash waits for takeover_after.
            try:
                self.claims.release_all()
            except Exception:
                log.exception("could not give up the mailbox leases; they lapse by themselves")
            self.db.dispose()
            if single is not None:
                single.close()

    def stop(self) -> None:
        self.stop_event.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def _handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s received", signum)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)

    def look_now(self) -> None:
        """Have every watcher look at its mailbox now rather than when the server says so."""
        for watcher in self.watchers.values():
            watcher.moves_due.set()

    def sweep(self) -> None:
        """Run the scheduled sweeps now (the demo's clock jumps between the scheduler's ticks)."""
        self._safe_jobs()

    def _safe_jobs(self) -> None:
        # The runner never raises for a sweep; this boundary is for the runner itself.
        try:
            self.run_jobs()
        except Exception:
            log.exception("the sweep runner failed")
        self.outbox_wake.set()

    def _heartbeat_loop(self, started_at: datetime) -> None:
        """Renew this instance's claims well inside `takeover_after`, and say it is alive."""
        every = self.config.gateway.takeover_after.total_seconds() / 3
        while not self.stop_event.wait(every):
            try:
                heartbeat(self.db, self.owner, self.clock.now(), started_at)
                self.claims.renew()
                self.sender.renew_in_flight()
            except Exception:
                log.exception("heartbeat failed; retrying")

    def _pipeline_loop(self) -> None:
        while not self.stop_event.is_set():
            self.pipeline_wake.wait(WORKER_TICK)
            self.pipeline_wake.clear()
            try:
                self.processor.process_due()
            except Exception:
                log.exception("pipeline pass failed; retrying")
                self.stop_event.wait(WORKER_TICK)

    def _outbox_loop(self) -> None:
        while not self.stop_event.is_set():
            self.outbox_wake.wait(WORKER_TICK)
            self.outbox_wake.clear()
            try:
                self.sender.flush()
            except Exception:
                log.exception("outbox pass failed; retrying")
                self.stop_event.wait(WORKER_TICK)
