"""The simulator's small pure parts: clocks, books, margin formulas, faults, auth, limits."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laicai.sim import margin
from laicai.sim.book import L2Book
from laicai.sim.clock import ManualClock, ScaledClock
from laicai.sim.errors import SimError
from laicai.sim.faults import Fault, FaultBook
from laicai.sim.instruments import derive_pair, okx_reference_instruments, pair_for
from laicai.sim.market import BookShape
from laicai.sim.server.auth import authenticate, sign
from laicai.sim.server.ratelimit import RateLimiter
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, make_exchange


def test_manual_clock_never_goes_back() -> None:
    c = ManualClock(1000)
    c.advance(500)
    assert c.now_ms() == 1500
    with pytest.raises(ValueError, match="backwards"):
        c.set(1000)
    with pytest.raises(ValueError, match="backwards"):
        c.advance(-1)


def test_scaled_clock_runs_at_its_speed_and_jumps() -> None:
    c = ScaledClock(speed=1000.0, start_ms=0)
    c.advance(3_600_000)
    assert c.now_ms() >= 3_600_000
    before = c.now_ms()
    c.set_speed(1.0)
    assert c.now_ms() >= before  # no jump back when the speed changes
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(speed=0)


def _book(spread_bps: str = "2", levels: int = 20) -> L2Book:
    spot = okx_reference_instruments()["BTC-USDT"]
    b = L2Book(spot, BookShape(spread_bps=Decimal(spread_bps), levels=levels))
    b.rebuild(Decimal(60000), 0)
    return b


def test_book_is_tick_aligned_sorted_and_lot_sized() -> None:
    b = _book()
    assert b.best_bid() is not None and b.best_ask() is not None
    assert b.best_bid() < Decimal(60000) < b.best_ask()
    bids = [p for p, _ in b.bids]
    asks = [p for p, _ in b.asks]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    for p, q in b.bids + b.asks:
        assert p % b.inst.tick_sz == 0
        assert q % b.inst.lot_sz == 0 and q > 0


@settings(max_examples=50, deadline=None)
@given(qty=st.decimals("0.00001", "30", places=5))
def test_taking_walks_the_book_and_depletes_it(qty: Decimal) -> None:
    b = _book()
    before = b.available("buy", None)
    dry = b.take("buy", qty, dry=True)
    fills = b.take("buy", qty)
    assert dry == fills  # a dry run sees exactly what the real one gets
    got = sum((q for _, q in fills), Decimal(0))
    assert got == min(qty, before)
    prices = [p for p, _ in fills]
    assert prices == sorted(prices)  # best first
    assert b.available("buy", None) == before - got


def test_limit_price_stops_the_walk() -> None:
    b = _book()
    limit = b.asks[2][0]
    fills = b.take("buy", Decimal(1000), limit)
    assert all(p <= limit for p, _ in fills)
    assert len(fills) == 3


@settings(max_examples=200, deadline=None)
@given(
    qty=st.decimals("0.001", "50", places=3),
    short=st.booleans(),
    mark=st.decimals("10", "100000", places=2),
    lever=st.decimals("1.5", "20", places=1),
)
def test_liquidation_price_is_where_equity_meets_maintenance(
    qty: Decimal, short: bool, mark: Decimal, lever: Decimal
) -> None:
    q = -qty if short else qty
    equity = qty * mark / lever
    px = margin.liquidation_price(q, mark, equity)
    assert px is not None
    assert (px > mark) if short else (px < mark)
    # at liqPx equity meets maintenance; at a tier boundary it falls below it the moment the
    # price moves past the boundary (the notional enters the next tier)
    past = px * (Decimal("1.000000001") if short else Decimal("0.999999999"))
    eq_past = equity + q * (past - mark)
    assert eq_past <= qty * past * margin.mmr_rate(qty * past) * Decimal("1.0000001")
    just_before = px * (Decimal("0.9999") if short else Decimal("1.0001"))
    eq_before = equity + q * (just_before - mark)
    assert eq_before > qty * just_before * margin.mmr_rate(qty * just_before)


def test_over_collateralised_long_has_no_liquidation_price() -> None:
    assert margin.liquidation_price(Decimal(1), Decimal(100), Decimal(150)) is None


def test_faults_fire_count_times_and_match_filters() -> None:
    fb = FaultBook(random.Random(1))
    fb.add(Fault("reject", endpoint="trade/batch-orders", inst_id="BTC-USDT", count=2))
    assert fb.take("reject", endpoint="trade/batch-orders", inst_id="ETH-USDT") is None
    assert fb.take("reject", endpoint="api/v5/trade/batch-orders", inst_id="BTC-USDT")
    assert fb.take("reject", endpoint="trade/batch-orders", inst_id="BTC-USDT")
    assert fb.take("reject", endpoint="trade/batch-orders", inst_id="BTC-USDT") is None
    with pytest.raises(ValueError, match="unknown fault kind"):
        fb.add(Fault("gremlins"))


def test_faults_filter_by_http_method() -> None:
    fb = FaultBook(random.Random(1))
    fb.add(Fault("delay", endpoint="trade/order", method="POST", count=None))
    assert fb.take("delay", endpoint="trade/order", method="GET") is None
    assert fb.take("delay", endpoint="trade/order") is None  # the caller names no method
    assert fb.take("delay", endpoint="trade/order", method="post") is not None
    fb.add(Fault("reject", endpoint="trade/order"))  # no method: any method
    assert fb.take("reject", endpoint="trade/order", method="GET") is not None


def test_probabilistic_faults_replay_with_the_seed() -> None:
    def run(seed: int) -> list[bool]:
        fb = FaultBook(random.Random(seed))
        fb.add(Fault("delay", probability=0.3, count=None))
        return [fb.take("delay") is not None for _ in range(200)]

    assert run(3) == run(3)
    assert run(3) != run(4)
    assert 30 < sum(run(3)) < 90


def test_signature_is_verified_over_timestamp_method_path_and_body() -> None:
    ex = make_exchange()
    ts = "2026-01-01T00:00:00.000Z"
    now = 1_767_225_600_000
    body = '{"instId":"BTC-USDT"}'
    good = sign(SECRET, ts + "POST" + "/api/v5/trade/order" + body)
    headers = {"OK-ACCESS-KEY": API_KEY, "OK-ACCESS-SIGN": good, "OK-ACCESS-TIMESTAMP": ts,
               "OK-ACCESS-PASSPHRASE": PASSPHRASE}
    acct, _ = authenticate(ex, headers, "POST", "/api/v5/trade/order", body, now_ms=now)
    assert acct.name == "main"
    cases = [
        ({**headers, "OK-ACCESS-SIGN": sign("other", ts + "POST/api/v5/trade/order" + body)},
         "50113", now),
        ({**headers, "OK-ACCESS-KEY": "nobody"}, "50111", now),
        ({**headers, "OK-ACCESS-PASSPHRASE": "x"}, "50105", now),
        (headers, "50102", now + 31_000),
        ({**headers, "OK-ACCESS-TIMESTAMP": "yesterday"}, "50112", now),
        ({k: v for k, v in headers.items() if k != "OK-ACCESS-SIGN"}, "50106", now),
    ]
    for hdrs, code, at in cases:
        with pytest.raises(SimError) as e:
            authenticate(ex, hdrs, "POST", "/api/v5/trade/order", body, now_ms=at)
        assert e.value.code == code
    # the body is signed: changing it breaks the signature
    with pytest.raises(SimError) as e:
        authenticate(ex, headers, "POST", "/api/v5/trade/order", body + " ", now_ms=now)
    assert e.value.code == "50113"


def test_rate_limiter_is_a_sliding_window_per_identity() -> None:
    rl = RateLimiter({"x": (3, 1000)})
    assert all(rl.allow("x", "a", 0) for _ in range(3))
    assert not rl.allow("x", "a", 500)
    assert rl.allow("x", "b", 500)  # another key has its own budget
    assert rl.allow("x", "a", 1000)  # the first hit left the window
    assert not rl.allow("x", "a", 1001, cost=3)  # a batch counts its orders
    assert rl.allow("unlimited", "a", 0)


@pytest.mark.parametrize("price", ["65000", "3000", "150", "1.2", "0.1", "0.00002"])
def test_derived_instruments_are_sized_like_okx(price: str) -> None:
    px = Decimal(price)
    spot, swap = derive_pair("NEW", px)
    assert spot.inst_id == "NEW-USDT" and swap.inst_id == "NEW-USDT-SWAP"
    assert Decimal(10) <= swap.ct_val * px <= Decimal(100)  # a contract is worth 10..100 USDT
    assert px / swap.tick_sz >= 10_000  # ~5 significant digits of price
    assert spot.min_sz * px <= Decimal(10)
    assert swap.to_okx()["ctValCcy"] == "NEW"


def test_real_okx_definitions_are_preferred() -> None:
    spot, swap = pair_for("BTC", Decimal(1))
    assert swap.ct_val == Decimal("0.01") and swap.lot_sz == Decimal("0.1")
    assert spot.tick_sz == Decimal("0.1")
