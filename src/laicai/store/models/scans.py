"""``scan_runs`` and ``scan_results``: every candidate of every scan, accepted or not, with the
numbers that decided it (for the dashboard and for tuning the thresholds)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from laicai.domain.enums import Direction
from laicai.store.models.base import Base, one_of
from laicai.store.types import Amount, EnumText, UtcDateTime


class ScanRunRow(Base):
    __tablename__ = "scan_runs"
    __table_args__ = (Index(None, "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    candidates: Mapped[int] = mapped_column(Integer, server_default="0")
    accepted: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)


class ScanResultRow(Base):
    __tablename__ = "scan_results"
    __table_args__ = (one_of("direction", Direction), Index(None, "scan_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan_runs.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    inst_id: Mapped[str] = mapped_column(Text)
    spot_inst_id: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[Direction] = mapped_column(EnumText(Direction))
    funding_rate: Mapped[Decimal] = mapped_column(Amount())
    interval_hours: Mapped[int] = mapped_column(Integer)
    funding_apr: Mapped[Decimal] = mapped_column(Amount())
    earn_apr: Mapped[Decimal | None] = mapped_column(Amount())
    borrow_apr: Mapped[Decimal | None] = mapped_column(Amount())
    spot_slippage: Mapped[Decimal | None] = mapped_column(Amount())
    swap_slippage: Mapped[Decimal | None] = mapped_column(Amount())
    fees: Mapped[Decimal | None] = mapped_column(Amount())
    net_apr: Mapped[Decimal | None] = mapped_column(Amount())
    breakeven_days: Mapped[Decimal | None] = mapped_column(Amount())
    planned_size: Mapped[Decimal | None] = mapped_column(Amount())
    planned_notional_usdt: Mapped[Decimal | None] = mapped_column(Amount())
    accepted: Mapped[bool] = mapped_column(Boolean)
    reject_reason: Mapped[str | None] = mapped_column(Text)
