"""APR arithmetic: funding APR per settlement interval, net APR, break-even days."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.enums import Direction
from laicai.domain.market import funding_apr
from laicai.strategy.opportunity import (
    annualised_cost,
    break_even_days,
    carry_funding_apr,
    net_apr,
)

D = Decimal
RATE = st.decimals(min_value=D("-0.01"), max_value=D("0.01"), places=6)
APR = st.decimals(min_value=D(0), max_value=D(2), places=4)
FRACTION = st.decimals(min_value=D(0), max_value=D("0.05"), places=6)
DAYS = st.decimals(min_value=D("0.5"), max_value=D(365), places=2)


@pytest.mark.parametrize(
    ("rate", "hours", "apr"),
    [
        (D("0.0001"), 8, D("0.1095")),  # 0.01% x 3 a day x 365
        (D("0.0001"), 4, D("0.219")),  # 6 a day
        (D("0.0001"), 2, D("0.438")),
        (D("0.0001"), 1, D("0.876")),  # 24 a day
        (D("-0.0003"), 8, D("-0.3285")),
        (D("0.01"), 8, D("10.95")),  # the band's top: 1% per 8 h
    ],
)
def test_funding_apr_reads_the_interval(rate: Decimal, hours: int, apr: Decimal) -> None:
    assert funding_apr(rate, hours) == apr


@given(RATE)
def test_the_same_rate_pays_twice_as_much_every_4_h_and_8x_every_hour(rate: Decimal) -> None:
    eight = funding_apr(rate, 8)
    assert funding_apr(rate, 4) == 2 * eight
    assert funding_apr(rate, 1) == 8 * eight
    assert funding_apr(rate, 2) == 4 * eight


@given(RATE)
def test_the_carry_earns_the_rate_in_its_direction(rate: Decimal) -> None:
    assert carry_funding_apr(rate, 8, Direction.SHORT) == funding_apr(rate, 8)
    assert carry_funding_apr(rate, 8, Direction.LONG) == -funding_apr(rate, 8)
    side = Direction.SHORT if rate >= 0 else Direction.LONG
    assert carry_funding_apr(rate, 8, side) == abs(funding_apr(rate, 8))


def test_net_apr_worked() -> None:
    # 10.95% funding + 2% Earn - 0 borrow - 0.3% round trip over 30 days (x 365/30 = 3.65%)
    assert net_apr(D("0.1095"), D("0.02"), D(0), D("0.003"), D(30)) == D("0.093")
    # LONG: 21.9% funding - 1.752% borrow - 0.4% over 7 days (x 365/7)
    got = net_apr(D("0.219"), D(0), D("0.01752"), D("0.004"), D(7))
    assert got == D("0.20148") - D("0.004") * 365 / 7
    assert annualised_cost(D("0.01"), D(365)) == D("0.01")
    with pytest.raises(ValueError, match="holding_days"):
        annualised_cost(D("0.01"), D(0))


@given(APR, APR, APR, FRACTION, DAYS)
def test_net_apr_is_income_minus_borrow_minus_the_annualised_round_trip(
    funding: Decimal, earn: Decimal, borrow: Decimal, cost: Decimal, days: Decimal
) -> None:
    got = net_apr(funding, earn, borrow, cost, days)
    expected = funding + earn - borrow - cost / (days / 365)
    assert got == pytest.approx(expected, rel=D("1e-24"), abs=D("1e-24"))
    assert got <= funding + earn - borrow


@given(APR, APR, FRACTION, DAYS, DAYS)
def test_longer_holding_never_lowers_net_apr(funding: Decimal, borrow: Decimal, cost: Decimal,
                                             d1: Decimal, d2: Decimal) -> None:
    short, long_ = sorted((d1, d2))
    assert net_apr(funding, D(0), borrow, cost, long_) >= net_apr(funding, D(0), borrow, cost,
                                                                  short)


def test_break_even_days() -> None:
    # 0.3% round trip repaid by 10.95% a year: 0.003 x 365 / 0.1095 = 10 days
    assert break_even_days(D("0.003"), D("0.1095"), D(0)) == 10
    # borrow eats into the funding: (0.219 - 0.0365) -> 0.003 x 365 / 0.1825 = 6 days
    assert break_even_days(D("0.003"), D("0.219"), D("0.0365")) == 6
    assert break_even_days(D("0.003"), D("0.05"), D("0.05")) is None  # never
    assert break_even_days(D("0.003"), D("0.01"), D("0.02")) is None


@given(FRACTION, APR, APR)
def test_break_even_is_when_funding_net_of_borrow_has_repaid_the_round_trip(
    cost: Decimal, funding: Decimal, borrow: Decimal
) -> None:
    days = break_even_days(cost, funding, borrow)
    if funding <= borrow:
        assert days is None
        return
    assert days is not None and days >= 0
    assert (funding - borrow) * days / 365 == pytest.approx(cost, rel=D("1e-20"), abs=D("1e-24"))
