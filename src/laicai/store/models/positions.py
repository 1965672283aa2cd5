"""``positions``: one carry position (spot leg + perp leg) through its whole life.

The seeds' DDL (003, section 4) column for column, with its CHECKs, DEFAULTs and
``UNIQUE(symbol, open_timestamp)``; the status CHECK is widened to every state of
ARCHITECTURE.md. Columns after the seed's are laicai's additions (both legs' instruments,
contracts and notional, Earn amount, OKX's own margin figures, reset cost, borrow fields).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from laicai.domain.enums import Direction
from laicai.store.models.base import Base, one_of
from laicai.store.states import PositionStatus, SpotEarningStatus
from laicai.store.types import Amount, EnumText, UtcDateTime

SEED_AMOUNT = (20, 10)
"""NUMERIC(20, 10): the seed DDL's precision for amounts and prices."""


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (
        one_of("direction", Direction),
        one_of("status", PositionStatus),
        one_of("spot_earning_status", SpotEarningStatus),
        UniqueConstraint("symbol", "open_timestamp"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(Text)
    direction: Mapped[Direction] = mapped_column(EnumText(Direction))
    status: Mapped[PositionStatus] = mapped_column(EnumText(PositionStatus))
    leverage: Mapped[Decimal] = mapped_column(Amount(5, 2))

    open_timestamp: Mapped[datetime] = mapped_column(UtcDateTime())
    close_timestamp: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_update_timestamp: Mapped[datetime | None] = mapped_column(UtcDateTime())

    position_amount: Mapped[Decimal] = mapped_column(Amount(*SEED_AMOUNT))
    entry_spot_price: Mapped[Decimal] = mapped_column(Amount(*SEED_AMOUNT))
    entry_swap_price: Mapped[Decimal] = mapped_column(Amount(*SEED_AMOUNT))
    exit_spot_price: Mapped[Decimal | None] = mapped_column(Amount(*SEED_AMOUNT))
    exit_swap_price: Mapped[Decimal | None] = mapped_column(Amount(*SEED_AMOUNT))

    spot_earning_status: Mapped[SpotEarningStatus] = mapped_column(
        EnumText(SpotEarningStatus), server_default=SpotEarningStatus.NONE.value
    )
    total_spot_earning_yield: Mapped[Decimal] = mapped_column(
        Amount(*SEED_AMOUNT), server_default="0"
    )
    initial_spot_earning_rate: Mapped[Decimal | None] = mapped_column(Amount(*SEED_AMOUNT))

    margin_ratio: Mapped[Decimal | None] = mapped_column(Amount(10, 4))
    initial_funding_rate: Mapped[Decimal] = mapped_column(Amount(*SEED_AMOUNT))
    total_funding_fee: Mapped[Decimal] = mapped_column(Amount(*SEED_AMOUNT), server_default="0")
    total_trade_fee: Mapped[Decimal] = mapped_column(Amount(*SEED_AMOUNT), server_default="0")
    resets_count: Mapped[int] = mapped_column(Integer, server_default="0")
    pnl_usd: Mapped[Decimal | None] = mapped_column(Amount(*SEED_AMOUNT))

    # laicai's additions
    spot_inst_id: Mapped[str] = mapped_column(Text)
    swap_inst_id: Mapped[str] = mapped_column(Text)
    swap_contracts: Mapped[Decimal | None] = mapped_column(Amount())
    notional_usdt: Mapped[Decimal | None] = mapped_column(Amount())
    funding_interval_hours: Mapped[int | None] = mapped_column(Integer)
    earn_amount: Mapped[Decimal] = mapped_column(Amount(), server_default="0")
    okx_mgn_ratio: Mapped[Decimal | None] = mapped_column(Amount())
    liq_px: Mapped[Decimal | None] = mapped_column(Amount())
    reset_cost: Mapped[Decimal] = mapped_column(Amount(), server_default="0")
    unrealized_pnl_usd: Mapped[Decimal | None] = mapped_column(Amount())
    borrow_ccy: Mapped[str | None] = mapped_column(Text)
    borrowed_amount: Mapped[Decimal] = mapped_column(Amount(), server_default="0")
    initial_borrow_rate: Mapped[Decimal | None] = mapped_column(Amount())
    total_borrow_interest: Mapped[Decimal] = mapped_column(Amount(), server_default="0")
    close_reason: Mapped[str | None] = mapped_column(Text)
