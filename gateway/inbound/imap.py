"""One watcher per mailbox: catch-up on connect, then IDLE (or polling), ingest, then file."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from imapclient import IMAPClient
from sqlalchemy import select, update

from gateway.clock import Clock
from gateway.config import Config, MailboxSection
from gateway.inbound.imap_connection import (
    announced,
    at_eof,
    close_quietly,
    connect_imap,
    is_news,
    plan_batches,
    untagged,
)
from gateway.inbound.ingest import Arrival, Source, ingest_batch
from gateway.inbound.ownership import MailboxClaims
from gateway.inbound.screening import priority_of
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import enqueue
from gateway.retry import backoff
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import MailboxState, Message, MessageSource

log = logging.getLogger(__name__)
# imapclient logs whole protocol exchanges, message bodies included, at DEBUG: never ours.
logging.getLogger("imapclient").setLevel(logging.INFO)

IDLE_CHECK = 1.0
IDLE_RECHECK = 0.5
RECHECK_WINDOW = 10.0
RECONNECT_BASE = timedelta(seconds=1)


Connector = Callable[[MailboxSection, Config, Clock], IMAPClient]


class MailboxWatcher:
    def __init__(
        self,
        box: MailboxSection,
        config: Config,
        db: Database,
        clock: Clock,
        letters: Letters,
        *,
        connect: Connector = connect_imap,
        on_ingested: Callable[[], None] = lambda: None,
        stop: threading.Event | None = None,
        claims: MailboxClaims | None = None,
    ) -> None:
        self.box = box
        self.config = config
        self.db = db
        self.clock = clock
        self.letters = letters
        self.connect = connect
        self.on_ingested = on_ingested
        self.stop = stop or threading.Event()
        self.moves_due = threading.Event()
        self.uidvalidity: int | None = None
        self._last_activity = 0.0
        # With several instances, only the one holding the mailbox's lease watches it.
        self.claims = claims

    # --- the long-running loop -------------------------------------------------------------
    def _ours(self) -> bool:
        return self.claims is None or self.claims.holds(self.box.name)

    def run_forever(self) -> None:
        failures = 0
        while not self.stop.is_set():
            if self.claims is not None and not self.claims.acquire(self.box.name):
                # Another instance watches it; look again in case that instance dies.
                self.stop.wait(self.claims.retry_seconds)
                continue
            try:
                client = self.connect(self.box, self.config, self.clock)
            except Exception as exc:  # noqa: BLE001 - any failure: record, back off, retry
                failures += 1
                self._record_failure(exc)
                self.stop.wait(self._delay(failures))
                continue
            try:
                self._prepare(client)
                self.sync(client)
                failures = 0
                while not self.stop.is_set() and self._ours():
                    self._wait(client)
                    if self._ours():
                        self.sync(client)
            except Exception as exc:  # noqa: BLE001
                failures += 1
                self._record_failure(exc)
                close_quietly(client)
                self.stop.wait(self._delay(failures))
                continue
            close_quietly(client)

    def _delay(self, failures: int) -> float:
        return backoff(failures, RECONNECT_BASE, self.box.reconnect_cap).total_seconds()

    def _wait(self, client: IMAPClient) -> None:
        if client.has_capability("IDLE"):
            self._idle(client)
        else:
            self._poll(client)

    def _idle(self, client: IMAPClient) -> None:
        # Mail that arrived during the last sync was announced in replies to our own commands
        # (collected since sync cleared them), in NOOP's reply, or as IDLE starts: look at all
        # three, so that no arrival waits for the next one to be noticed.
        if announced(client):
            return
        _text, pending = client.noop()
        if any(is_news(r) for r in pending):
            return
        client.idle()
        started = time.monotonic()
        renew = self.box.idle_renew.total_seconds()
        if started - self._last_activity < RECHECK_WINDOW:
            # For a while after activity, look again every half second: a server can miss an
            # arrival that races the start of IDLE (seen with Dovecot), and that mail would
            # otherwise wait for the next arrival or the next renewal.
            renew = min(renew, IDLE_RECHECK)
        try:
            if announced(client):
                return
            while not self.stop.is_set() and not self.moves_due.is_set() and self._ours():
                responses = client.idle_check(timeout=IDLE_CHECK)
                if any(is_news(r) for r in responses):
                    return
                if not responses and at_eof(client.socket()):
                    # imapclient swallows EOF inside IDLE; a dead server looks like silence.
                    raise ConnectionError("server closed the connection during IDLE")
                if time.monotonic() - started >= renew:
                    return
        finally:
            client.idle_done()

    def _poll(self, client: IMAPClient) -> None:
        deadline = time.monotonic() + self.box.poll_interval.total_seconds()
        while not self.stop.is_set() and not self.moves_due.is_set() and self._ours():
            if time.monotonic() >= deadline:
                break
            self.stop.wait(IDLE_CHECK)
        client.noop()

    # --- one pass: usable alone by `run --once` --------------------------------------------
    def run_once(self) -> int:
        """Connect, catch up, file finished messages, disconnect. Raises on failure."""
        try:
            client = self.connect(self.box, self.config, self.clock)
        except Exception as exc:
            self._record_failure(exc)
            raise
        try:
            self._prepare(client)
            return self.sync(client)
        except Exception as exc:
            self._record_failure(exc)
            raise
        finally:
            close_quietly(client)

    def _prepare(self, client: IMAPClient) -> None:
        existing = {name for _flags, _delim, name in client.list_folders()}
        for folder in (self.box.processed_folder, self.box.quarantine_folder):
            if folder not in existing:
                client.create_folder(folder)
        selected = client.select_folder(self.box.folder)
        self._check_uidvalidity(int(selected[b"UIDVALIDITY"]))

    def sync(self, client: IMAPClient) -> int:
        """Catch-up: ingest whatever is new, then move what is finished. Returns new count."""
        self.moves_due.clear()
        untagged(client).clear()  # the search below covers anything announced before it
        uids = sorted(client.search(["NOT", "DELETED"]))
        new = self._unknown(uids)
        batches, too_large = plan_batches(
            client, self.box.fetch_batch, self.config.limits.max_message_bytes, new
        )
        ingested = self._ingest_too_large(client, too_large)
        for batch in batches:
            fetched = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            now = self.clock.now()
            arrivals = [
                Arrival(
                    raw=bytes(data[b"BODY[]"]),
                    source=Source("imap", self.box.name, self.box.folder, self.uidvalidity, uid),
                    received_at=_aware(data.get(b"INTERNALDATE"), now),
                    priority=priority_of(bytes(data[b"BODY[]"]), self.config),
                )
                for uid in batch
                # A UID missing from the answer was expunged meanwhile by someone else.
                if (data := fetched.get(uid)) is not None and b"BODY[]" in data
            ]
            if arrivals:
                ingest_batch(self.db, arrivals, now=now, role=self.box.role)
                ingested += len(arrivals)
                self.on_ingested()
        moved = self.file_finished(client, set(uids))
        if ingested or moved:
            self._last_activity = time.monotonic()
        self._record_success()
        return ingested

    def _unknown(self, uids: list[int]) -> list[int]:
        if not uids:
            return []
        with self.db.transaction() as session:
            known = set(
                session.execute(
                    select(MessageSource.uid).where(
                        MessageSource.mailbox == self.box.name,
                        MessageSource.folder == self.box.folder,
                        MessageSource.uidvalidity == self.uidvalidity,
                        MessageSource.uid >= uids[0],
                    )
                ).scalars()
            )
        return [uid for uid in uids if uid not in known]

    def _ingest_too_large(self, client: IMAPClient, sizes: dict[int, int]) -> int:
        """Over the cap: committed quarantined from its header alone (a 200 MB message costs a
        header's fetch), the whole of it left on the server for a person."""
        part = f"BODY.PEEK[HEADER]<0.{self.config.limits.max_header_bytes}>"
        fetched = client.fetch(sorted(sizes), [part, "INTERNALDATE"]) if sizes else {}
        now = self.clock.now()
        arrivals = [
            Arrival(
                raw=bytes(next((v for k, v in data.items() if k.startswith(b"BODY[HEADER]")), b"")),
                source=Source("imap", self.box.name, self.box.folder, self.uidvalidity, uid),
                received_at=_aware(data.get(b"INTERNALDATE"), now),
                server_size=size,
            )
            for uid, size in sorted(sizes.items())
            if (data := fetched.get(uid)) is not None  # else expunged meanwhile
        ]
        if arrivals:
            log.warning("mailbox %s: %d message(s) over the size cap", self.box.name, len(arrivals))
            ingest_batch(self.db, arrivals, now=now, role=self.box.role)
            self.on_ingested()
        return len(arrivals)

    def file_finished(self, client: IMAPClient, present: set[int] | None = None) -> int:
        """Move processed and quarantined messages out of the watched folder."""
        with self.db.transaction() as session:
            rows = session.execute(
                select(MessageSource.id, MessageSource.uid, Message.state)
                .join(Message, Message.id == MessageSource.message_id)
                .where(
                    MessageSource.mailbox == self.box.name,
                    MessageSource.folder == self.box.folder,
                    MessageSource.uidvalidity == self.uidvalidity,
                    MessageSource.server_state == "inbox",
                    Message.state.in_(("processed", "quarantined")),
                )
            ).all()
        moved = 0
        for state, folder in (
            ("processed", self.box.processed_folder),
            ("quarantined", self.box.quarantine_folder),
        ):
            group = [(sid, uid) for sid, uid, st in rows if st == state and uid is not None]
            for start in range(0, len(group), 500):
                chunk = group[start : start + 500]
                uids = [uid for _sid, uid in chunk if present is None or uid in present]
                if uids:
                    self._move(client, uids, folder)
                with self.db.transaction() as session:
                    session.execute(
                        update(MessageSource)
                        .where(MessageSource.id.in_([sid for sid, _uid in chunk]))
                        .values(server_state="moved")
                    )
                moved += len(uids)
        return moved

    def _move(self, client: IMAPClient, uids: list[int], folder: str) -> None:
        if client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        # Without UIDPLUS the copies stay flagged \Deleted: a bare EXPUNGE could remove
        # messages someone else flagged, so we never issue one.

    # --- bookkeeping ---------------------------------------------------------------------
    def _check_uidvalidity(self, value: int) -> None:
        now = self.clock.now()
        with self.db.transaction() as session:
            state = session.get(MailboxState, self.box.name)
            if state is None:
                state = MailboxState(name=self.box.name)
                session.add(state)
            previous = state.uidvalidity
            state.uidvalidity = value
            if previous is not None and previous != value:
                stale = session.execute(
                    update(MessageSource)
                    .where(
                        MessageSource.mailbox == self.box.name,
                        MessageSource.folder == self.box.folder,
                        MessageSource.uidvalidity == previous,
                        MessageSource.server_state == "inbox",
                    )
                    .values(server_state="stale")
                ).rowcount  # type: ignore[attr-defined]
                log.warning(
                    "mailbox %s: UIDVALIDITY changed %s -> %s; rescanning by hash",
                    self.box.name,
                    previous,
                    value,
                )
                ledger.append(
                    session,
                    now,
                    ledger.Event(
                        action="uidvalidity-changed",
                        detail={
                            "mailbox": self.box.name,
                            "old": previous,
                            "new": value,
                            "stale_sources": stale,
                        },
                    ),
                )
                mail = manager_alert(
                    self.config,
                    now,
                    title=f"mailbox {self.box.name} was renumbered by its server",
                    lines=[
                        f"UIDVALIDITY changed from {previous} to {value}.",
                        "Every message in the folder is rescanned; ones already ingested "
                        "are recognised by their content hash and not processed twice.",
                    ],
                    action="No action is needed unless this repeats; then ask the mail "
                    "server's administrators why the mailbox is being rebuilt.",
                )
                if mail is not None:
                    enqueue(session, self.config, self.letters, mail, now)
        self.uidvalidity = value

    def _record_success(self) -> None:
        now = self.clock.now()
        with self.db.transaction() as session:
            state = session.get(MailboxState, self.box.name) or MailboxState(name=self.box.name)
            session.add(state)
            state.last_poll = now
            state.last_error = None
            state.failing_since = None
            state.alerted_at = None

    def _record_failure(self, exc: BaseException) -> None:
        now = self.clock.now()
        text = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("mailbox %s: %s", self.box.name, text)
        try:
            with self.db.transaction() as session:
                state = session.get(MailboxState, self.box.name)
                if state is None:
                    state = MailboxState(name=self.box.name)
                    session.add(state)
                state.last_error = text
                if state.failing_since is None:
                    state.failing_since = now
        except Exception:
            log.exception("mailbox %s: could not record the failure", self.box.name)


def _aware(value: object, fallback: datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return fallback
