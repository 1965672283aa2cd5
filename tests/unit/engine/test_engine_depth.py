"""Entry depth for the liquidity guard: what each entry book holds within the slippage limit,
on the side the entry takes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.market import OrderBook
from laicai.engine.context import depth_within

D = Decimal


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook("X-USDT", tuple((D(p), D(s)) for p, s in bids),
                     tuple((D(p), D(s)) for p, s in asks), 0)


def test_counts_only_levels_within_the_limit_on_the_taken_side() -> None:
    b = book([("99.9", "1"), ("99.8", "2"), ("99.0", "50")],
             [("100", "3"), ("100.1", "4"), ("100.5", "70")])
    assert depth_within(b, True, D("0.002")) == D(7)  # 100 and 100.1 are within 0.2%
    assert depth_within(b, False, D("0.002")) == D(3)  # 99.9 and 99.8 (99.8 = -0.2%)
    assert depth_within(b, True, D("0.01")) == D(77)
    assert depth_within(None, True, D("0.01")) == 0
    assert depth_within(book([], []), False, D("0.01")) == 0


@given(st.lists(st.tuples(st.integers(1, 500), st.integers(1, 100)), min_size=1,
                max_size=30),
       st.decimals(min_value=D(0), max_value=D("0.05"), places=4),
       st.decimals(min_value=D(0), max_value=D("0.05"), places=4))
def test_depth_grows_with_the_limit_and_never_exceeds_the_side(
        levels: list[tuple[int, int]], a: Decimal, b: Decimal) -> None:
    asks = sorted({D(1000) + D(p) / 10: D(s) for p, s in levels}.items())
    ob = OrderBook("X-USDT", (), tuple(asks), 0)
    lo, hi = min(a, b), max(a, b)
    assert asks[0][1] <= depth_within(ob, True, lo) <= depth_within(ob, True, hi)
    assert depth_within(ob, True, hi) <= sum(s for _, s in asks)
