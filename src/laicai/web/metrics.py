"""Prometheus metrics in their own :class:`CollectorRegistry` (never the global one).

Two sources:

- the Operator's views, read at scrape time (:meth:`MetricsCollector.refresh`): equity, state,
  breaker, open positions, naked exposure, the engine's API request/error counters and loop
  latency, and one series per open carry (margin ratio vs its thresholds, OKX ``mgnRatio``,
  distance to liquidation, funding, Earn, PnL). A carry that closes simply stops appearing.
- bus events (:meth:`MetricsCollector.observe`): counters of events by type, resets, alerts by
  level, naked-exposure alerts and funding booked since start. The dashboard feeds them from
  ``Operator.subscribe()`` while it runs; the engine may add loop timings with
  :meth:`MetricsCollector.observe_loop_latency`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
)
from prometheus_client.registry import Collector

from laicai.engine.events import BotEvent, FundingBooked, RiskAlert
from laicai.engine.operator import Operator, PnlView, PositionView, StatusView
from laicai.engine.states import BotState
from laicai.execution.events import CarryReset, NakedExposureAlert

log = logging.getLogger(__name__)

BREAKER_STATES = ("ok", "tripped", "cooling_down")
MARGIN_LEVELS = ("SWEEP", "OK", "TOPUP", "RESET", "EMERGENCY")
POSITION_LABELS = ("position_id", "symbol", "direction")


def _f(value: Decimal | None) -> float:
    return float("nan") if value is None else float(value)


@dataclass(slots=True)
class _Views:
    status: StatusView | None = None
    positions: list[PositionView] = field(default_factory=list)
    pnl: PnlView | None = None
    ok: bool = False


class _ViewCollector(Collector):
    """Turns the views of the last refresh into metric families when the registry is read."""

    def __init__(self, owner: MetricsCollector) -> None:
        self._owner = owner

    def describe(self) -> Iterable[Metric]:
        return ()  # unchecked: the families depend on the views

    def collect(self) -> Iterator[Metric]:
        views = self._owner.views
        yield GaugeMetricFamily("laicai_operator_up",
                                "1 when the last scrape read every view from the operator",
                                value=1.0 if views.ok else 0.0)
        if views.status is not None:
            yield from _status_families(views.status)
        if views.pnl is not None:
            yield from _pnl_families(views.pnl)
        yield from _position_families(views.positions)


def _status_families(s: StatusView) -> Iterator[Metric]:
    states = {state.value: state.value == s.state for state in BotState}
    if s.state not in states:
        states[s.state] = True
    yield StateSetMetricFamily("laicai_bot_state", "the bot's state", value=states)
    breakers = {b: b == s.breaker for b in BREAKER_STATES}
    if s.breaker not in breakers:
        breakers[s.breaker] = True
    yield StateSetMetricFamily("laicai_breaker_state", "the circuit breaker", value=breakers)
    yield InfoMetricFamily("laicai_bot", "how the bot runs",
                           value={"mode": s.mode, "dry_run": str(s.dry_run).lower()})
    yield GaugeMetricFamily("laicai_entries_paused", "1 while new entries are paused",
                            value=0.0 if s.entries_paused is None else 1.0)
    yield GaugeMetricFamily("laicai_equity_usdt", "account equity, USDT", value=_f(s.equity_usdt))
    yield GaugeMetricFamily("laicai_peak_equity_usdt", "highest equity seen, USDT",
                            value=_f(s.peak_equity_usdt))
    yield GaugeMetricFamily("laicai_open_positions", "open carries", value=float(s.open_positions))
    yield GaugeMetricFamily("laicai_naked_exposure_usdt",
                            "|spot base - perp base| x price over all carries, USDT",
                            value=_f(s.naked_usdt))
    h = s.health
    yield GaugeMetricFamily("laicai_exchange_ok", "1 when the exchange is healthy",
                            value=1.0 if h.exchange_ok else 0.0)
    yield GaugeMetricFamily("laicai_health_problems", "open health problems",
                            value=float(len(h.problems)))
    yield CounterMetricFamily("laicai_api_requests", "requests sent to the exchange",
                              value=float(h.api_requests))
    yield CounterMetricFamily("laicai_api_errors", "exchange requests that failed",
                              value=float(h.api_errors))
    yield GaugeMetricFamily("laicai_loop_latency_seconds", "the engine loop's latest latency",
                            value=h.loop_latency_ms / 1000.0)
    if h.last_ws_message is not None:
        yield GaugeMetricFamily("laicai_last_ws_message_timestamp_seconds",
                                "when the last WebSocket message arrived",
                                value=h.last_ws_message.timestamp())


def _pnl_families(p: PnlView) -> Iterator[Metric]:
    yield GaugeMetricFamily("laicai_funding_earned_usdt",
                            "funding earned by every carry, open and closed, USDT",
                            value=_f(p.total.funding))
    pnl = GaugeMetricFamily("laicai_pnl_usdt", "PnL by source, USDT (fees, borrow: paid)",
                            labels=["period", "component"])
    for period, b in (("total", p.total), ("today", p.today)):
        for component, value in (("funding", b.funding), ("earn", b.earn), ("basis", b.basis),
                                 ("fees", b.fees), ("borrow", b.borrow), ("total", b.total)):
            pnl.add_metric([period, component], _f(value))
    yield pnl
    yield GaugeMetricFamily("laicai_realized_pnl_usdt", "realized PnL, USDT",
                            value=_f(p.realized_usdt))
    yield GaugeMetricFamily("laicai_unrealized_pnl_usdt", "unrealized PnL, USDT",
                            value=_f(p.unrealized_usdt))


def _position_families(positions: list[PositionView]) -> Iterator[Metric]:
    def family(name: str, doc: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=[*POSITION_LABELS, *extra])

    margin = family("laicai_position_margin_ratio",
                    "laicai's margin ratio: equity backing the perp / perp notional")
    thresholds = family("laicai_position_margin_threshold_ratio",
                        "the margin ladder's thresholds of the carry", ("rung",))
    level = family("laicai_position_margin_level", "the carry's rung of the margin ladder",
                   ("level",))
    okx = family("laicai_position_okx_mgn_ratio", "OKX mgnRatio (liquidation at <= 1)")
    liq = family("laicai_position_liq_distance_ratio", "|mark - liqPx| / mark")
    funding = family("laicai_position_funding_earned_usdt", "funding earned by the carry, USDT")
    earn = family("laicai_position_earn_usdt", "Earn interest of the carry, USDT")
    pnl = family("laicai_position_pnl_usdt", "the carry's total PnL, USDT")
    naked = family("laicai_position_naked_usdt", "the carry's naked exposure, USDT")
    notional = family("laicai_position_notional_usdt", "perp notional, USDT")
    resets = family("laicai_position_resets", "resets of the carry")
    for p in positions:
        labels = [str(p.id), p.symbol, p.direction]
        margin.add_metric(labels, _f(p.margin_ratio))
        for rung, value in (("topup", p.topup_ratio), ("reset", p.reset_ratio),
                            ("emergency", p.emergency_ratio)):
            thresholds.add_metric([*labels, rung], _f(value))
        for lvl in MARGIN_LEVELS:
            level.add_metric([*labels, lvl], 1.0 if lvl == p.margin_level else 0.0)
        okx.add_metric(labels, _f(p.okx_mgn_ratio))
        liq.add_metric(labels, _f(p.liq_distance))
        funding.add_metric(labels, _f(p.breakdown.funding))
        earn.add_metric(labels, _f(p.breakdown.earn))
        pnl.add_metric(labels, _f(p.pnl_usdt))
        naked.add_metric(labels, _f(p.naked_usdt))
        notional.add_metric(labels, _f(p.notional_usdt))
        resets.add_metric(labels, float(p.resets_count))
    yield from (margin, thresholds, level, okx, liq, funding, earn, pnl, naked, notional, resets)


class MetricsCollector:
    """Everything ``/metrics`` shows. One per bot; pass it to :func:`laicai.web.create_app`
    (or let the app make one)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.views = _Views()
        r = self.registry
        self.events = Counter("laicai_events", "bus events seen, by type", ["type"], registry=r)
        self.resets = Counter("laicai_resets", "carry resets seen", registry=r)
        self.alerts = Counter("laicai_alerts", "risk alerts seen, by level", ["level"], registry=r)
        self.naked_alerts = Counter("laicai_naked_exposure_alerts",
                                    "naked-exposure alerts seen", registry=r)
        self.funding_booked = Gauge("laicai_funding_booked_usdt",
                                    "funding booked from bills since start, USDT", registry=r)
        self.loop_iterations = Histogram(
            "laicai_loop_iteration_seconds", "time of one engine loop iteration", registry=r,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
        self.scrape_errors = Counter("laicai_scrape_errors",
                                     "scrapes that could not read a view", registry=r)
        r.register(_ViewCollector(self))

    def observe(self, event: BotEvent) -> None:
        """Count one bus event (quick and never raising: fit for ``EventBus.listen``)."""
        self.events.labels(type(event).__name__).inc()
        if isinstance(event, CarryReset):
            self.resets.inc()
        elif isinstance(event, RiskAlert):
            self.alerts.labels(event.level.upper()).inc()
        elif isinstance(event, NakedExposureAlert):
            self.naked_alerts.inc()
        elif isinstance(event, FundingBooked):
            self.funding_booked.inc(float(event.funding_usdt))

    def observe_loop_latency(self, seconds: float) -> None:
        self.loop_iterations.observe(seconds)

    async def refresh(self, operator: Operator) -> None:
        """Read the views the scrape shows; a failing view is logged and counted, the others
        are still shown."""
        results = await asyncio.gather(operator.status(), operator.positions(), operator.pnl(),
                                       return_exceptions=True)
        status, positions, pnl = results
        views = _Views(ok=True)
        for name, result in zip(("status", "positions", "pnl"), results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                log.warning("metrics: reading %s failed: %r", name, result)
                views.ok = False
                self.scrape_errors.inc()
        views.status = status if isinstance(status, StatusView) else None
        views.positions = positions if isinstance(positions, list) else []
        views.pnl = pnl if isinstance(pnl, PnlView) else None
        self.views = views

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
