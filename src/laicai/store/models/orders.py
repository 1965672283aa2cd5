"""``orders`` (every order laicai sends, keyed by its clOrdId) and ``fills`` (its trades)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from laicai.domain.enums import Side
from laicai.store.models.base import Base, one_of
from laicai.store.states import Liquidity
from laicai.store.types import Amount, EnumText, JsonDocument, UtcDateTime


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        one_of("side", Side),
        UniqueConstraint("client_order_id"),
        Index(None, "position_id"),
        Index(None, "venue_order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(Text)
    venue_order_id: Mapped[str | None] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("journal.id"))
    inst_id: Mapped[str] = mapped_column(Text)
    side: Mapped[Side] = mapped_column(EnumText(Side))
    ord_type: Mapped[str] = mapped_column(Text)
    size: Mapped[Decimal] = mapped_column(Amount())
    price: Mapped[Decimal | None] = mapped_column(Amount())
    reduce_only: Mapped[bool] = mapped_column(Boolean, server_default="0")
    state: Mapped[str] = mapped_column(Text)
    filled_size: Mapped[Decimal] = mapped_column(Amount(), server_default="0")
    avg_px: Mapped[Decimal | None] = mapped_column(Amount())
    fee: Mapped[Decimal] = mapped_column(Amount(), server_default="0")
    fee_ccy: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (
        one_of("side", Side),
        one_of("liquidity", Liquidity),
        UniqueConstraint("inst_id", "trade_id"),
        Index(None, "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    client_order_id: Mapped[str | None] = mapped_column(Text)
    inst_id: Mapped[str] = mapped_column(Text)
    trade_id: Mapped[str] = mapped_column(Text)
    side: Mapped[Side] = mapped_column(EnumText(Side))
    px: Mapped[Decimal] = mapped_column(Amount())
    size: Mapped[Decimal] = mapped_column(Amount())
    fee: Mapped[Decimal] = mapped_column(Amount())
    fee_ccy: Mapped[str] = mapped_column(Text)
    liquidity: Mapped[Liquidity] = mapped_column(EnumText(Liquidity))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
