"""The disagreements table: kept beside the models, not in them, so models.py stays small."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class Disagreement(Base):
    """A professional's disagreement with a MASH decision (protocol section 5)."""

    __tablename__ = "disagreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    raised_by: Mapped[str] = mapped_column(String(320))
    raised_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    respond_by: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld, not-upheld, escalated
    reason: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None]
