"""What execution did, as typed past-tense events for the notifier, the dashboard and the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from laicai.domain.enums import Direction


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    ts: datetime
    position_id: int
    symbol: str


@dataclass(frozen=True, slots=True)
class CarryOpened(ExecutionEvent):
    direction: Direction
    base_qty: Decimal
    spot_px: Decimal
    perp_px: Decimal
    fees_usdt: Decimal
    funding_rate: Decimal = Decimal(0)
    net_apr: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CarryOpenFailed(ExecutionEvent):
    reason: str
    unwound: bool


@dataclass(frozen=True, slots=True)
class LegRepaired(ExecutionEvent):
    leg: str  # spot | perp
    action: str  # complete | trim | flatten
    base_qty: Decimal


@dataclass(frozen=True, slots=True)
class NakedExposureAlert(ExecutionEvent):
    naked_usdt: Decimal
    spot_base: Decimal
    perp_base: Decimal
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CarryReset(ExecutionEvent):
    resets_count: int
    cost_usdt: Decimal
    base_qty: Decimal


@dataclass(frozen=True, slots=True)
class CarryClosed(ExecutionEvent):
    reason: str
    spot_px: Decimal
    perp_px: Decimal
    pnl_usdt: Decimal
    fees_usdt: Decimal


@dataclass(frozen=True, slots=True)
class RedemptionDelayed(ExecutionEvent):
    ccy: str
    waited_s: float
    policy: str


@dataclass(frozen=True, slots=True)
class ExecutionError(ExecutionEvent):
    operation: str
    message: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MarginTransferred(ExecutionEvent):
    """A carry's perp margin grew (``action`` top_up) or shrank (sweep).

    ``amount_usdt`` is what the carry's margin gained or gave up; ``transferred_usdt`` what
    moved between the funding and trading accounts; ``isolated_usdt`` what went into or out
    of an isolated position's own margin. A cross top-up from ``trading`` moves nothing: the
    trading account's free USDT already backs every cross position, and the top-up commits
    ``amount_usdt`` of it to this carry."""

    action: str  # top_up | sweep
    source: str  # trading | funding: where the USDT came from
    destination: str  # margin | funding
    margin_mode: str  # cross | isolated
    requested_usdt: Decimal
    amount_usdt: Decimal
    transferred_usdt: Decimal
    isolated_usdt: Decimal = Decimal(0)
    client_id: str = ""  # of the transfer, when there was one


@dataclass(frozen=True, slots=True)
class LegRebalanced(ExecutionEvent):
    """One leg of a carry was shrunk by ``base_qty`` (a magnitude) back towards its hedge."""

    leg: str  # spot | perp
    base_qty: Decimal
    spot_base: Decimal  # both legs afterwards, magnitudes
    perp_base: Decimal
    fees_usdt: Decimal


@dataclass(frozen=True, slots=True)
class AccountClosedOut(ExecutionEvent):
    """Close-all finished (``position_id`` 0: the whole account, not one carry)."""

    flat: bool
    summary: str
