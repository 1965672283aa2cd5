"""When to close a carry (seed 000 平仓条件, seed 003 ``profit_close_threshold``).

Rules, each giving ``CloseCarry``; all that hold are named in the reason, the first listed
here leads:

1. **emergency** - the bot is in EMERGENCY (close-all): ``CloseCarry(emergency=True)``.
2. **stop loss** - total PnL (both legs, funding, Earn, borrow, fees) / capital committed
   ``<= stop_loss`` (default -2%). ``RiskParams`` cannot be built without a negative stop
   loss, so every carry has one.
3. **funding flipped** - the next rate turned against the carry past ``profit_close_threshold``
   (``p``, default -0.01%): SHORT closes when ``rate < p``, LONG when ``rate > -p``.
4. **forecast below break-even** - once ``min_funding_samples`` settlements are known, their
   EMA (``ema = a x rate + (1 - a) x ema``, seeded with the oldest, ``a = funding_ema_alpha``,
   default 0.3: a memory of about ``2/a - 1`` = 5.7 settlements, ~2 days at 8 h) gives the
   carry APR the position should still earn: funding in its direction + Earn APR - borrow APR.
   The exit cost annualised over ``exit_horizon_days`` (default ``strategy.expected_holding_days``)
   is the bar: ``exit cost / notional x 365 / horizon``. Below it, the carry no longer earns
   its own exit within a normal holding period: close and free the capital. The horizon rolls
   (it is the same for a carry held one day or thirty): a fixed "remaining" horizon would
   shrink to nothing and force every carry out near its expected holding time, however well
   it still paid.
5. **take profit** - total PnL / capital ``>= take_profit`` (default +5%).

Thresholds are inclusive (a PnL of exactly -2% stops out), the funding comparisons strict.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from laicai.domain.enums import Direction
from laicai.domain.market import funding_apr
from laicai.risk.commands import CloseCarry
from laicai.risk.params import RiskParams
from laicai.risk.state import CarryView

DAYS_PER_YEAR = Decimal(365)
ONE = Decimal(1)


class ExitReason(StrEnum):
    EMERGENCY = "emergency"
    STOP_LOSS = "stop_loss"
    FUNDING_FLIPPED = "funding_flipped"
    FORECAST_BELOW_BREAK_EVEN = "forecast_below_break_even"
    TAKE_PROFIT = "take_profit"


def funding_ema(rates: Sequence[Decimal], alpha: Decimal) -> Decimal | None:
    """Exponential moving average of settlement rates, oldest first (None: no rates)."""
    if not rates:
        return None
    ema = rates[0]
    for rate in rates[1:]:
        ema = alpha * rate + (ONE - alpha) * ema
    return ema


def funding_flipped(direction: Direction, rate: Decimal, params: RiskParams) -> bool:
    threshold = params.profit_close_threshold
    return rate < threshold if direction is Direction.SHORT else rate > -threshold


def forecast_apr(view: CarryView, params: RiskParams) -> Decimal | None:
    """The APR the carry should still earn from the EMA of its settlements (None: too few)."""
    if len(view.recent_funding_rates) < params.min_funding_samples:
        return None
    ema = funding_ema(view.recent_funding_rates, params.funding_ema_alpha)
    if ema is None:
        return None
    apr = funding_apr(ema, view.funding_interval_hours)
    earned = apr if view.direction is Direction.SHORT else -apr
    return earned + view.earn_apr - view.borrow_apr


def break_even_apr(view: CarryView, params: RiskParams) -> Decimal | None:
    """The exit cost as an APR over ``exit_horizon_days`` (None: no notional to measure)."""
    notional = view.perp_notional_usdt
    if notional <= 0:
        return None
    cost = view.exit_cost_usdt
    if cost is None:
        cost = params.assumed_exit_cost_fraction * notional
    return cost / notional * DAYS_PER_YEAR / params.exit_horizon_days


def exit_reasons(view: CarryView, params: RiskParams,
                 emergency: bool = False) -> list[tuple[ExitReason, str]]:
    """Every exit rule that holds, most urgent first."""
    found: list[tuple[ExitReason, str]] = []
    if emergency:
        found.append((ExitReason.EMERGENCY, "the bot is in emergency: close all"))
    pnl = view.pnl_fraction
    if pnl <= params.stop_loss:
        found.append((ExitReason.STOP_LOSS, f"PnL {pnl:.2%} of capital <= {params.stop_loss:.2%}"))
    rate = view.funding_rate
    if rate is not None and funding_flipped(view.direction, rate, params):
        found.append((ExitReason.FUNDING_FLIPPED,
                      f"{view.direction} carry, funding rate {rate} past "
                      f"profit_close_threshold {params.profit_close_threshold}"))
    expected, bar = forecast_apr(view, params), break_even_apr(view, params)
    if expected is not None and bar is not None and expected < bar:
        found.append((ExitReason.FORECAST_BELOW_BREAK_EVEN,
                      f"EMA carry APR {expected:.2%} below the exit cost over "
                      f"{params.exit_horizon_days} days ({bar:.2%} APR)"))
    if pnl >= params.take_profit:
        found.append((ExitReason.TAKE_PROFIT,
                      f"PnL {pnl:.2%} of capital >= {params.take_profit:.2%}"))
    return found


def evaluate(view: CarryView, params: RiskParams, emergency: bool = False) -> CloseCarry | None:
    found = exit_reasons(view, params, emergency)
    if not found:
        return None
    reason = "; ".join(f"{code}: {text}" for code, text in found)
    return CloseCarry(view.position_id, reason, emergency=found[0][0] is ExitReason.EMERGENCY)
