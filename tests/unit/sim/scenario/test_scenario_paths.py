"""Price paths: determinism, replay fidelity, events, positivity, cost."""

from __future__ import annotations

import math
import random
import statistics
import time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from laicai.data.funding_history import history_for
from laicai.sim.market import ConstantPrice
from laicai.sim.scenario import (
    Crash,
    RandomWalk,
    ReplayedPrice,
    SpikeAndRevert,
    Squeeze,
    WithEvents,
    with_events,
)

START = 1_777_852_800_000  # 2026-05-04T00:00:00Z
MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000


def _walk(seed: int = 1, key: str = "BTC", vol: float = 0.6) -> RandomWalk:
    return RandomWalk(Decimal("65000"), vol, seed=seed, key=key, start_ms=START)


def test_random_walk_starts_at_start_price() -> None:
    w = _walk()
    assert w.price_at(START) == Decimal("65000")
    assert w.price_at(START + 999) == Decimal("65000")  # same 1 s bucket
    assert w.price_at(START + 1000) != Decimal("65000")


def test_random_walk_independent_of_call_order() -> None:
    times = [START + random.Random(3).randrange(-30 * DAY, 400 * DAY) for _ in range(300)]
    times += [START + i * 1000 for i in range(500)]
    forward = _walk()
    a = [forward.price_at(t) for t in times]
    backward = _walk()
    b = [backward.price_at(t) for t in reversed(times)][::-1]
    shuffled = _walk()
    order = list(range(len(times)))
    random.Random(9).shuffle(order)
    c_by_index = {i: shuffled.price_at(times[i]) for i in order}
    c = [c_by_index[i] for i in range(len(times))]
    assert a == b == c


def test_random_walk_seed_and_key_matter() -> None:
    ts = [START + k * HOUR for k in range(1, 50)]
    base = [_walk(seed=1).price_at(t) for t in ts]
    assert base != [_walk(seed=2).price_at(t) for t in ts]
    assert base != [_walk(seed=1, key="ETH").price_at(t) for t in ts]
    assert base == [_walk(seed=1).price_at(t) for t in ts]


def test_random_walk_volatility_is_as_asked() -> None:
    w = RandomWalk(Decimal("100"), 0.5, seed=3, key="X", start_ms=0)
    daily = [math.log(w.float_at((i + 1) * DAY) / w.float_at(i * DAY)) for i in range(1500)]
    minutely = [math.log(w.float_at((i + 1) * MIN) / w.float_at(i * MIN)) for i in range(20000)]
    assert 0.45 < statistics.pstdev(daily) * math.sqrt(365) < 0.55
    assert 0.47 < statistics.pstdev(minutely) * math.sqrt(365 * 1440) < 0.53


def test_zero_vol_walk_is_flat() -> None:
    w = RandomWalk(Decimal("2.5"), 0.0, seed=1, key="X", start_ms=START)
    assert {w.price_at(START + k * HOUR) for k in range(100)} == {Decimal("2.5")}


def _replay(coin: str, bridge_vol: float = 0.0) -> ReplayedPrice:
    return ReplayedPrice(
        ((r.ts_ms, r.mark_price) for r in history_for(coin)), seed=1, key=coin,
        bridge_vol=bridge_vol,
    )


def _snap(ts: int) -> int:
    return (ts + 30_000) // 60_000 * 60_000


def test_replay_matches_csv_at_settlements() -> None:
    for coin in ("BTC", "WIF", "DOGE"):
        for vol in (0.0, 0.8):
            path = _replay(coin, vol)
            for r in history_for(coin):
                assert path.price_at(_snap(r.ts_ms)) == r.mark_price


def test_replay_interpolates_between_settlements() -> None:
    rows = history_for("ETH")
    path = _replay("ETH")
    a, b = rows[100], rows[101]
    mid = path.price_at(_snap(a.ts_ms) + 4 * HOUR)
    lo, hi = sorted((a.mark_price, b.mark_price))
    assert lo <= mid <= hi
    geometric = math.sqrt(float(a.mark_price) * float(b.mark_price))
    assert math.isclose(float(mid), geometric, rel_tol=1e-9)


def test_replay_bridge_moves_between_points_deterministically() -> None:
    rows = history_for("SOL")
    t0 = _snap(rows[200].ts_ms)
    ts = [t0 + k * 1000 for k in range(1, 3600)]
    p1 = _replay("SOL", 0.5)
    first = [p1.price_at(t) for t in ts]
    assert len(set(first)) > 1000  # the book has something to move on
    p2 = _replay("SOL", 0.5)
    assert [p2.price_at(t) for t in reversed(ts)][::-1] == first
    # micro-noise, not a different market: within a few percent of the straight line
    straight = _replay("SOL", 0.0)
    for t in ts[::97]:
        assert abs(float(p1.price_at(t)) / float(straight.price_at(t)) - 1) < 0.03


def test_replay_holds_outside_the_data() -> None:
    rows = history_for("BTC")
    path = _replay("BTC")
    assert path.price_at(rows[0].ts_ms - DAY) == rows[0].mark_price
    assert path.price_at(rows[-1].ts_ms + 30 * DAY) == rows[-1].mark_price


