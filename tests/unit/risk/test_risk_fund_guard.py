"""Where top-up USDT comes from: trading first, then funding, never more than is there."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from risk_builders import PARAMS

from laicai.risk import Funds, TopUpMargin, TransferSource
from laicai.risk.fund_guard import plan_topup

D = Decimal
T, F = TransferSource.TRADING, TransferSource.FUNDING


def test_trading_covers_it_alone() -> None:
    plan = plan_topup(1, D(300), Funds(D(1_000), D(500)), PARAMS)
    assert plan.commands == (TopUpMargin(1, D(300), T),)
    assert plan.funds_left == Funds(D(700), D(500))


def test_the_funding_account_makes_up_the_rest() -> None:
    plan = plan_topup(1, D(1_200), Funds(D(1_000), D(500)), PARAMS)
    assert plan.commands == (TopUpMargin(1, D(1_000), T), TopUpMargin(1, D(200), F))
    assert plan.amount_usdt == D(1_200)
    assert plan.funds_left == Funds(D(0), D(300))


def test_short_of_funds_it_takes_what_there_is() -> None:
    plan = plan_topup(1, D(5_000), Funds(D("1000.555"), D(500)), PARAMS)
    assert plan.commands == (TopUpMargin(1, D("1000.55"), T), TopUpMargin(1, D(500), F))


def test_nothing_available_is_an_empty_plan() -> None:
    assert plan_topup(1, D(100), Funds(D(0), D(-5)), PARAMS).commands == ()


def test_dust_pieces_are_skipped() -> None:
    plan = plan_topup(1, D(100), Funds(D("0.4"), D(500)), PARAMS)
    assert plan.commands == (TopUpMargin(1, D(100), F),)


def test_a_reserve_stays_in_trading() -> None:
    params = replace(PARAMS, topup_reserve_usdt=D(200))
    plan = plan_topup(1, D(1_000), Funds(D(1_000), D(500)), params)
    assert plan.commands == (TopUpMargin(1, D(800), T), TopUpMargin(1, D(200), F))


MONEY = st.decimals(min_value=D(-10), max_value=D(10_000), places=3)


@given(st.decimals(min_value=D(0), max_value=D(20_000), places=2), MONEY, MONEY)
def test_never_more_than_needed_or_available(needed: Decimal, trading: Decimal,
                                             funding: Decimal) -> None:
    plan = plan_topup(1, needed, Funds(trading, funding), PARAMS)
    by = {src: sum((c.amount_usdt for c in plan.commands if c.source is src), D(0))
          for src in (T, F)}
    assert by[T] <= max(D(0), trading) and by[F] <= max(D(0), funding)
    assert plan.amount_usdt <= needed
    assert all(c.amount_usdt >= PARAMS.min_transfer_usdt for c in plan.commands)
    # trading is drawn on first: funding is only touched once trading is (nearly) used up
    if by[F] > 0:
        assert by[T] > trading - PARAMS.min_transfer_usdt
    # as much as there is, up to the need, within rounding and the dust rule
    room = min(needed, max(D(0), trading) + max(D(0), funding))
    assert plan.amount_usdt > room - 2 * PARAMS.min_transfer_usdt
