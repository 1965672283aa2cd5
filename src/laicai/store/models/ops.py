"""``events`` (alerts, as sent to the operator) and ``bot_state`` (the bot's own key/value state:
its state-machine state, whether the last exit was clean)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from laicai.store.models.base import Base, one_of
from laicai.store.states import AlertLevel
from laicai.store.types import EnumText, JsonDocument, UtcDateTime


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (one_of("level", AlertLevel), Index(None, "ts"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    level: Mapped[AlertLevel] = mapped_column(EnumText(AlertLevel))
    kind: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)


class BotStateRow(Base):
    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[Any] = mapped_column(JsonDocument)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
