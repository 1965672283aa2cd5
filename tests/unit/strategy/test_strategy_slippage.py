"""Walking an L2 book: VWAP, slippage, insufficient depth (properties and examples)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.enums import Side
from laicai.domain.market import OrderBook
from laicai.strategy.slippage import Fill, InsufficientDepth, walk_book, walk_levels

D = Decimal
Levels = tuple[tuple[Decimal, Decimal], ...]

SIZES = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
STEPS = st.decimals(min_value=D("0.01"), max_value=D(50), places=2)


@st.composite
def sides(draw: st.DrawFn) -> tuple[Side, Levels]:
    """A side and the book levels it takes, best first (asks up, bids down, prices > 0)."""
    side = draw(st.sampled_from(Side))
    n = draw(st.integers(1, 25))
    steps = draw(st.lists(STEPS, min_size=n - 1, max_size=n - 1))
    sizes = draw(st.lists(SIZES, min_size=n, max_size=n))
    floor = draw(st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2))
    offsets = [D(0)]
    for step in steps:
        offsets.append(offsets[-1] + step)
    if side is Side.BUY:  # asks from `floor` upwards
        prices = [floor + o for o in offsets]
    else:  # bids from floor + the whole range downwards, ending at `floor`
        prices = [floor + offsets[-1] - o for o in offsets]
    return side, tuple(zip(prices, sizes, strict=True))


@st.composite
def orders(draw: st.DrawFn) -> tuple[Side, Levels, Decimal]:
    """A side, its levels and a quantity the levels can fill."""
    side, levels = draw(sides())
    total = sum(size for _, size in levels)
    qty = draw(st.decimals(min_value=D("0.001"), max_value=total, places=3))
    return side, levels, qty


def _fill(levels: Levels, side: Side, qty: Decimal, base_per_size: Decimal = Decimal(1)) -> Fill:
    result = walk_levels(levels, side, qty, base_per_size)
    assert isinstance(result, Fill), result
    return result


def _slippage(levels: Levels, side: Side, qty: Decimal) -> Decimal | None:
    """None = insufficient depth (worse than any slippage)."""
    result = walk_levels(levels, side, qty)
    return result.slippage if isinstance(result, Fill) else None


@given(orders())
def test_slippage_is_never_negative(order: tuple[Side, Levels, Decimal]) -> None:
    side, levels, qty = order
    assert _fill(levels, side, qty).slippage >= 0


@given(orders())
def test_vwap_lies_between_the_best_and_the_worst_level_taken(
    order: tuple[Side, Levels, Decimal],
) -> None:
    side, levels, qty = order
    fill = _fill(levels, side, qty)
    low, high = sorted((fill.best_px, fill.worst_px))
    assert low <= fill.vwap <= high
    assert fill.worst_px == levels[fill.levels_taken - 1][0]
    assert fill.notional_quote == pytest.approx(fill.vwap * qty, rel=D("1e-20"))
    # The levels before the last one taken do not fill the order on their own.
    assert sum(size for _, size in levels[: fill.levels_taken - 1]) < qty


@given(sides(), st.data())
def test_a_fill_within_the_first_level_is_exact(side_levels: tuple[Side, Levels],
                                                data: st.DataObject) -> None:
    side, levels = side_levels
    best, first = levels[0]
    qty = data.draw(st.decimals(min_value=D("0.001"), max_value=first, places=3))
    fill = _fill(levels, side, qty)
    assert (fill.vwap, fill.worst_px, fill.slippage, fill.levels_taken) == (best, best, D(0), 1)
    assert fill.notional_quote == best * qty


@given(sides())
def test_walking_exactly_the_first_level_gives_zero_slippage(
    side_levels: tuple[Side, Levels],
) -> None:
    side, levels = side_levels
    fill = _fill(levels, side, levels[0][1])
    assert fill.slippage == 0
    assert fill.slippage_cost_quote == 0


@given(orders(), st.data())
def test_more_size_on_the_levels_never_raises_slippage(order: tuple[Side, Levels, Decimal],
                                                       data: st.DataObject) -> None:
    side, levels, qty = order
    extra = data.draw(st.lists(st.decimals(min_value=D(0), max_value=D(500), places=3),
                               min_size=len(levels), max_size=len(levels)))
    deeper = tuple((px, size + more) for (px, size), more in zip(levels, extra, strict=True))
    before, after = _slippage(levels, side, qty), _slippage(deeper, side, qty)
    assert before is not None and after is not None
    assert after <= before


@given(sides(), st.data())
def test_more_levels_never_raise_slippage(side_levels: tuple[Side, Levels],
                                          data: st.DataObject) -> None:
    side, levels = side_levels
    total = sum(size for _, size in levels)
    qty = data.draw(st.decimals(min_value=D("0.001"), max_value=total * 2, places=3))
    worst = levels[-1][0]
    more = data.draw(st.lists(st.tuples(STEPS, SIZES), min_size=1, max_size=5))
    extended = list(levels)
    px = worst
    for step, size in more:
        px = px + step if side is Side.BUY else px - step
        if px <= 0:
            break
        extended.append((px, size))
    before, after = _slippage(levels, side, qty), _slippage(tuple(extended), side, qty)
    if before is None:
        return  # from no fill to some fill (or still none): never a rise
    assert after is not None and after <= before


@given(sides(), st.decimals(min_value=D("0.001"), max_value=D(10), places=3))
def test_an_order_larger_than_the_book_is_insufficient_depth(
    side_levels: tuple[Side, Levels], excess: Decimal
) -> None:
    side, levels = side_levels
    total = sum(size for _, size in levels)
    result = walk_levels(levels, side, total + excess)
    assert isinstance(result, InsufficientDepth)
    assert result.available_base == total
    assert result.base_qty == total + excess


@given(orders(), st.sampled_from([D("0.01"), D("0.1"), D(10), D("0.001")]))
def test_contract_sizes_are_converted_with_the_contract_value(
    order: tuple[Side, Levels, Decimal], ct_val: Decimal
) -> None:
    """A swap book in contracts of ``ct_val`` base fills like a base book scaled by it."""
    side, contract_levels, contracts = order
    base_levels = tuple((px, size * ct_val) for px, size in contract_levels)
    in_contracts = _fill(contract_levels, side, contracts * ct_val, ct_val)
    in_base = _fill(base_levels, side, contracts * ct_val)
    assert in_contracts.vwap == in_base.vwap
    assert in_contracts.slippage == in_base.slippage
    assert in_contracts.base_qty == contracts * ct_val
    assert in_contracts.notional_quote == pytest.approx(in_base.notional_quote, rel=D("1e-20"))


def test_a_worked_walk() -> None:
    """Buy 3 through asks 100 x 1, 101 x 1, 103 x 5: VWAP (100 + 101 + 103) / 3 = 101.333..."""
    asks = ((D(100), D(1)), (D(101), D(1)), (D(103), D(5)))
    fill = _fill(asks, Side.BUY, D(3))
    assert fill.vwap == D(304) / 3
    assert fill.slippage == (D(304) / 3 - 100) / 100  # 1.333...%
    assert fill.slippage_cost_quote == D(4)  # 304 - 3 x 100, up to the last digit
    assert (fill.worst_px, fill.levels_taken, fill.notional_quote) == (D(103), 3, D(304))
    bids = ((D(99), D(2)), (D(97), D(2)))
    sell = _fill(bids, Side.SELL, D(3))
    assert sell.vwap == D(295) / 3
    assert sell.slippage == (99 - D(295) / 3) / 99  # adverse, positive for a sell


def test_walk_book_takes_the_asks_to_buy_and_the_bids_to_sell() -> None:
    book = OrderBook("X", bids=((D(99), D(1)),), asks=((D(101), D(1)),), ts_ms=0)
    assert _best(walk_book(book, Side.BUY, D(1))) == D(101)
    assert _best(walk_book(book, Side.SELL, D(1))) == D(99)
    empty = OrderBook("X", bids=(), asks=(), ts_ms=0)
    assert walk_book(empty, Side.BUY, D(1)) == InsufficientDepth(Side.BUY, D(1), D(0))


def _best(result: Fill | InsufficientDepth) -> Decimal:
    assert isinstance(result, Fill)
    return result.best_px


@pytest.mark.parametrize(("qty", "per_size"), [(D(0), D(1)), (D(-1), D(1)), (D(1), D(0))])
def test_non_positive_quantities_are_refused(qty: Decimal, per_size: Decimal) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        walk_levels(((D(1), D(1)),), Side.BUY, qty, per_size)
