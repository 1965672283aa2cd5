"""Exchange health: error rate, latency p95, WebSocket staleness, clock skew; the streak."""

from __future__ import annotations

from dataclasses import replace

import pytest
from risk_builders import NOW_MS, PARAMS

from laicai.risk import Alert, AlertLevel, ExchangeGuardState, ExchangeStats, PauseEntries
from laicai.risk.exchange_guard import evaluate, p95, problems

HEALTHY = ExchangeStats(window_ms=60_000, requests=100, errors=1,
                        latencies_ms=tuple(range(100, 200)), last_ws_message_ms=NOW_MS - 1_000,
                        clock_skew_ms=50)


def test_a_healthy_exchange_pauses_nothing() -> None:
    assert evaluate(ExchangeGuardState(), HEALTHY, PARAMS, NOW_MS) == (ExchangeGuardState(), [])


def test_p95_is_the_nearest_rank() -> None:
    assert p95(tuple(range(1, 101))) == 95
    assert p95((5, 1, 3)) == 5
    assert p95(()) is None


@pytest.mark.parametrize(("change", "unhealthy"), [
    ({"errors": 20}, False),                       # 20%: at the limit
    ({"errors": 21}, True),
    ({"requests": 9, "errors": 9}, False),         # too few requests for a rate
    ({"requests": 10, "errors": 3}, True),
    ({"latencies_ms": (2_000,) * 20}, False),
    ({"latencies_ms": (100,) * 18 + (2_001,) * 2}, True),   # p95 = the 19th of 20
    ({"latencies_ms": (100,) * 19 + (9_999,)}, False),
    ({"last_ws_message_ms": NOW_MS - 30_000}, False),
    ({"last_ws_message_ms": NOW_MS - 30_001}, True),
    ({"last_ws_message_ms": None}, True),
    ({"clock_skew_ms": -1_000}, False),
    ({"clock_skew_ms": -1_001}, True),
])
def test_each_signal_and_its_boundary(change: dict[str, object], unhealthy: bool) -> None:
    stats = replace(HEALTHY, **change)  # type: ignore[arg-type]
    assert bool(problems(stats, PARAMS, NOW_MS)) is unhealthy


def test_unhealthy_pauses_entries_for_a_while_each_time() -> None:
    sick = replace(HEALTHY, clock_skew_ms=5_000)
    state, cmds = evaluate(ExchangeGuardState(), sick, PARAMS, NOW_MS)
    assert state == ExchangeGuardState(1, False)
    (pause,) = cmds
    assert isinstance(pause, PauseEntries) and pause.until_ms == NOW_MS + 60_000
    assert "clock skew 5000 ms" in pause.reason


def test_persistent_failure_alerts_once_then_recovery_is_announced() -> None:
    sick = replace(HEALTHY, last_ws_message_ms=None)
    state = ExchangeGuardState()
    alerts = []
    for i in range(7):
        state, cmds = evaluate(state, sick, PARAMS, NOW_MS + i)
        alerts.append([c for c in cmds if isinstance(c, Alert)])
    assert [len(a) for a in alerts] == [0, 0, 0, 0, 1, 0, 0]
    assert alerts[4][0].level is AlertLevel.ERROR and "5 checks in a row" in alerts[4][0].message
    state, cmds = evaluate(state, HEALTHY, PARAMS, NOW_MS + 10)
    assert state == ExchangeGuardState()
    assert [c.level for c in cmds if isinstance(c, Alert)] == [AlertLevel.INFO]


def test_a_healthy_check_resets_the_streak() -> None:
    sick = replace(HEALTHY, errors=50)
    state = ExchangeGuardState(4, False)
    state, _ = evaluate(state, HEALTHY, PARAMS, NOW_MS)
    state, cmds = evaluate(state, sick, PARAMS, NOW_MS)
    assert state.failures_in_a_row == 1 and not any(isinstance(c, Alert) for c in cmds)


def test_errors_cannot_exceed_requests() -> None:
    with pytest.raises(ValueError):
        ExchangeStats(window_ms=1, requests=1, errors=2)
