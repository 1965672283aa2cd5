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