def test_squeeze_reaches_plus_40_pct_within_30_minutes() -> None:
    base = _walk(vol=0.9)
    at = START + 6 * HOUR
    path = WithEvents(base, [Squeeze(at, 40.0, 30 * MIN)])
    assert path.price_at(at - 1000) == base.price_at(at - 1000)
    ratio = path.float_at(at + 30 * MIN) / base.float_at(at + 30 * MIN)
    assert math.isclose(ratio, 1.4, rel_tol=1e-9)
    rise = float(path.price_at(at + 30 * MIN)) / float(path.price_at(at))
    assert 1.37 < rise < 1.43  # +40 % give or take 30 minutes of random walk
    halfway = float(path.price_at(at + 15 * MIN)) / float(base.price_at(at + 15 * MIN))
    assert math.isclose(halfway, 1.2, rel_tol=1e-6)


def test_squeeze_in_builtin_scenario() -> None:
    from laicai.sim.scenario import load_scenario

    setup = load_scenario("squeeze").build()
    inj = setup.plan.prices["INJ"]
    at = setup.start_ms + 6 * HOUR
    peak = max(float(inj.price_at(at + k * 1000)) for k in range(0, 30 * 60 + 1, 10))
    assert peak / float(inj.price_at(at)) >= 1.37


def test_crash_and_drift() -> None:
    base = ConstantPrice(Decimal("100"))
    at = START + HOUR
    path = with_events(base, [Crash(at, -35.0, 20 * MIN, drift_pct_per_hour=1.0)])
    assert path.price_at(at) == Decimal("100")
    assert path.price_at(at + 20 * MIN) == Decimal("65")
    later = float(path.price_at(at + 20 * MIN + 10 * HOUR))
    assert math.isclose(later, 65 * 1.01**10, rel_tol=1e-9)


def test_spike_and_revert() -> None:
    base = ConstantPrice(Decimal("10"))
    at = START + HOUR
    path = with_events(base, [SpikeAndRevert(at, 20.0, 30_000)])
    assert path.price_at(at - 1) == Decimal("10")
    assert path.price_at(at) == Decimal("12")
    assert path.price_at(at + 15_000) == Decimal("11")
    assert path.price_at(at + 30_000) == Decimal("10")


def test_no_events_returns_the_base_itself() -> None:
    base = _walk()
    assert with_events(base, []) is base


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    vol=st.floats(min_value=0.0, max_value=5.0),
    drift=st.floats(min_value=-3.0, max_value=3.0),
    start=st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1000000"), places=8),
    offset=st.integers(min_value=-400 * DAY, max_value=400 * DAY),
    crash=st.floats(min_value=-99.9, max_value=-0.1),
    squeeze=st.floats(min_value=0.1, max_value=500.0),
)
def test_prices_always_positive(
    seed: int, vol: float, drift: float, start: Decimal, offset: int, crash: float, squeeze: float
) -> None:
    if start <= 0:
        start = Decimal("0.00000001")
    walk = RandomWalk(start, vol, drift=drift, seed=seed, key="X", start_ms=START)
    path = with_events(walk, [
        Crash(START + offset // 2, crash, 20 * MIN, drift_pct_per_hour=-5.0),
        Squeeze(START + offset // 3, squeeze, 30 * MIN),
        SpikeAndRevert(START + offset // 4, crash, 60_000),
    ])
    for t in (START + offset, START + offset // 2 + 10 * MIN, START + offset // 4 + 1000):
        p = path.price_at(t)
        assert p > 0 and p.is_finite()


def _cost_us(path: RandomWalk | ReplayedPrice | WithEvents, times: list[int]) -> float:
    t0 = time.perf_counter()
    for t in times:
        path.price_at(t)
    return (time.perf_counter() - t0) / len(times) * 1e6


def test_price_at_is_cheap() -> None:
    # a simulated day at 1 call per 100 ms per path (10 calls per 1 s bucket), in order
    times = [START + k * 100 for k in range(0, 200_000)]
    replay_t0 = _snap(history_for("BTC")[500].ts_ms)
    replay_times = [replay_t0 + t - START for t in times]
    walk_cost = _cost_us(_walk(), times)
    replay_cost = _cost_us(_replay("BTC", 0.3), replay_times)
    event_cost = _cost_us(WithEvents(_walk(), [Squeeze(START + HOUR, 40.0, 30 * MIN)]), times)
    # every call a new bucket (nothing cached): the worst case in time order
    fresh_walk = _cost_us(_walk(), times[::10])
    fresh_replay = _cost_us(_replay("BTC", 0.3), replay_times[::10])
    print(
        f"price_at cost (us): walk {walk_cost:.2f}, replay {replay_cost:.2f}, "
        f"walk+event {event_cost:.2f}; uncached: walk {fresh_walk:.2f}, replay {fresh_replay:.2f}"
    )
    assert max(walk_cost, replay_cost, event_cost) < 20  # generous: ~0.5-1 us measured
    assert max(fresh_walk, fresh_replay) < 40  # generous: ~3-9 us measured
