"""Entry slippage and depth vetoes; price spike detection and its boundaries."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from risk_builders import NOW_MS, PARAMS, opportunity

from laicai.risk import EntryDepth, PauseEntries, PriceSample, VetoCode
from laicai.risk.liquidity_guard import check_entry, detect_spike

D = Decimal
W = PARAMS.spike_window_ms  # 60 000
T0 = NOW_MS - 50_000


def test_a_good_entry_passes() -> None:
    assert check_entry(opportunity(), PARAMS) is None
    assert check_entry(opportunity(), PARAMS, EntryDepth(D("0.1"), D("0.1"))) is None


@pytest.mark.parametrize(("spot", "perp", "code"), [
    ("0.0021", "0.001", VetoCode.SLIPPAGE),
    ("0.001", "0.0021", VetoCode.SLIPPAGE),
    ("0.002", "0.002", None),  # at the limit
    (None, "0.001", VetoCode.DEPTH),
])
def test_either_leg_slipping_too_far_is_vetoed(spot: str | None, perp: str,
                                                code: VetoCode | None) -> None:
    o = opportunity(spot_entry_slippage=None if spot is None else D(spot),
                    perp_entry_slippage=D(perp))
    veto = check_entry(o, PARAMS)
    assert (veto.code if veto else None) is code


def test_a_thin_book_is_vetoed() -> None:
    veto = check_entry(opportunity(), PARAMS, EntryDepth(D("0.5"), D("0.09")))
    assert veto is not None and veto.code is VetoCode.DEPTH and "perp" in veto.reason
    twice = replace(PARAMS, min_depth_multiple=D(2))
    veto = check_entry(opportunity(), twice, EntryDepth(D("0.19"), D(1)))
    assert veto is not None and "spot" in veto.reason


def samples(*points: tuple[int, str]) -> list[PriceSample]:
    return [PriceSample(T0 + dt, D(px)) for dt, px in points]


def test_a_rise_past_the_limit_within_the_window_pauses_until_it_leaves_the_window() -> None:
    pause = detect_spike(samples((0, "100"), (10_000, "101"), (30_000, "103.01")), PARAMS,
                         NOW_MS)
    assert isinstance(pause, PauseEntries)
    assert pause.until_ms == T0 + 30_000 + W
    assert "+3.01%" in pause.reason


def test_a_fall_is_a_spike_too() -> None:
    pause = detect_spike(samples((0, "100"), (20_000, "96.9")), PARAMS, NOW_MS)
    assert pause is not None and pause.until_ms == T0 + 20_000 + W


def test_a_move_of_exactly_the_limit_is_not_a_spike() -> None:
    assert detect_spike(samples((0, "100"), (30_000, "103")), PARAMS, NOW_MS) is None
    assert detect_spike(samples((0, "100"), (30_000, "97")), PARAMS, NOW_MS) is None


def test_the_window_is_inclusive() -> None:
    now = T0 + W + 1
    assert detect_spike(samples((0, "100"), (W, "110")), PARAMS, now) is not None
    assert detect_spike(samples((0, "100"), (W + 1, "110")), PARAMS, now) is None


def test_the_pause_ends_when_the_spike_leaves_the_window() -> None:
    points = samples((0, "100"), (1_000, "105"))
    end = T0 + 1_000 + W
    assert detect_spike(points, PARAMS, end - 1) is not None
    assert detect_spike(points, PARAMS, end) is None


def test_the_latest_spike_sets_the_pause() -> None:
    points = samples((0, "100"), (1_000, "104"), (40_000, "100"), (45_000, "101.5"))
    pause = detect_spike(points, PARAMS, NOW_MS)
    assert pause is not None and pause.until_ms == T0 + 40_000 + W  # 104 -> 100: -3.85%


def test_future_samples_and_order_do_not_matter() -> None:
    points = samples((30_000, "103.5"), (0, "100"))
    assert detect_spike(points, PARAMS, NOW_MS) is not None
    assert detect_spike(points, PARAMS, T0 + 10_000) is None  # the 103.5 is in the future
    assert detect_spike([], PARAMS, NOW_MS) is None


def brute_force(points: list[PriceSample], now: int) -> int | None:
    seen = sorted((p for p in points if p.ts_ms <= now), key=lambda p: p.ts_ms)
    ends = [b.ts_ms for i, a in enumerate(seen) for b in seen[i + 1:]
            if b.ts_ms - a.ts_ms <= W and abs(b.price - a.price) / a.price > PARAMS.spike_pct]
    if not ends or max(ends) + W <= now:
        return None
    return max(ends) + W


@given(st.lists(st.tuples(st.integers(0, 200_000),
                          st.decimals(min_value=D(90), max_value=D(110), places=1)),
                max_size=30),
       st.integers(0, 260_000))
def test_the_linear_scan_agrees_with_checking_every_pair(points: list[tuple[int, Decimal]],
                                                          now: int) -> None:
    ps = [PriceSample(t, px) for t, px in points]
    pause = detect_spike(ps, PARAMS, now)
    assert (None if pause is None else pause.until_ms) == brute_force(ps, now)
