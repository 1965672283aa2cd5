"""Portfolio limits on a new carry: vetoes and the caps that shrink it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from risk_builders import PARAMS, account, opportunity

from laicai.risk import Approval, RiskParams, Veto, VetoCode
from laicai.risk.limits import check_entry
from laicai.strategy.opportunity import RejectReason

D = Decimal


def test_a_carry_within_every_limit_is_approved_unchanged() -> None:
    assert check_entry(opportunity(), account(), PARAMS) == Approval(
        D("0.1"), D(9_000), D(6_000), D(1))


def test_a_rejected_candidate_is_vetoed() -> None:
    o = opportunity(accepted=False, reject_reason=RejectReason.NET_APR_TOO_LOW)
    veto = check_entry(o, account(), PARAMS)
    assert isinstance(veto, Veto) and veto.code is VetoCode.NOT_ACCEPTED
    assert "net_apr_too_low" in veto.reason
    no_size = check_entry(opportunity(base_qty=None), account(), PARAMS)
    assert isinstance(no_size, Veto) and no_size.code is VetoCode.NOT_ACCEPTED


def test_max_open_positions() -> None:
    assert isinstance(check_entry(opportunity(), account(open_positions_count=4), PARAMS),
                      Approval)
    veto = check_entry(opportunity(), account(open_positions_count=5), PARAMS)
    assert isinstance(veto, Veto) and veto.code is VetoCode.MAX_POSITIONS


@pytest.mark.parametrize("held", ["BTC", "BTC-USDT-SWAP", "BTC-USDT"])
def test_one_carry_per_symbol(held: str) -> None:
    veto = check_entry(opportunity(), account(held_symbols=frozenset({held, "ETH"})), PARAMS)
    assert isinstance(veto, Veto) and veto.code is VetoCode.ALREADY_HELD


def test_leverage_above_three_cannot_even_be_configured() -> None:
    with pytest.raises(ValueError, match="leverage"):
        RiskParams(leverage=D("3.5"))


@pytest.mark.parametrize(("acct", "params", "scale", "cap"), [
    ({}, {"max_position_value": D(4_000)}, D(4_000) / D(6_000), "max_position_value"),
    ({}, {"capital_per_trade_ratio": D("0.03")}, D(6_000) / D(9_000), "capital_per_trade"),
    ({"committed_capital_usdt": D(194_000)}, {}, D(6_000) / D(9_000), "total_capital"),
    ({"trading_available_usdt": D(3_000), "funding_available_usdt": D(3_000)}, {},
     D(6_000) / D(9_000), "free_usdt"),
    ({}, {"total_capital": D(50_000)}, D(5_000) / D(9_000), "capital_per_trade"),
])
def test_caps_shrink_the_carry(acct: dict[str, object], params: dict[str, object],
                               scale: Decimal, cap: str) -> None:
    verdict = check_entry(opportunity(), account(**acct), replace(PARAMS, **params))  # type: ignore[arg-type]
    assert isinstance(verdict, Approval)
    assert verdict.scale == scale
    assert verdict.base_qty == D("0.1") * scale
    assert verdict.capital_usdt == D(9_000) * scale
    assert cap in verdict.notes[0]


def test_dynamic_sizing_may_take_twice_the_standard() -> None:
    big = opportunity(capital_usdt=D(30_000), notional_usdt=D(6_000))
    rich = account(trading_available_usdt=D(100_000))
    standard = check_entry(big, rich, PARAMS)
    assert isinstance(standard, Approval) and standard.scale == D(20_000) / D(30_000)
    doubled = check_entry(big, rich, replace(PARAMS, max_trade_multiple=D(2)))
    assert isinstance(doubled, Approval) and doubled.scale == D(1)


def test_a_crumb_is_vetoed() -> None:
    # standard 20 000, a quarter = 5 000; only 4 999 free
    veto = check_entry(opportunity(), account(trading_available_usdt=D(4_999),
                                              funding_available_usdt=D(0)), PARAMS)
    assert isinstance(veto, Veto) and veto.code is VetoCode.NO_CAPITAL


MONEY = st.decimals(min_value=D(0), max_value=D(300_000), places=2)


@given(MONEY, MONEY, MONEY, st.decimals(min_value=D(100), max_value=D(60_000), places=2))
def test_an_approval_never_exceeds_any_limit(free: Decimal, committed: Decimal,
                                             equity: Decimal, capital: Decimal) -> None:
    o = opportunity(capital_usdt=capital, notional_usdt=capital * 2 / 3)
    acct = account(trading_available_usdt=free, funding_available_usdt=D(0),
                   committed_capital_usdt=committed, total_equity_usdt=equity)
    verdict = check_entry(o, acct, PARAMS)
    if isinstance(verdict, Veto):
        return
    assert verdict.scale <= 1
    tol = D("1e-20")
    assert verdict.capital_usdt <= free + tol
    assert verdict.capital_usdt <= equity * PARAMS.capital_per_trade_ratio + tol
    assert committed + verdict.capital_usdt <= equity + tol
    assert verdict.notional_usdt <= PARAMS.max_position_value + tol


def test_a_carry_capped_by_max_position_value_is_not_a_crumb() -> None:
    # a rich account: standard 100 000 a trade, a quarter of it 25 000; the per-coin cap
    # leaves 4 000 / 6 000 of a 9 000 carry = 6 000: the largest allowed, not a crumb
    rich = account(total_equity_usdt=D(1_000_000), trading_available_usdt=D(1_000_000))
    verdict = check_entry(opportunity(), rich, replace(PARAMS, max_position_value=D(4_000)))
    assert isinstance(verdict, Approval)
    assert verdict.notional_usdt == D(4_000) and "max_position_value" in verdict.notes[0]
    # the capital left still makes crumbs
    poor = account(total_equity_usdt=D(1_000_000), trading_available_usdt=D(5_000),
                   funding_available_usdt=D(0))
    veto = check_entry(opportunity(), poor, replace(PARAMS, max_position_value=D(4_000)))
    assert isinstance(veto, Veto) and veto.code is VetoCode.NO_CAPITAL
    assert "free_usdt" in veto.reason
