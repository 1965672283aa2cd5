"""The margin ladder: hand numbers at leverage 2 (target 0.5, sweep 0.625, top-up 0.4, reset
0.15, emergency 0.1, OKX minimum 3), hysteresis, and properties of the amounts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from risk_builders import PARAMS, carry, with_ratio

from laicai.risk import (
    Alert,
    AlertLevel,
    CloseCarry,
    Command,
    Funds,
    MarginLevel,
    ResetCarry,
    SweepProfit,
    TopUpMargin,
    TransferSource,
)
from laicai.risk.margin_guard import (
    evaluate,
    margin_level,
    okx_level,
    ratio_level,
    release_point,
    sweep_amount_usdt,
    topup_needed_usdt,
)

D = Decimal
FUNDS = Funds(D(10_000), D(5_000))
NONE = Funds(D(0), D(0))
T, F = TransferSource.TRADING, TransferSource.FUNDING


def cmds(equity: str, funds: Funds = FUNDS, **kw: object) -> tuple[Command, ...]:
    return evaluate(carry(perp_equity_usdt=D(equity), **kw), funds, PARAMS).commands


def test_a_fresh_carry_at_one_over_leverage_needs_nothing() -> None:
    verdict = evaluate(carry(), FUNDS, PARAMS)
    assert verdict.level is MarginLevel.OK
    assert verdict.ratio == D("0.5")
    assert verdict.commands == ()
    assert verdict.funds_left == FUNDS


@pytest.mark.parametrize(("equity", "expected"), [
    # 60 000 notional: the target 0.5 needs 30 000 of equity
    ("23400", (TopUpMargin(7, D(6_600), T),)),                          # 0.39
    ("20000", (TopUpMargin(7, D(10_000), T),)),                         # 0.3333: all of trading
    ("18000", (TopUpMargin(7, D(10_000), T), TopUpMargin(7, D(2_000), F))),  # 0.3
    ("12000", (TopUpMargin(7, D(10_000), T), TopUpMargin(7, D(5_000), F))),  # 0.2: partial
])
def test_top_up_restores_the_target_from_trading_then_funding(
        equity: str, expected: tuple[Command, ...]) -> None:
    assert cmds(equity) == expected


def test_funds_left_are_what_the_top_up_did_not_take() -> None:
    verdict = evaluate(carry(perp_equity_usdt=D(18_000)), FUNDS, PARAMS)
    assert verdict.funds_left == Funds(D(0), D(3_000))


def test_no_free_usdt_escalates_a_top_up_to_a_reset() -> None:
    (cmd,) = cmds("23400", NONE)
    assert isinstance(cmd, ResetCarry) and "no free USDT" in cmd.reason
    assert evaluate(carry(perp_equity_usdt=D(23_400)), NONE, PARAMS).level is MarginLevel.RESET


def test_dust_funds_count_as_nothing() -> None:
    (cmd,) = cmds("23400", Funds(D("0.5"), D("0.99")))
    assert isinstance(cmd, ResetCarry)


@pytest.mark.parametrize(("equity", "kind", "emergency"), [
    ("8940", ResetCarry, False),   # 0.149
    ("9000", TopUpMargin, False),  # 0.15 exactly: not below the reset threshold
    ("5940", CloseCarry, True),    # 0.099
    ("6000", ResetCarry, False),   # 0.1 exactly: reset, not emergency
    ("-100", CloseCarry, True),    # negative equity
])
def test_reset_and_emergency_thresholds(equity: str, kind: type, emergency: bool) -> None:
    first = cmds(equity)[0]
    assert isinstance(first, kind)
    if isinstance(first, CloseCarry):
        assert first.emergency is emergency


def test_okx_mgn_ratio_below_its_minimum_is_an_emergency_whatever_laicai_says() -> None:
    (cmd,) = cmds("30000", okx_mgn_ratio=D("2.99"))
    assert isinstance(cmd, CloseCarry) and cmd.emergency
    assert cmds("30000", okx_mgn_ratio=D(3)) == ()  # at the minimum: no emergency


def test_the_worse_signal_wins() -> None:
    # laicai says emergency, OKX is relaxed
    (cmd,) = cmds("5000", okx_mgn_ratio=D(100))
    assert isinstance(cmd, CloseCarry) and cmd.emergency
    # OKX unknown: laicai alone
    assert cmds("30000", okx_mgn_ratio=None) == ()


def test_sweep_brings_the_ratio_back_to_the_target() -> None:
    assert cmds("42000") == (SweepProfit(7, D(12_000)),)  # 0.7 -> 0.5
    assert cmds("37500") == ()  # 0.625 exactly: not above the sweep ratio
    assert cmds("37506") == (SweepProfit(7, D(7_506)),)


def test_no_sweep_while_okx_mgn_ratio_is_under_its_sweep_floor() -> None:
    assert cmds("42000", okx_mgn_ratio=D("5.99")) == ()  # floor 3 x 2 = 6
    assert cmds("42000", okx_mgn_ratio=D(6)) == (SweepProfit(7, D(12_000)),)


def test_transfers_are_rounded_to_cents_toward_the_target() -> None:
    view = carry(perp_notional_usdt=D("1000.01"), perp_equity_usdt=D(300))
    assert topup_needed_usdt(view, PARAMS) == D("200.01")  # 200.005 rounded up
    view = carry(perp_notional_usdt=D("1000.01"), perp_equity_usdt=D(700))
    assert sweep_amount_usdt(view, PARAMS) == D("199.99")  # 199.995 rounded down


def test_transfers_below_the_minimum_are_not_made() -> None:
    params = replace(PARAMS, min_transfer_usdt=D(50))
    view = carry(perp_notional_usdt=D(100), perp_equity_usdt=D(20))  # needs 30
    assert evaluate(view, FUNDS, params).commands == ()
    view = carry(perp_notional_usdt=D(100), perp_equity_usdt=D(70))  # surplus 20
    assert evaluate(view, FUNDS, params).commands == ()


def test_a_carry_without_a_perp_has_no_margin_signal() -> None:
    verdict = evaluate(carry(perp_notional_usdt=D(0), perp_base=D(0)), FUNDS, PARAMS)
    assert verdict.level is MarginLevel.OK and verdict.commands == ()


# --- hysteresis ----------------------------------------------------------------------------

def test_release_points_are_a_quarter_of_the_way_back_to_the_target() -> None:
    assert release_point(D("0.4"), D("0.5"), PARAMS) == D("0.425")
    assert release_point(D("0.625"), D("0.5"), PARAMS) == D("0.59375")
    assert release_point(D("0.15"), D("0.5"), PARAMS) == D("0.2375")


def test_a_top_up_level_is_left_only_past_its_release_point() -> None:
    assert ratio_level(D("0.42"), PARAMS, MarginLevel.OK) is MarginLevel.OK
    assert ratio_level(D("0.42"), PARAMS, MarginLevel.TOPUP) is MarginLevel.TOPUP
    assert ratio_level(D("0.425"), PARAMS, MarginLevel.TOPUP) is MarginLevel.OK
    # coming back from a reset, every release point on the way must be cleared
    assert ratio_level(D("0.2"), PARAMS, MarginLevel.RESET) is MarginLevel.RESET
    assert ratio_level(D("0.3"), PARAMS, MarginLevel.RESET) is MarginLevel.TOPUP


def test_in_the_sticky_band_a_partial_top_up_is_completed() -> None:
    sticky = carry(perp_equity_usdt=D(25_200), last_margin_level=MarginLevel.TOPUP)  # 0.42
    assert evaluate(sticky, FUNDS, PARAMS).commands == (TopUpMargin(7, D(4_800), T),)
    fresh = replace(sticky, last_margin_level=MarginLevel.OK)
    assert evaluate(fresh, FUNDS, PARAMS).commands == ()


def test_in_the_sticky_band_without_funds_the_guard_only_warns() -> None:
    sticky = carry(perp_equity_usdt=D(25_200), last_margin_level=MarginLevel.TOPUP)
    (cmd,) = evaluate(sticky, NONE, PARAMS).commands
    assert isinstance(cmd, Alert) and cmd.level is AlertLevel.WARNING


def test_a_sweep_level_is_sticky_too() -> None:
    sticky = carry(perp_equity_usdt=D(36_000), last_margin_level=MarginLevel.SWEEP)  # 0.6
    assert evaluate(sticky, FUNDS, PARAMS).commands == (SweepProfit(7, D(6_000)),)
    assert evaluate(replace(sticky, last_margin_level=MarginLevel.OK), FUNDS,
                    PARAMS).commands == ()
    assert ratio_level(D("0.59375"), PARAMS, MarginLevel.SWEEP) is MarginLevel.OK


def test_okx_emergency_is_sticky() -> None:
    assert okx_level(D("3.5"), PARAMS, MarginLevel.OK) is MarginLevel.OK
    assert okx_level(D("3.5"), PARAMS, MarginLevel.EMERGENCY) is MarginLevel.EMERGENCY
    assert okx_level(D("3.75"), PARAMS, MarginLevel.EMERGENCY) is MarginLevel.OK
    assert okx_level(D(6), PARAMS) is MarginLevel.SWEEP
    assert okx_level(None, PARAMS) is MarginLevel.SWEEP


def test_one_tick_around_the_trigger_does_not_flip_flop() -> None:
    """A tick below the trigger tops up to the target; ticks around the trigger afterwards
    change nothing because the ratio is back at 0.5; without funds, the level stays engaged
    through a tick back above the trigger instead of toggling."""
    level = MarginLevel.OK
    levels = []
    for ratio in ("0.3999", "0.4001", "0.3999", "0.4001", "0.4249"):
        view = with_ratio(carry(last_margin_level=level), D(ratio))
        level = margin_level(view, PARAMS)
        levels.append(level)
    assert levels == [MarginLevel.TOPUP] * 5


# --- properties ----------------------------------------------------------------------------

RATIOS = st.decimals(min_value=D("-0.2"), max_value=D("1.5"), places=4)
LEVELS = st.sampled_from(list(MarginLevel))
OKX = st.none() | st.decimals(min_value=D("0.5"), max_value=D(200), places=2)
MONEY = st.decimals(min_value=D(0), max_value=D(50_000), places=2)
NOTIONAL = st.decimals(min_value=D(10), max_value=D(1_000_000), places=2)


def severity(commands: tuple[Command, ...]) -> int:
    """Larger = harsher. Sweep < nothing/alert < top-up < reset < emergency close."""
    kinds = {type(c) for c in commands}
    if any(isinstance(c, CloseCarry) and c.emergency for c in commands):
        return 5
    if ResetCarry in kinds:
        return 4
    if TopUpMargin in kinds:
        return 3
    if SweepProfit in kinds:
        return 0
    return 1 if Alert not in kinds else 2


@given(RATIOS, RATIOS, LEVELS, OKX, MONEY, MONEY, NOTIONAL)
def test_a_lower_ratio_never_yields_a_milder_action(
        r1: Decimal, r2: Decimal, previous: MarginLevel, okx: Decimal | None,
        trading: Decimal, funding: Decimal, notional: Decimal) -> None:
    low, high = sorted((r1, r2))
    base = carry(perp_notional_usdt=notional, okx_mgn_ratio=okx, last_margin_level=previous)
    funds = Funds(trading, funding)
    at_low = evaluate(with_ratio(base, low), funds, PARAMS)
    at_high = evaluate(with_ratio(base, high), funds, PARAMS)
    assert at_low.level >= at_high.level
    assert severity(at_low.commands) >= severity(at_high.commands)


@given(st.decimals(min_value=D("0.15"), max_value=D("0.3999"), places=4), NOTIONAL)
def test_a_funded_top_up_restores_one_over_leverage_exactly(
        ratio: Decimal, notional: Decimal) -> None:
    view = with_ratio(carry(perp_notional_usdt=notional), ratio)
    rich = Funds(D(10) ** 9, D(0))
    commands = evaluate(view, rich, PARAMS).commands
    amount = sum((c.amount_usdt for c in commands if isinstance(c, TopUpMargin)), D(0))
    if not commands:  # smaller than the minimum transfer
        assert topup_needed_usdt(view, PARAMS) < PARAMS.min_transfer_usdt
        return
    after = (view.perp_equity_usdt + amount) / notional
    assert after >= PARAMS.target_margin_ratio
    assert (view.perp_equity_usdt + amount - PARAMS.usdt_step) / notional < D("0.5")


@given(st.decimals(min_value=D("0.15"), max_value=D("0.3999"), places=4), NOTIONAL, MONEY, MONEY)
def test_a_top_up_never_takes_more_than_is_available(
        ratio: Decimal, notional: Decimal, trading: Decimal, funding: Decimal) -> None:
    view = with_ratio(carry(perp_notional_usdt=notional), ratio)
    verdict = evaluate(view, Funds(trading, funding), PARAMS)
    ups = [c for c in verdict.commands if isinstance(c, TopUpMargin)]
    taken = {src: sum((c.amount_usdt for c in ups if c.source is src), D(0)) for src in (T, F)}
    assert taken[T] <= trading and taken[F] <= funding
    assert sum(taken.values(), D(0)) <= topup_needed_usdt(view, PARAMS)
    assert verdict.funds_left == Funds(trading - taken[T], funding - taken[F])
    if not ups:
        assert isinstance(verdict.commands[0], ResetCarry)


@given(st.decimals(min_value=D("0.6251"), max_value=D(5), places=4), NOTIONAL)
def test_a_sweep_leaves_exactly_the_target(ratio: Decimal, notional: Decimal) -> None:
    view = with_ratio(carry(perp_notional_usdt=notional), ratio)
    commands = evaluate(view, FUNDS, PARAMS).commands
    if not commands:
        assert sweep_amount_usdt(view, PARAMS) < PARAMS.min_transfer_usdt
        return
    (sweep,) = commands
    assert isinstance(sweep, SweepProfit)
    after = (view.perp_equity_usdt - sweep.amount_usdt) / notional
    assert after >= PARAMS.target_margin_ratio
    assert (view.perp_equity_usdt - sweep.amount_usdt - PARAMS.usdt_step) / notional < D("0.5")
