"""Funding series: replay fidelity, interval changes, settlement grid, generated series."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from laicai.data.funding_history import history_for
from laicai.sim.market import FundingSeries
from laicai.sim.scenario import (
    FUNDING_INTERVALS,
    FixedFunding,
    FlippingFunding,
    IntervalSchedule,
    NoisyFunding,
    ReplayedFunding,
    builtin_scenarios,
    load_scenario,
    next_settlement_ms,
    settlements,
)

HOUR = 3_600_000
DAY = 86_400_000
START = 1_777_852_800_000  # 2026-05-04T00:00:00Z


def _replay(coin: str) -> ReplayedFunding:
    return ReplayedFunding((r.ts_ms, r.rate, r.interval_hours) for r in history_for(coin))


def _hour(ts: int) -> int:
    return (ts + HOUR // 2) // HOUR * HOUR


def test_replay_rates_match_csv_at_settlements() -> None:
    for coin in ("BTC", "WIF", "TRX"):
        series = _replay(coin)
        for r in history_for(coin):
            assert series.rate_at(_hour(r.ts_ms)) == r.rate
            assert series.rate_at(_hour(r.ts_ms) - 1) == r.rate  # predicted just before


def test_replay_predicted_rate_is_next_settlements() -> None:
    rows = history_for("BTC")
    series = _replay("BTC")
    # asking for a time between settlements gives the next settlement's rate
    assert series.rate_at(_hour(rows[10].ts_ms) + HOUR) == rows[11].rate


def test_replay_follows_the_settlement_schedule() -> None:
    for coin in ("BTC", "WIF", "ORDI"):
        series = _replay(coin)
        rows = history_for(coin)
        for prev, nxt in itertools.pairwise(rows):
            assert next_settlement_ms(series, _hour(prev.ts_ms)) == _hour(nxt.ts_ms)


def test_interval_changes_come_from_the_data() -> None:
    series = _replay("WIF")
    day = 20628 * DAY  # 2026-06-24: WIF settles at 00:00, 08:00 (8h), then every 4h again
    assert series.interval_hours_at(day - HOUR) == 4
    assert series.interval_hours_at(day) == 8
    assert series.interval_hours_at(day + 5 * HOUR) == 8
    assert series.interval_hours_at(day + 8 * HOUR) == 4
    got = list(settlements(series, day - 4 * HOUR, day + 16 * HOUR))
    assert [(t - day) // HOUR for t in got] == [0, 8, 12, 16]
    assert _replay("BTC").interval_hours_at(day) == 8


def test_8h_settlements_on_okx_grid() -> None:
    series = FixedFunding(Decimal("0.0001"), 8)
    got = list(settlements(series, START + 1, START + DAY))
    assert [(t - START) // HOUR for t in got] == [8, 16, 24]
    assert next_settlement_ms(series, START - 1) == START
    hourly = list(settlements(FixedFunding(Decimal("0"), 1), START, START + 3 * HOUR))
    assert [(t - START) // HOUR for t in hourly] == [1, 2, 3]


def test_interval_schedule() -> None:
    sched = IntervalSchedule(8, ((START + DAY, 4), (START + 2 * DAY, 1)))
    assert sched.hours_at(START) == 8
    assert sched.hours_at(START + DAY) == 4
    assert sched.hours_at(START + 2 * DAY + 1) == 1


def test_flipping_funding() -> None:
    f = FlippingFunding(Decimal("0.0005"), Decimal("-0.0004"), START + 16 * HOUR)
    assert f.rate_at(START + 8 * HOUR) == Decimal("0.0005")
    assert f.rate_at(START + 16 * HOUR) == Decimal("-0.0004")
    g = FlippingFunding(Decimal("0.0005"), Decimal("-0.0003"), START, transition_ms=8 * HOUR)
    assert g.rate_at(START + 4 * HOUR) == Decimal("0.0001")


def test_noisy_funding_deterministic_and_mean_reverting() -> None:
    def make(seed: int) -> NoisyFunding:
        return NoisyFunding(Decimal("-0.0002"), Decimal("0.0001"), half_life_hours=24,
                            seed=seed, key="DOGE-funding")

    ts = [START + k * 8 * HOUR for k in range(600)]
    a_series = make(1)
    a = [a_series.rate_at(t) for t in ts]
    assert [make(1).rate_at(t) for t in ts[::50]] == a[::50]  # fresh instance per call
    b_series = make(1)
    b = [b_series.rate_at(t) for t in reversed(ts)][::-1]
    assert a == b
    assert a != [make(2).rate_at(t) for t in ts]
    mean = sum(a) / len(a)
    assert Decimal("-0.0003") < mean < Decimal("-0.0001")
    assert len(set(a)) > 500
    assert all(r == r.quantize(Decimal("0.00000001")) for r in a)


def test_noisy_funding_cap() -> None:
    f = NoisyFunding(Decimal("0"), Decimal("0.01"), half_life_hours=8, seed=1, key="x",
                     cap=Decimal("0.003"))
    rates = [f.rate_at(START + k * 8 * HOUR) for k in range(200)]
    assert max(rates) == Decimal("0.003") and min(rates) == Decimal("-0.003")


def _all_builtin_series() -> list[FundingSeries]:
    out: list[FundingSeries] = []
    for name in builtin_scenarios():
        out.extend(t.funding for t in load_scenario(name).build().plan.swaps.values())
    return out


SERIES = _all_builtin_series()


@settings(max_examples=300, deadline=None)
@given(idx=st.integers(min_value=0, max_value=len(SERIES) - 1),
       ts=st.integers(min_value=START - 400 * DAY, max_value=START + 400 * DAY))
def test_intervals_are_okx_intervals(idx: int, ts: int) -> None:
    series = SERIES[idx]
    assert series.interval_hours_at(ts) in FUNDING_INTERVALS
    nxt = next_settlement_ms(series, ts)
    assert ts < nxt <= ts + 8 * HOUR and nxt % HOUR == 0
    rate = series.rate_at(nxt)
    assert isinstance(rate, Decimal) and abs(rate) < Decimal("0.1")


@settings(max_examples=100, deadline=None)
@given(hours=st.sampled_from(FUNDING_INTERVALS),
       changes=st.lists(st.tuples(st.integers(0, 30 * DAY), st.sampled_from(FUNDING_INTERVALS)),
                        max_size=5),
       ts=st.integers(-DAY, 40 * DAY))
def test_schedules_stay_okx_intervals(hours: int, changes: list[tuple[int, int]], ts: int) -> None:
    sched = IntervalSchedule(hours, tuple((START + t, h) for t, h in changes))
    f = FixedFunding(Decimal("0.0001"), sched)
    assert f.interval_hours_at(START + ts) in FUNDING_INTERVALS
