"""Urgent alerts and the reasons a contact is urgent (beside models.py, which is full)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class UrgentReason(Base):
    """One thing the urgency screen found: which signal, the text, and the message it was in."""

    __tablename__ = "urgent_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    signal: Mapped[str] = mapped_column(String(32))
    matched: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime]


class Alert(Base):
    """An urgent alert someone must acknowledge; escalated one rung at a time until then."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unguessable: in the alert's Message-ID and subject, so a reply acknowledges it.
    token: Mapped[str] = mapped_column(String(16), unique=True)
    reference: Mapped[str | None] = mapped_column(String(32), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    title: Mapped[str] = mapped_column(Text)
    lines: Mapped[list[str]] = mapped_column(JSON)
    raised_at: Mapped[datetime]
    out_of_hours: Mapped[bool] = mapped_column(Boolean)
    # Sent to the Emergency Duty Team (who may then acknowledge it too).
    edt: Mapped[bool] = mapped_column(Boolean)
    # Escalations sent so far, and when the next is due (None: acknowledged or none left).
    rung: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
