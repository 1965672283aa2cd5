"""``journal``: every intent is written here (``pending``) before anything is sent, so a restart
can reconcile what was in flight with the exchange."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from laicai.store.models.base import Base, one_of
from laicai.store.states import JournalStatus
from laicai.store.types import EnumText, JsonDocument, UtcDateTime


class JournalRow(Base):
    __tablename__ = "journal"
    __table_args__ = (one_of("status", JournalStatus), Index(None, "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation: Mapped[str] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[JournalStatus] = mapped_column(EnumText(JournalStatus))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
