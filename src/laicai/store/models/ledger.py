"""Money the exchange booked, one row per bill: funding, Earn and borrow; equity snapshots.

Every bill table is unique on the exchange's bill (or reference) id, so booking the same bill
twice is a no-op: that is how restarts and overlapping polls stay exact.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from laicai.store.models.base import Base, one_of
from laicai.store.states import BorrowEventKind, EarnEventKind
from laicai.store.types import Amount, EnumText, JsonDocument, UtcDateTime


class FundingPaymentRow(Base):
    __tablename__ = "funding_payments"
    __table_args__ = (UniqueConstraint("bill_id"), Index(None, "position_id", "ts"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bill_id: Mapped[str] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    inst_id: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Amount())
    ccy: Mapped[str] = mapped_column(Text)
    rate: Mapped[Decimal | None] = mapped_column(Amount())
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class EarnEventRow(Base):
    __tablename__ = "earn_events"
    __table_args__ = (one_of("kind", EarnEventKind), UniqueConstraint("ref_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ref_id: Mapped[str] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    kind: Mapped[EarnEventKind] = mapped_column(EnumText(EarnEventKind))
    ccy: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Amount())
    rate: Mapped[Decimal | None] = mapped_column(Amount())
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class BorrowEventRow(Base):
    __tablename__ = "borrow_events"
    __table_args__ = (one_of("kind", BorrowEventKind), UniqueConstraint("ref_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ref_id: Mapped[str] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    kind: Mapped[BorrowEventKind] = mapped_column(EnumText(BorrowEventKind))
    ccy: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Amount())
    rate: Mapped[Decimal | None] = mapped_column(Amount())
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class EquitySnapshotRow(Base):
    __tablename__ = "equity_snapshots"
    __table_args__ = (Index(None, "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    equity_usdt: Mapped[Decimal] = mapped_column(Amount())
    available_usdt: Mapped[Decimal | None] = mapped_column(Amount())
    unrealized_pnl_usdt: Mapped[Decimal | None] = mapped_column(Amount())
    open_positions: Mapped[int] = mapped_column(Integer, server_default="0")
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
