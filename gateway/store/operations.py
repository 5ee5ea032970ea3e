"""The gateway's own working state, beside the MASH's records: who is alive, who watches which
mailbox, how the sweeps are faring, where the ledger was last found intact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class LedgerCheckpoint(Base):
    """Where `audit verify` last found the chain intact, so the next run starts there."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime]
    full: Mapped[bool] = mapped_column(Boolean, default=False)


class SweepHealth(Base):
    """A scheduled sweep's failing streak: counted for the metrics, alerted once per streak."""

    __tablename__ = "sweep_health"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    alerted_at: Mapped[datetime | None]


class Instance(Base):
    """A running daemon: its heartbeat tells the others it is alive."""

    __tablename__ = "instances"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class MailboxLease(Base):
    """Which instance watches a mailbox; free for another once `lease_until` has passed."""

    __tablename__ = "mailbox_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    token: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime]
    acquired_at: Mapped[datetime]
