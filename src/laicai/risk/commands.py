"""What the guards decide: imperative commands for the engine, and the verdict on an entry.

Every command is a frozen value; the engine (not risk) carries it out. None of them makes a
carry larger: margin moves in or out (:class:`TopUpMargin`, :class:`SweepProfit`), a carry is
rebuilt at the same capital (:class:`ResetCarry`) or closed (:class:`CloseCarry`), a leg is
trimmed back to its hedge (:class:`Rebalance`), or entries stop (:class:`PauseEntries`,
:class:`TripBreaker`). :func:`adds_to_position` states that rule as code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class Leg(StrEnum):
    SPOT = "spot"
    PERP = "perp"


class TransferSource(StrEnum):
    """Where top-up USDT comes from: the trading account's free USDT, or the funding account."""

    TRADING = "trading"
    FUNDING = "funding"


class AlertLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


def _positive(name: str, value: Decimal) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


@dataclass(frozen=True, slots=True)
class TopUpMargin:
    """Move ``amount_usdt`` from ``source`` into the perp margin of a carry."""

    position_id: int
    amount_usdt: Decimal
    source: TransferSource

    def __post_init__(self) -> None:
        _positive("amount_usdt", self.amount_usdt)


@dataclass(frozen=True, slots=True)
class SweepProfit:
    """Move ``amount_usdt`` of surplus margin out of a carry's perp margin (to spot/funding)."""

    position_id: int
    amount_usdt: Decimal

    def __post_init__(self) -> None:
        _positive("amount_usdt", self.amount_usdt)


@dataclass(frozen=True, slots=True)
class ResetCarry:
    """Close both legs and reopen at current prices, with the same capital."""

    position_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class CloseCarry:
    """Close both legs. ``emergency``: now, at any price (taker, no maker attempts)."""

    position_id: int
    reason: str
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class Rebalance:
    """Change one leg's size by ``base_qty`` (base currency, signed: negative shrinks the leg -
    sell coin held, buy back borrowed coin, buy back a short perp, sell a long perp).

    The hedge guard only ever shrinks the larger leg to the smaller (``base_qty < 0``).
    ``urgent``: naked exposure above ``risk.max_naked_usd`` - do it before anything milder.
    """

    position_id: int
    leg: Leg
    base_qty: Decimal
    urgent: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        if self.base_qty == 0:
            raise ValueError("a rebalance of 0 does nothing")


@dataclass(frozen=True, slots=True)
class PauseEntries:
    """Open no new carry until ``until_ms`` (None: until lifted). Open carries are managed."""

    reason: str
    until_ms: int | None


@dataclass(frozen=True, slots=True)
class TripBreaker:
    """Put the bot in PAUSED: no new carry until an operator resumes (or a cool-down ends)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Alert:
    """Tell the operator (Telegram, DingTalk, the dashboard)."""

    level: AlertLevel
    message: str
    position_id: int | None = None


Command = (
    TopUpMargin
    | SweepProfit
    | ResetCarry
    | CloseCarry
    | Rebalance
    | PauseEntries
    | TripBreaker
    | Alert
)


class VetoCode(StrEnum):
    """Why an entry is refused, for programs (the ``reason`` text is for people)."""

    NOT_ACCEPTED = "not_accepted"  # the scanner rejected it, or a size field is missing
    BREAKER_TRIPPED = "breaker_tripped"
    ENTRIES_PAUSED = "entries_paused"
    PRICE_SPIKE = "price_spike"
    SLIPPAGE = "slippage_too_high"
    DEPTH = "insufficient_depth"
    MAX_POSITIONS = "max_positions"
    ALREADY_HELD = "already_held"
    LEVERAGE = "leverage_too_high"
    NO_CAPITAL = "no_capital"


@dataclass(frozen=True, slots=True)
class Veto:
    code: VetoCode
    reason: str


@dataclass(frozen=True, slots=True)
class Approval:
    """An entry may go ahead at ``scale`` x the planned size (``scale <= 1``: risk only ever
    shrinks a carry). ``base_qty`` is the planned base quantity times ``scale``, not yet rounded
    to the legs' lots (execution rounds down); ``notes`` name the caps that applied."""

    base_qty: Decimal
    capital_usdt: Decimal
    notional_usdt: Decimal
    scale: Decimal
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not ZERO < self.scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")


_NEVER_ADD = (TopUpMargin, SweepProfit, ResetCarry, CloseCarry, PauseEntries, TripBreaker,
              Alert)


def adds_to_position(command: object) -> bool:
    """True if carrying out ``command`` would make a carry's position larger.

    The red line (seed 000: no martingale, no averaging down): no guard may return such a
    command. Margin transfers, resets (same capital, current prices), closes, pauses and alerts
    never add; a :class:`Rebalance` adds only if ``base_qty > 0``. Anything unknown counts as
    adding, so a new command type fails the red-line tests until it is classified here.
    """
    if isinstance(command, Rebalance):
        return command.base_qty > 0
    return not isinstance(command, _NEVER_ADD)
