"""The circuit breaker: losses in a row, daily loss, drawdown; resume and cool-down."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from risk_builders import NOW_MS, PARAMS, account

from laicai.risk import Alert, AlertLevel, BreakerState, ClosedCarry, TripBreaker
from laicai.risk.circuit_breaker import (
    consecutive_losses,
    daily_loss_usdt,
    evaluate,
    resume,
    utc_day_start_ms,
)

D = Decimal
DAY_START = utc_day_start_ms(NOW_MS)
ARMED = BreakerState()
CALM = replace(PARAMS, daily_loss_limit_usdt=D(10) ** 9)  # only the streak can trip


def closes(*pnls: str, start: int = NOW_MS - 10_000) -> list[ClosedCarry]:
    return [ClosedCarry(i, D(p), start + i) for i, p in enumerate(pnls)]


def test_the_utc_day_starts_at_midnight() -> None:
    assert datetime.fromtimestamp(DAY_START / 1000, UTC) == datetime(2025, 6, 15, tzinfo=UTC)


def test_it_trips_exactly_at_the_third_loss_in_a_row() -> None:
    state, cmds = evaluate(ARMED, closes("-1", "-1"), account(), PARAMS, NOW_MS)
    assert not state.tripped and cmds == []
    state, cmds = evaluate(ARMED, closes("-1", "-1", "-1"), account(), PARAMS, NOW_MS)
    assert state.tripped and state.tripped_ms == NOW_MS
    (trip,) = cmds
    assert isinstance(trip, TripBreaker) and "3 losing closes in a row" in trip.reason


def test_a_win_or_a_flat_close_ends_the_streak() -> None:
    assert consecutive_losses(closes("-1", "-1", "5", "-1", "-1")) == 2
    assert consecutive_losses(closes("-1", "-1", "0", "-1")) == 1
    assert consecutive_losses(closes()) == 0


def test_the_streak_follows_close_time_not_list_order() -> None:
    shuffled = list(reversed(closes("5", "-1", "-1", "-1")))
    assert consecutive_losses(shuffled) == 3


def test_daily_loss_trips_at_the_limit() -> None:
    today = closes("-300", "250", "-450", start=DAY_START)  # -500, one win between
    state, _ = evaluate(ARMED, today, account(), PARAMS, NOW_MS)
    assert state.tripped and "lost 500 USDT today" in state.reason
    almost = closes("-300", "250", "-449.99", start=DAY_START)
    assert not evaluate(ARMED, almost, account(), PARAMS, NOW_MS)[0].tripped


def test_yesterdays_losses_do_not_count_today() -> None:
    yesterday = [ClosedCarry(1, D(-400), DAY_START - 1), ClosedCarry(2, D(200), DAY_START)]
    books = account(realized_pnl_today_usdt=D(200))
    assert daily_loss_usdt(yesterday, books, None, NOW_MS) == D(-200)  # a gain today
    assert not evaluate(ARMED, yesterday + closes("-299"), account(), CALM, NOW_MS)[0].tripped


def test_the_accounts_realized_pnl_today_counts_when_worse() -> None:
    books = account(realized_pnl_today_usdt=D(-500))  # funding and fees lost too
    assert daily_loss_usdt(closes("-100"), books, None, NOW_MS) == D(500)
    assert evaluate(ARMED, closes("-100"), books, PARAMS, NOW_MS)[0].tripped


def test_drawdown_from_the_peak_trips_at_the_limit() -> None:
    assert evaluate(ARMED, [], account(total_equity_usdt=D(170_000)), PARAMS, NOW_MS)[0].tripped
    assert not evaluate(ARMED, [], account(total_equity_usdt=D(170_001)), PARAMS,
                        NOW_MS)[0].tripped


def test_a_tripped_breaker_stays_tripped_and_quiet() -> None:
    tripped, _ = evaluate(ARMED, closes("-1", "-1", "-1"), account(), PARAMS, NOW_MS)
    later = NOW_MS + 86_400_000 * 3
    assert evaluate(tripped, closes("5"), account(), PARAMS, later) == (tripped, [])


def test_after_an_operator_resume_old_losses_no_longer_count() -> None:
    losses = closes("-300", "-300", "-300")
    poorer = account(total_equity_usdt=D(160_000), realized_pnl_today_usdt=D(-900))
    tripped, _ = evaluate(ARMED, losses, poorer, PARAMS, NOW_MS)
    assert tripped.tripped
    armed = resume(poorer, NOW_MS + 1)
    assert armed.peak_equity_usdt == D(160_000)
    state, cmds = evaluate(armed, losses, poorer, PARAMS, NOW_MS + 2)
    assert not state.tripped and cmds == []
    # new losses count again, from the resume on; the drawdown from the equity at the resume
    state, _ = evaluate(armed, [*losses, *closes("-1", "-1", "-1", start=NOW_MS + 10)], poorer,
                        PARAMS, NOW_MS + 20)
    assert state.tripped
    state, _ = evaluate(armed, losses, account(total_equity_usdt=D(136_000)), PARAMS, NOW_MS + 2)
    assert state.tripped and "drawdown 15.00%" in state.reason


def test_the_breakers_own_peak_rises_with_equity() -> None:
    armed = resume(account(total_equity_usdt=D(100_000)), NOW_MS)
    state, _ = evaluate(armed, [], account(total_equity_usdt=D(120_000)), PARAMS, NOW_MS + 1)
    assert state.peak_equity_usdt == D(120_000)
    state, _ = evaluate(state, [], account(total_equity_usdt=D(102_000)), PARAMS, NOW_MS + 2)
    assert state.tripped  # 15% below 120 000


def test_a_cool_down_re_arms_by_itself() -> None:
    params = replace(PARAMS, breaker_cooldown_ms=3_600_000)
    tripped, _ = evaluate(ARMED, closes("-1", "-1", "-1"), account(), params, NOW_MS)
    assert evaluate(tripped, [], account(), params, NOW_MS + 3_599_999)[0].tripped
    state, cmds = evaluate(tripped, closes("-1", "-1", "-1"), account(), params,
                           NOW_MS + 3_600_000)
    assert not state.tripped and state.since_ms == NOW_MS + 3_600_000
    (alert,) = cmds
    assert isinstance(alert, Alert) and alert.level is AlertLevel.INFO


@given(st.lists(st.integers(-100, 100), max_size=12), st.integers(1, 6))
def test_the_streak_trips_iff_the_last_n_closes_all_lost(pnls: list[int], n: int) -> None:
    params = replace(CALM, max_consecutive_losses=n)
    history = closes(*(str(p) for p in pnls))
    state, cmds = evaluate(ARMED, history, account(), params, NOW_MS)
    expected = len(pnls) >= n and all(p < 0 for p in pnls[-n:])
    assert state.tripped is expected
    assert (cmds != []) is expected


@given(st.lists(st.decimals(min_value=D(-400), max_value=D(400), places=2), max_size=8))
def test_the_daily_limit_trips_iff_todays_closes_lost_at_least_the_limit(
        pnls: list[Decimal]) -> None:
    params = replace(PARAMS, max_consecutive_losses=100)
    history = [ClosedCarry(i, p, DAY_START + i) for i, p in enumerate(pnls)]
    state, _ = evaluate(ARMED, history, account(), params, NOW_MS)
    assert state.tripped is (-sum(pnls, D(0)) >= D(500))
