"""What the engine did, beside what execution did: typed past-tense events for the notifier,
the dashboard, metrics and the log. :data:`BotEvent` is everything the event bus carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from laicai.domain.enums import Direction
from laicai.execution.events import ExecutionEvent

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PnlBreakdown:
    """A carry's (or the account's) PnL by source, USDT, from the exchange's own records.

    ``basis`` is the price PnL of both legs (spot vs perp price change) before fees;
    ``fees`` and ``borrow`` are costs (positive numbers are paid, so they are subtracted);
    ``slippage`` is informational (already inside ``basis``: what the fills cost against the
    mid prices), never subtracted again."""

    funding: Decimal = ZERO
    earn: Decimal = ZERO
    basis: Decimal = ZERO
    fees: Decimal = ZERO
    borrow: Decimal = ZERO
    slippage: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.funding + self.earn + self.basis - self.fees - self.borrow


@dataclass(frozen=True, slots=True)
class EngineEvent:
    ts: datetime


@dataclass(frozen=True, slots=True)
class BotStarted(EngineEvent):
    mode: str  # live | paper | backtest
    dry_run: bool
    equity_usdt: Decimal
    open_positions: int = 0
    recovered: int = 0  # positions brought to rest by crash recovery


@dataclass(frozen=True, slots=True)
class BotStateChanged(EngineEvent):
    old: str
    new: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BotStopped(EngineEvent):
    reason: str
    manual: bool = False


@dataclass(frozen=True, slots=True)
class PositionClosed(EngineEvent):
    """A carry is CLOSED and booked: its PnL decomposed (the notifier's close message)."""

    position_id: int
    symbol: str
    direction: Direction
    reason: str
    base_qty: Decimal
    breakdown: PnlBreakdown
    resets_count: int = 0
    held_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class MarginToppedUp(EngineEvent):
    position_id: int
    symbol: str
    amount_usdt: Decimal
    source: str  # trading | funding
    margin_ratio: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ProfitSwept(EngineEvent):
    position_id: int
    symbol: str
    amount_usdt: Decimal
    margin_ratio: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HedgeRebalanced(EngineEvent):
    position_id: int
    symbol: str
    leg: str  # spot | perp
    base_qty: Decimal  # signed: negative shrank the leg
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MarginLevelChanged(EngineEvent):
    """A carry moved to another rung of the margin ladder (SWEEP/OK/TOPUP/RESET/EMERGENCY)."""

    position_id: int
    symbol: str
    old: str
    new: str
    margin_ratio: Decimal | None = None
    okx_mgn_ratio: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BreakerTripped(EngineEvent):
    reason: str


@dataclass(frozen=True, slots=True)
class EntriesPaused(EngineEvent):
    reason: str
    until: datetime | None = None
    by_operator: bool = False


@dataclass(frozen=True, slots=True)
class EntriesResumed(EngineEvent):
    by_operator: bool = True


@dataclass(frozen=True, slots=True)
class FundingBooked(EngineEvent):
    """Funding settlements (and Earn/borrow interest) booked from the exchange's bills."""

    position_id: int | None
    symbol: str
    funding_usdt: Decimal
    bills: int = 1


@dataclass(frozen=True, slots=True)
class RiskAlert(EngineEvent):
    """A guard's Alert command, or anything the operator must hear about."""

    level: str  # INFO | WARN | ERROR
    message: str
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class DecisionLogged(EngineEvent):
    """Dry run: what the bot would have done (nothing was sent)."""

    action: str  # open | close | reset | top_up | sweep | rebalance
    detail: str
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class DailyReport(EngineEvent):
    day: str  # YYYY-MM-DD (UTC) the report covers
    equity_usdt: Decimal
    equity_change_usdt: Decimal
    breakdown: PnlBreakdown
    open_positions: int
    opened: int = 0
    closed: int = 0
    resets: int = 0
    alerts: int = 0
    details: dict[str, str] = field(default_factory=dict)


BotEvent = ExecutionEvent | EngineEvent
"""Everything published on the :class:`~laicai.engine.bus.EventBus`."""
