"""Which instance watches each mailbox, and which instances are alive.

One lease row per mailbox (`mailbox_leases`), held by one instance and renewed by its
heartbeat; a lease that is not renewed for `[gateway] takeover_after` is free for another
instance, which then watches that mailbox. Each claim raises the row's token, so an instance
that was too slow to renew finds its claim gone and stops watching. On a clean stop an
instance gives its mailboxes up at once. The same rows work on SQLite (one instance) and on
PostgreSQL (several).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from gateway.clock import Clock
from gateway.store.db import Database
from gateway.store.operations import Instance, MailboxLease

log = logging.getLogger(__name__)


class MailboxClaims:
    def __init__(self, db: Database, clock: Clock, owner: str, takeover_after: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.takeover_after = takeover_after
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def retry_seconds(self) -> float:
        """How often an instance that does not hold a mailbox looks whether it is free."""
        return max(0.5, self.takeover_after.total_seconds() / 4)

    def holds(self, name: str) -> bool:
        with self._lock:
            return name in self._held

    def acquire(self, name: str) -> bool:
        """Take the mailbox if it is free, ours already, or its holder stopped renewing."""
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                query = select(MailboxLease).where(MailboxLease.name == name)
                if self.db.skip_locked():
                    query = query.with_for_update()
                lease = session.execute(query).scalar_one_or_none()
                if lease is None:
                    lease = MailboxLease(
                        name=name, owner=self.owner, token=1, lease_until=now, acquired_at=now
                    )
                    session.add(lease)
                elif lease.owner != self.owner and lease.lease_until > now:
                    return False
                else:
                    if lease.owner != self.owner:
                        log.warning(
                            "mailbox %s: taking it over from %s (no heartbeat since %s)",
                            name,
                            lease.owner,
                            lease.lease_until.isoformat(timespec="seconds"),
                        )
                    lease.token += 1
                    lease.owner = self.owner
                    lease.acquired_at = now
                lease.lease_until = now + self.takeover_after
                token = lease.token
        except IntegrityError:
            return False  # another instance inserted the row first
        with self._lock:
            self._held[name] = token
        return True

    def renew(self) -> None:
        """Extend every lease still ours; forget those another instance has taken."""
        now = self.clock.now()
        with self._lock:
            held = dict(self._held)
        lost = []
        with self.db.transaction() as session:
            for name, token in held.items():
                result = session.execute(
                    update(MailboxLease)
                    .where(
                        MailboxLease.name == name,
                        MailboxLease.owner == self.owner,
                        MailboxLease.token == token,
                    )
                    .values(lease_until=now + self.takeover_after)
                )
                if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
                    lost.append(name)
        with self._lock:
            for name in lost:
                self._held.pop(name, None)
        for name in lost:
            log.warning("mailbox %s: another instance took it over; no longer watching", name)

    def release_all(self) -> None:
        """A clean stop: the mailboxes are free for another instance at once."""
        with self._lock:
            held = dict(self._held)
            self._held.clear()
        if not held:
            return
        with self.db.transaction() as session:
            for name, token in held.items():
                session.execute(
                    delete(MailboxLease).where(
                        MailboxLease.name == name,
                        MailboxLease.owner == self.owner,
                        MailboxLease.token == token,
                    )
                )


def heartbeat(db: Database, owner: str, now: datetime, started_at: datetime) -> None:
    """This instance is alive (shown by `status --json`)."""
    with db.transaction() as session:
        row = session.get(Instance, owner)
        if row is None:
            session.add(
                Instance(
                    name=owner,
                    pid=os.getpid(),
                    host=socket.gethostname()[:255],
                    started_at=started_at,
                    heartbeat_at=now,
                )
            )
        else:
            row.pid, row.heartbeat_at, row.started_at = os.getpid(), now, started_at
