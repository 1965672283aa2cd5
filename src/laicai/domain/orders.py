"""Orders as laicai asks for them and as the venue reports them back.

``client_order_id`` (ours, deterministic, journaled before sending) and ``venue_order_id``
(theirs) are kept apart. Sizes are in the instrument's order units (contracts for swaps, base
for spot); ``filled_base`` is always in base currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from laicai.domain.enums import Side


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    POST_ONLY = "post_only"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    OPEN = "open"  # resting, maybe partly filled
    FILLED = "filled"
    CANCELED = "canceled"  # final; may be partly filled
    REJECTED = "rejected"  # never accepted

    @property
    def final(self) -> bool:
        return self is not OrderStatus.OPEN


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order to send. ``td_mode``: cash (spot), cross (swap, or spot margin that may
    borrow), isolated. ``reduce_only`` for swap legs that must only close."""

    client_order_id: str
    inst_id: str
    side: Side
    type: OrderType
    size: Decimal
    td_mode: str
    price: Decimal | None = None
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the venue says about one order now."""

    client_order_id: str
    venue_order_id: str
    inst_id: str
    side: Side
    status: OrderStatus
    size: Decimal
    filled: Decimal  # in order units
    avg_px: Decimal | None
    fee: Decimal  # positive = paid
    fee_ccy: str
    ts_ms: int
    raw: dict[str, object] | None = None

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of one of our orders, as the venue reports it."""

    trade_id: str
    venue_order_id: str
    client_order_id: str
    inst_id: str
    side: Side
    px: Decimal
    size: Decimal  # order units
    fee: Decimal  # positive = paid
    fee_ccy: str
    maker: bool
    ts_ms: int
