"""Exchange health (seed 000 exchange_guard: 交易所异常 / API 错误).

Each evaluation looks at :class:`ExchangeStats` for the last window and finds the connection
unhealthy when any of these holds:

- error rate ``errors / requests > max_error_rate``, once at least
  ``min_requests_for_error_rate`` requests were made (two errors in three calls is no rate);
- latency p95 (nearest rank) ``> max_latency_p95_ms``;
- the newest WebSocket message is older than ``max_ws_stale_ms`` (or none arrived yet);
- ``|clock skew| > max_clock_skew_ms`` (signed requests and funding times go wrong).

Unhealthy -> ``PauseEntries(until = now + exchange_pause_ms)``, renewed by every unhealthy
evaluation, so entries resume by themselves one pause after the exchange recovers. After
``exchange_failure_evaluations`` unhealthy evaluations in a row: one ``Alert(ERROR)``; the first
healthy evaluation after that alert sends ``Alert(INFO)``. The streak lives in
:class:`ExchangeGuardState`, a value passed in and returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from laicai.risk.commands import Alert, AlertLevel, Command, PauseEntries
from laicai.risk.params import RiskParams
from laicai.risk.state import ExchangeStats


@dataclass(frozen=True, slots=True)
class ExchangeGuardState:
    failures_in_a_row: int = 0
    alerted: bool = False


def p95(latencies_ms: tuple[int, ...]) -> int | None:
    """95th percentile by nearest rank: the smallest value with >= 95% of samples at or below."""
    if not latencies_ms:
        return None
    ordered = sorted(latencies_ms)
    rank = math.ceil(0.95 * len(ordered))
    return ordered[rank - 1]


def problems(stats: ExchangeStats, params: RiskParams, now_ms: int) -> list[str]:
    found: list[str] = []
    if stats.requests >= params.min_requests_for_error_rate:
        rate = Decimal(stats.errors) / Decimal(stats.requests)
        if rate > params.max_error_rate:
            found.append(f"error rate {rate:.1%} over {stats.window_ms} ms "
                         f"(limit {params.max_error_rate:.1%})")
    latency = p95(stats.latencies_ms)
    if latency is not None and latency > params.max_latency_p95_ms:
        found.append(f"latency p95 {latency} ms (limit {params.max_latency_p95_ms} ms)")
    last = stats.last_ws_message_ms
    if last is None:
        found.append("no WebSocket message yet")
    elif now_ms - last > params.max_ws_stale_ms:
        found.append(f"WebSocket silent for {now_ms - last} ms (limit {params.max_ws_stale_ms})")
    if abs(stats.clock_skew_ms) > params.max_clock_skew_ms:
        found.append(f"clock skew {stats.clock_skew_ms} ms (limit {params.max_clock_skew_ms})")
    return found


def evaluate(state: ExchangeGuardState, stats: ExchangeStats, params: RiskParams,
             now_ms: int) -> tuple[ExchangeGuardState, list[Command]]:
    found = problems(stats, params, now_ms)
    if not found:
        if state.alerted:
            return ExchangeGuardState(), [Alert(AlertLevel.INFO, "exchange healthy again")]
        return ExchangeGuardState(), []
    reason = "exchange unhealthy: " + "; ".join(found)
    streak = state.failures_in_a_row + 1
    commands: list[Command] = [PauseEntries(reason, now_ms + params.exchange_pause_ms)]
    alerted = state.alerted
    if streak >= params.exchange_failure_evaluations and not alerted:
        commands.append(Alert(AlertLevel.ERROR, f"{reason} ({streak} checks in a row)"))
        alerted = True
    return ExchangeGuardState(streak, alerted), commands
