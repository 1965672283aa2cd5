"""Exit rules: stop loss, take profit, funding flipped, funding forecast, emergency."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from risk_builders import PARAMS, carry

from laicai.domain.enums import Direction
from laicai.risk import CloseCarry
from laicai.risk.exits import (
    ExitReason,
    break_even_apr,
    evaluate,
    exit_reasons,
    forecast_apr,
    funding_ema,
)

D = Decimal
FADING = (D("0.0001"), D("0.00005"), D("0.00002"))


def codes(**kw: object) -> list[ExitReason]:
    return [code for code, _ in exit_reasons(carry(**kw), PARAMS)]


def test_a_healthy_carry_stays_open() -> None:
    # EMA 0.0001 x 1095 = 10.95% APR vs the bar 0.15% x 365 / 7 = 7.82%
    assert evaluate(carry(), PARAMS) is None


@pytest.mark.parametrize(("pnl", "expected"), [
    ("-1800", [ExitReason.STOP_LOSS]),      # -2% of 90 000 exactly
    ("-1799.99", []),
    ("4500", [ExitReason.TAKE_PROFIT]),     # +5% exactly
    ("4499.99", []),
])
def test_stop_loss_and_take_profit_on_total_pnl_over_capital(
        pnl: str, expected: list[ExitReason]) -> None:
    assert codes(total_pnl_usdt=D(pnl)) == expected


@pytest.mark.parametrize(("direction", "rate", "closes"), [
    (Direction.SHORT, "-0.0001", False),   # at the threshold: strict
    (Direction.SHORT, "-0.00011", True),
    (Direction.SHORT, "0", False),
    (Direction.LONG, "0.0001", False),
    (Direction.LONG, "0.00011", True),
    (Direction.LONG, "-0.0003", False),
])
def test_funding_flipped_against_the_carry(direction: Direction, rate: str,
                                           closes: bool) -> None:
    past = (D("-0.0003"),) * 3 if direction is Direction.LONG else (D("0.0003"),) * 3
    found = codes(direction=direction, funding_rate=D(rate), recent_funding_rates=past)
    assert (ExitReason.FUNDING_FLIPPED in found) is closes
    assert found == ([ExitReason.FUNDING_FLIPPED] if closes else [])


def test_funding_ema_by_hand() -> None:
    # 0.0001 -> 0.3 x 0.00005 + 0.7 x 0.0001 = 0.000085 -> 0.3 x 0.00002 + 0.7 x 0.000085
    assert funding_ema(FADING, D("0.3")) == D("0.0000655")
    assert funding_ema(FADING, D(1)) == D("0.00002")
    assert funding_ema((), D("0.3")) is None


def test_a_fading_forecast_below_the_exit_cost_closes() -> None:
    view = carry(recent_funding_rates=FADING)
    assert forecast_apr(view, PARAMS) == D("0.0000655") * 1095  # 7.17%
    assert break_even_apr(view, PARAMS) == D("0.0015") * 365 / 7  # 7.82%
    close = evaluate(view, PARAMS)
    assert close is not None and not close.emergency
    assert close.reason.startswith("forecast_below_break_even")


def test_a_cheaper_exit_or_earn_interest_keeps_it_open() -> None:
    assert evaluate(carry(recent_funding_rates=FADING, exit_cost_usdt=D(60)), PARAMS) is None
    assert evaluate(carry(recent_funding_rates=FADING, earn_apr=D("0.01")), PARAMS) is None


def test_borrow_interest_counts_against_a_long() -> None:
    rates = (D("-0.0001"),) * 3  # earns 10.95% APR as a LONG
    long = carry(direction=Direction.LONG, funding_rate=D("-0.0001"), recent_funding_rates=rates)
    assert evaluate(long, PARAMS) is None
    assert codes(direction=Direction.LONG, funding_rate=D("-0.0001"), recent_funding_rates=rates,
                 borrow_apr=D("0.05")) == [ExitReason.FORECAST_BELOW_BREAK_EVEN]


def test_too_few_settlements_make_no_forecast() -> None:
    view = carry(recent_funding_rates=FADING[1:])
    assert forecast_apr(view, PARAMS) is None
    assert evaluate(view, PARAMS) is None


def test_the_emergency_flag_closes_at_once() -> None:
    close = evaluate(carry(), PARAMS, emergency=True)
    assert close == CloseCarry(7, "emergency: the bot is in emergency: close all", emergency=True)


def test_every_rule_that_holds_is_named_the_most_urgent_first() -> None:
    view = carry(total_pnl_usdt=D(-2_000), funding_rate=D("-0.001"))
    close = evaluate(view, PARAMS)
    assert close is not None
    assert close.reason.startswith("stop_loss:") and "funding_flipped:" in close.reason


def test_the_stop_loss_cannot_be_switched_off() -> None:
    with pytest.raises(ValueError, match="stop_loss"):
        replace(PARAMS, stop_loss=D(0))


@given(st.decimals(min_value=D(-10_000), max_value=D(10_000), places=2))
def test_pnl_exits_trigger_exactly_at_their_limits(pnl: Decimal) -> None:
    fraction = pnl / D(90_000)
    found = codes(total_pnl_usdt=pnl)
    assert (ExitReason.STOP_LOSS in found) is (fraction <= PARAMS.stop_loss)
    assert (ExitReason.TAKE_PROFIT in found) is (fraction >= PARAMS.take_profit)
