"""The circuit breaker (seed 000 熔断器): stop opening carries after too many losses.

A pure state machine over a :class:`BreakerState` value::

    ARMED --(a limit is reached)--> TRIPPED --(operator resume | cool-down ends)--> ARMED

It trips when, counting only closes after the breaker was last re-armed (``since_ms``; None
before the first resume: every close counts):

- the last ``max_consecutive_losses`` closes all lost (PnL < 0; a flat close ends a streak);
- today's loss reaches ``daily_loss_limit_usdt`` - today is the UTC day of ``now_ms``; the loss
  is the larger of the closes' losses today and ``-AccountView.realized_pnl_today_usdt`` (which
  also books funding and fees); the account figure is used only when the breaker was armed
  before today began, since it cannot be split at a resume;
- the drawdown from the peak equity reaches ``max_drawdown``: ``(peak - equity) / peak``. The
  peak is ``AccountView.peak_equity_usdt`` until the first resume; from then on the breaker's
  own ``peak_equity_usdt`` (equity at the resume, raised by every evaluation).

Each limit trips exactly when it is reached (``>=``). Tripping emits one :class:`TripBreaker`
(the engine moves to PAUSED); while tripped nothing more is emitted. Open carries are still
managed (exits, margin, hedge): the breaker only blocks entries. A tripped breaker waits for
:func:`resume` by the operator, or re-arms by itself ``breaker_cooldown_ms`` after tripping
when that is set. Either way the breaker starts over: earlier losses no longer count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from laicai.risk.commands import Alert, AlertLevel, Command, TripBreaker
from laicai.risk.params import RiskParams
from laicai.risk.state import AccountView, ClosedCarry

DAY_MS = 86_400_000
ZERO = Decimal(0)


class BreakerStatus(StrEnum):
    ARMED = "armed"
    TRIPPED = "tripped"


@dataclass(frozen=True, slots=True)
class BreakerState:
    status: BreakerStatus = BreakerStatus.ARMED
    since_ms: int | None = None  # only closes after this count (None: all)
    tripped_ms: int | None = None
    reason: str = ""
    peak_equity_usdt: Decimal | None = None  # None: use AccountView.peak_equity_usdt

    @property
    def tripped(self) -> bool:
        return self.status is BreakerStatus.TRIPPED


def utc_day_start_ms(now_ms: int) -> int:
    return now_ms - now_ms % DAY_MS


def _counts(close: ClosedCarry, since_ms: int | None) -> bool:
    return since_ms is None or close.closed_ms > since_ms


def consecutive_losses(closes: Sequence[ClosedCarry], since_ms: int | None = None) -> int:
    """How many of the newest closes (after ``since_ms``) lost, in a row."""
    streak = 0
    for close in sorted((c for c in closes if _counts(c, since_ms)),
                        key=lambda c: c.closed_ms, reverse=True):
        if close.pnl_usdt >= 0:
            break
        streak += 1
    return streak


def daily_loss_usdt(closes: Sequence[ClosedCarry], account: AccountView,
                    since_ms: int | None, now_ms: int) -> Decimal:
    """Today's loss (UTC day of ``now_ms``), positive for a loss."""
    day_start = utc_day_start_ms(now_ms)
    closed = sum((c.pnl_usdt for c in closes
                  if day_start <= c.closed_ms <= now_ms and _counts(c, since_ms)), ZERO)
    loss = -closed
    if since_ms is None or since_ms < day_start:
        loss = max(loss, -account.realized_pnl_today_usdt)
    return loss


def drawdown(peak: Decimal, equity: Decimal) -> Decimal:
    return ZERO if peak <= 0 else max(ZERO, (peak - equity) / peak)


def _peak(state: BreakerState, account: AccountView) -> Decimal:
    if state.peak_equity_usdt is None:
        return max(account.peak_equity_usdt, account.total_equity_usdt)
    return max(state.peak_equity_usdt, account.total_equity_usdt)


def evaluate(state: BreakerState, closes: Sequence[ClosedCarry], account: AccountView,
             params: RiskParams, now_ms: int) -> tuple[BreakerState, list[Command]]:
    commands: list[Command] = []
    if state.tripped:
        cooldown = params.breaker_cooldown_ms
        if cooldown is None or state.tripped_ms is None or now_ms < state.tripped_ms + cooldown:
            return state, []
        state = resume(account, now_ms)
        commands.append(Alert(AlertLevel.INFO, f"circuit breaker re-armed after a {cooldown} ms "
                                               "cool-down"))
    if state.peak_equity_usdt is not None:
        state = replace(state, peak_equity_usdt=_peak(state, account))
    reasons = trip_reasons(state, closes, account, params, now_ms)
    if not reasons:
        return state, commands
    reason = "; ".join(reasons)
    tripped = replace(state, status=BreakerStatus.TRIPPED, tripped_ms=now_ms, reason=reason)
    return tripped, [*commands, TripBreaker(reason)]


def trip_reasons(state: BreakerState, closes: Sequence[ClosedCarry], account: AccountView,
                 params: RiskParams, now_ms: int) -> list[str]:
    reasons: list[str] = []
    streak = consecutive_losses(closes, state.since_ms)
    if streak >= params.max_consecutive_losses:
        reasons.append(f"{streak} losing closes in a row (limit {params.max_consecutive_losses})")
    loss = daily_loss_usdt(closes, account, state.since_ms, now_ms)
    if loss >= params.daily_loss_limit_usdt:
        reasons.append(f"lost {loss} USDT today (limit {params.daily_loss_limit_usdt})")
    dd = drawdown(_peak(state, account), account.total_equity_usdt)
    if dd >= params.max_drawdown:
        reasons.append(f"drawdown {dd:.2%} from peak (limit {params.max_drawdown:.2%})")
    return reasons


def resume(account: AccountView, now_ms: int) -> BreakerState:
    """A re-armed breaker (operator or cool-down): only closes after ``now_ms`` count, and the
    drawdown is measured from the equity now. Nothing of the tripped state carries over."""
    return BreakerState(status=BreakerStatus.ARMED, since_ms=now_ms,
                        peak_equity_usdt=account.total_equity_usdt)
