"""The red lines, by construction (seed 000): no martingale, no averaging down, no position
without a stop rule, no naked directional position left alone.

Over random carries and accounts, every command any guard returns is one of: close, reset
(same capital), top-up, sweep, pause, breaker, alert, or a rebalance that only shrinks a leg
toward its hedge - never anything that makes a carry larger.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_builders import NOW_MS, PARAMS, account, carry, opportunity

from laicai.domain.enums import Direction
from laicai.risk import (
    AccountView,
    Alert,
    Approval,
    BreakerState,
    CarryView,
    CloseCarry,
    ClosedCarry,
    ExchangeGuardState,
    ExchangeStats,
    Leg,
    MarginLevel,
    PauseEntries,
    Rebalance,
    ResetCarry,
    SweepProfit,
    TopUpMargin,
    TripBreaker,
    adds_to_position,
    approve_entry,
    circuit_breaker,
    evaluate_position,
    evaluate_positions,
    exchange_guard,
)

D = Decimal
ALLOWED = (CloseCarry, ResetCarry, TopUpMargin, SweepProfit, Rebalance, PauseEntries,
           TripBreaker, Alert)


def test_adds_to_position_classifies_every_command() -> None:
    assert not adds_to_position(TopUpMargin(1, D(1), "trading"))  # type: ignore[arg-type]
    assert not adds_to_position(SweepProfit(1, D(1)))
    assert not adds_to_position(ResetCarry(1, "r"))
    assert not adds_to_position(CloseCarry(1, "c", emergency=True))
    assert not adds_to_position(PauseEntries("p", None))
    assert not adds_to_position(Rebalance(1, Leg.SPOT, D(-1)))
    assert adds_to_position(Rebalance(1, Leg.SPOT, D(1)))
    assert adds_to_position(object())  # unknown kinds count as adding


@st.composite
def carries(draw: st.DrawFn) -> CarryView:
    base_qty = draw(st.decimals(min_value=D("0.001"), max_value=D(100), places=3))
    px = draw(st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2))
    spot = draw(st.decimals(min_value=D(0), max_value=base_qty * D("1.05"), places=4))
    perp = draw(st.decimals(min_value=D(0), max_value=base_qty, places=4))
    notional = perp * px
    ratio = draw(st.decimals(min_value=D("-0.5"), max_value=D(2), places=4))
    capital = max(D(1), base_qty * px * D("1.5"))
    pnl = draw(st.decimals(min_value=D("-0.1"), max_value=D("0.1"), places=4)) * capital
    rates = tuple(draw(st.lists(st.decimals(min_value=D("-0.003"), max_value=D("0.003"),
                                            places=6), max_size=6)))
    return carry(
        direction=draw(st.sampled_from(list(Direction))),
        base_qty=base_qty, spot_base=spot, perp_base=perp, mark_px=px, index_px=px,
        perp_notional_usdt=notional, perp_equity_usdt=notional * ratio,
        okx_mgn_ratio=draw(st.none() | st.decimals(min_value=D("0.5"), max_value=D(500),
                                                   places=2)),
        total_pnl_usdt=pnl, capital_usdt=capital,
        funding_rate=draw(st.none() | st.decimals(min_value=D("-0.003"), max_value=D("0.003"),
                                                  places=6)),
        recent_funding_rates=rates,
        base_step=draw(st.sampled_from([D(0), D("0.001")])),
        naked_since_ms=draw(st.none() | st.integers(NOW_MS - 100_000, NOW_MS)),
        last_margin_level=draw(st.sampled_from(list(MarginLevel))),
    )


MONEY = st.decimals(min_value=D(0), max_value=D(1_000_000), places=2)


@st.composite
def accounts(draw: st.DrawFn) -> AccountView:
    return account(trading_available_usdt=draw(MONEY), funding_available_usdt=draw(MONEY))


def check(view: CarryView, commands: list[object]) -> None:
    for cmd in commands:
        assert isinstance(cmd, ALLOWED), cmd
        assert not adds_to_position(cmd), cmd
        if isinstance(cmd, Rebalance):
            current = view.spot_base if cmd.leg is Leg.SPOT else view.perp_base
            after = current + cmd.base_qty
            other = view.perp_base if cmd.leg is Leg.SPOT else view.spot_base
            assert other <= after < current  # shrinks toward the other leg, never past it
            assert after <= max(current, view.base_qty)  # never above the original qty
            total = view.spot_base + view.perp_base
            assert total + cmd.base_qty < total  # the carry's total base only falls
    mine = [c for c in commands if getattr(c, "position_id", view.position_id)
            == view.position_id]
    terminal = [c for c in mine if isinstance(c, CloseCarry | ResetCarry)]
    assert len(terminal) <= 1
    if terminal:
        assert not any(isinstance(c, TopUpMargin | SweepProfit | Rebalance) for c in mine)


def test_a_falling_price_sweeps_profit_out_and_never_buys_more_spot() -> None:
    """Seed 000 suggests compounding a sweep into more spot; that would add to the carry, so
    risk only moves the USDT out - a compounding is a new entry through approve_entry."""
    view = carry(mark_px=D(40_000), index_px=D(40_000), perp_notional_usdt=D(40_000),
                 perp_equity_usdt=D(50_000), total_pnl_usdt=D(300))  # the perp gained 20 000
    assert evaluate_position(view, account(), PARAMS, NOW_MS) == [SweepProfit(7, D(30_000))]


def test_a_losing_carry_is_never_averaged_down() -> None:
    view = carry(perp_equity_usdt=D(12_000), total_pnl_usdt=D(-1_700), spot_base=D("0.99"))
    commands = evaluate_position(view, account(), PARAMS, NOW_MS)
    assert commands and not any(adds_to_position(c) for c in commands)
    assert [type(c) for c in commands] == [TopUpMargin, TopUpMargin, Rebalance]


@settings(max_examples=300)
@given(carries(), accounts(), st.booleans())
def test_no_guard_ever_adds_to_a_position(view: CarryView, acct: AccountView,
                                          emergency: bool) -> None:
    check(view, list(evaluate_position(view, acct, PARAMS, NOW_MS, emergency=emergency)))


@given(st.lists(carries(), min_size=1, max_size=4), accounts())
def test_no_guard_adds_across_a_portfolio_nor_overdraws_it(views: list[CarryView],
                                                           acct: AccountView) -> None:
    views = [replace(v, position_id=i) for i, v in enumerate(views)]
    commands = evaluate_positions(views, acct, PARAMS, NOW_MS)
    for view in views:
        check(view, [c for c in commands if getattr(c, "position_id", None) == view.position_id])
    ups = [c for c in commands if isinstance(c, TopUpMargin)]
    for source, free in (("trading", acct.trading_available_usdt),
                         ("funding", acct.funding_available_usdt)):
        assert sum((c.amount_usdt for c in ups if c.source == source), D(0)) <= free


@given(st.lists(st.integers(-100, 100), max_size=8),
       st.decimals(min_value=D(1), max_value=D(400_000), places=2),
       st.integers(0, 200), st.integers(0, 200), st.none() | st.integers(0, 60_000))
def test_account_guards_only_pause_trip_or_alert(pnls: list[int], equity: Decimal,
                                                 requests: int, errors: int,
                                                 ws_age: int | None) -> None:
    closes = [ClosedCarry(i, D(p), NOW_MS - 1_000 + i) for i, p in enumerate(pnls)]
    _, commands = circuit_breaker.evaluate(BreakerState(), closes,
                                           account(total_equity_usdt=equity), PARAMS, NOW_MS)
    stats = ExchangeStats(window_ms=60_000, requests=max(requests, errors), errors=errors,
                          last_ws_message_ms=None if ws_age is None else NOW_MS - ws_age)
    _, more = exchange_guard.evaluate(ExchangeGuardState(), stats, PARAMS, NOW_MS)
    for cmd in [*commands, *more]:
        assert isinstance(cmd, TripBreaker | PauseEntries | Alert)
        assert not adds_to_position(cmd)


@given(MONEY, MONEY, st.decimals(min_value=D(100), max_value=D(100_000), places=2))
def test_an_approval_never_enlarges_the_planned_carry(free: Decimal, committed: Decimal,
                                                      capital: Decimal) -> None:
    o = opportunity(capital_usdt=capital, notional_usdt=capital * 2 / 3)
    acct = account(trading_available_usdt=free, committed_capital_usdt=committed)
    verdict = approve_entry(o, acct, PARAMS, NOW_MS, BreakerState())
    if isinstance(verdict, Approval):
        assert verdict.scale <= 1 and verdict.base_qty <= D("0.1")
