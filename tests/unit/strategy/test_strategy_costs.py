"""The round-trip cost: fees, slippage and the spread, each counted once."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.enums import Side
from laicai.domain.market import FeeRates
from laicai.strategy.costs import (
    RoundTripFills,
    Touch,
    borrow_cost_usdt,
    entry_basis,
    round_trip_cost,
)
from laicai.strategy.slippage import Fill, walk_levels

D = Decimal
NO_FEES = FeeRates(D(0), D(0), D(0), D(0))
Levels = tuple[tuple[Decimal, Decimal], ...]


def _fill(levels: Levels, side: Side, qty: Decimal, per_size: Decimal = Decimal(1)) -> Fill:
    result = walk_levels(levels, side, qty, per_size)
    assert isinstance(result, Fill)
    return result


def test_a_short_round_trip_by_hand() -> None:
    """SHORT 1 BTC: buy spot through asks 100 x 0.5, 102 x 1 (fee in coin: gross 1.002004...
    rounded to 1.003 on a 0.001 lot), sell 100 contracts of 0.01 on perp bids 101 x 60,
    100 x 100; exit sells 1 on spot bids 99 x 2 and buys 100 contracts on perp asks 103 x 200.
    """
    spot_asks = ((D(100), D("0.5")), (D(102), D(1)))
    spot_bids = ((D(99), D(2)),)
    perp_bids = ((D(101), D(60)), (D(100), D(100)))
    perp_asks = ((D(103), D(200)),)
    fees = FeeRates(D("0.0008"), D("0.002"), D("0.0002"), D("0.0005"))
    fills = RoundTripFills(
        spot_entry=_fill(spot_asks, Side.BUY, D("1.003")),
        perp_entry=_fill(perp_bids, Side.SELL, D(1), D("0.01")),
        spot_exit=_fill(spot_bids, Side.SELL, D(1)),
        perp_exit=_fill(perp_asks, Side.BUY, D(1), D("0.01")),
    )
    spot, perp = Touch(D(99), D(100)), Touch(D(101), D(103))
    cost = round_trip_cost(fills, spot, perp, fees, D(1))
    # notionals: spot buy 50 + 0.503 x 102 = 101.306; perp sell 0.6 x 101 + 0.4 x 100 = 100.6
    #            spot sell 99; perp buy 103
    assert fills.spot_entry.notional_quote == D("101.306")
    assert fills.perp_entry.notional_quote == D("100.6")
    assert cost.entry_fees_usdt == D("0.002") * D("101.306") + D("0.0005") * D("100.6")
    assert cost.exit_fees_usdt == D("0.002") * 99 + D("0.0005") * 103
    # slippage beyond the touch: spot buy 101.306 - 1.003 x 100 = 1.006; perp sell
    # 101 - 100.6 = 0.4; exits took one level each: 0
    assert cost.slippage_usdt == D("1.406")
    # spread: half-spreads 0.5 (spot) and 1 (perp) on 1.003 + 1 spot and 2 perp coins
    assert cost.spread_usdt == D("0.5") * D("2.003") + 1 * 2
    assert cost.notional_usdt == D("99.5")  # 1 BTC at the spot mid
    assert cost.total_usdt == cost.fees_usdt + D("1.406") + D("3.0015")
    assert cost.fraction == cost.total_usdt / D("99.5")
    assert entry_basis(spot, perp) == (D(102) - D("99.5")) / D("99.5")


@st.composite
def books(draw: st.DrawFn) -> tuple[Levels, Levels, Decimal]:
    """Bids and asks around a mid, and a quantity both sides can fill."""
    mid = draw(st.decimals(min_value=D(10), max_value=D(100_000), places=1))
    half = draw(st.decimals(min_value=D("0.1"), max_value=D(5), places=1))
    n = draw(st.integers(1, 10))
    sizes = draw(st.lists(st.decimals(min_value=D("0.01"), max_value=D(5), places=2),
                          min_size=n, max_size=n))
    tick = draw(st.decimals(min_value=D("0.1"), max_value=D(3), places=1))
    bids = tuple((mid - half - i * tick, s) for i, s in enumerate(sizes))
    asks = tuple((mid + half + i * tick, s) for i, s in enumerate(sizes))
    qty = draw(st.decimals(min_value=D("0.01"), max_value=sum(sizes), places=2))
    return bids, asks, qty


@given(books(), books(), st.sampled_from(["SHORT", "LONG"]))
def test_fees_slippage_and_spread_add_up_to_the_round_trip_exactly(
    spot_book: tuple[Levels, Levels, Decimal], perp_book: tuple[Levels, Levels, Decimal],
    direction: str,
) -> None:
    """With no fees, slippage + spread is exactly what opening and closing on the current
    books loses (USDT paid for buys - USDT received for sells): nothing counted twice, nothing
    left out, whatever the basis between the two books."""
    s_bids, s_asks, q1 = spot_book
    p_bids, p_asks, q2 = perp_book
    q = min(q1, q2)
    buy, sell = Side.BUY, Side.SELL
    if direction == "SHORT":
        fills = RoundTripFills(_fill(s_asks, buy, q), _fill(p_bids, sell, q),
                               _fill(s_bids, sell, q), _fill(p_asks, buy, q))
    else:
        fills = RoundTripFills(_fill(s_bids, sell, q), _fill(p_asks, buy, q),
                               _fill(s_asks, buy, q), _fill(p_bids, sell, q))
    spot = Touch(s_bids[0][0], s_asks[0][0])
    perp = Touch(p_bids[0][0], p_asks[0][0])
    cost = round_trip_cost(fills, spot, perp, NO_FEES, q)
    every = (fills.spot_entry, fills.perp_entry, fills.spot_exit, fills.perp_exit)
    paid = sum(f.notional_quote for f in every if f.side is Side.BUY)
    received = sum(f.notional_quote for f in every if f.side is Side.SELL)
    assert cost.fees_usdt == 0
    assert cost.slippage_usdt + cost.spread_usdt == paid - received
    assert cost.spread_usdt == q * ((spot.ask - spot.bid) + (perp.ask - perp.bid))


@given(books(), st.decimals(min_value=D(-500), max_value=D(500), places=1))
def test_the_basis_is_not_booked(book: tuple[Levels, Levels, Decimal], shift: Decimal) -> None:
    """Moving the whole perp book (a different basis) leaves the spread and slippage alone."""
    bids, asks, q = book
    moved_bids = tuple((px + shift, s) for px, s in bids)
    moved_asks = tuple((px + shift, s) for px, s in asks)
    spot = Touch(bids[0][0], asks[0][0])

    def cost_with(p_bids: Levels, p_asks: Levels) -> tuple[Decimal, Decimal]:
        fills = RoundTripFills(_fill(asks, Side.BUY, q), _fill(p_bids, Side.SELL, q),
                               _fill(bids, Side.SELL, q), _fill(p_asks, Side.BUY, q))
        c = round_trip_cost(fills, spot, Touch(p_bids[0][0], p_asks[0][0]), NO_FEES, q)
        return c.spread_usdt, c.slippage_usdt

    if moved_bids[-1][0] > 0:
        assert cost_with(bids, asks) == cost_with(moved_bids, moved_asks)


def test_borrow_cost_over_the_holding_period() -> None:
    # 6,000 USDT borrowed at 1.752% a year (0.0002% an hour) for 30 days
    assert borrow_cost_usdt(D(6000), D("0.01752"), D(30)) == D(6000) * D("0.01752") * 30 / 365
    assert borrow_cost_usdt(D(6000), D("0.0365"), D(10)) == 6
