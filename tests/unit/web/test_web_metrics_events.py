"""The metrics collector fed by bus events, in its own registry."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client import REGISTRY, CollectorRegistry

from laicai.engine.events import BotStateChanged, FundingBooked, RiskAlert
from laicai.execution.events import CarryReset, NakedExposureAlert
from laicai.web.metrics import MetricsCollector

TS = datetime(2026, 3, 1, tzinfo=UTC)


def sample(metrics: MetricsCollector, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_events_are_counted() -> None:
    metrics = MetricsCollector()
    for event in (
        CarryReset(ts=TS, position_id=1, symbol="BTC-USDT", resets_count=1,
                   cost_usdt=Decimal(4), base_qty=Decimal("0.1")),
        CarryReset(ts=TS, position_id=1, symbol="BTC-USDT", resets_count=2,
                   cost_usdt=Decimal(4), base_qty=Decimal("0.1")),
        RiskAlert(ts=TS, level="warn", message="x"),
        NakedExposureAlert(ts=TS, position_id=1, symbol="BTC-USDT", naked_usdt=Decimal(90),
                           spot_base=Decimal(1), perp_base=Decimal("0.99")),
        FundingBooked(ts=TS, position_id=1, symbol="BTC-USDT", funding_usdt=Decimal("2.5")),
        FundingBooked(ts=TS, position_id=1, symbol="BTC-USDT", funding_usdt=Decimal("-1")),
        BotStateChanged(ts=TS, old="IDLE", new="PAUSED"),
    ):
        metrics.observe(event)
    assert sample(metrics, "laicai_resets_total") == 2
    assert sample(metrics, "laicai_alerts_total", level="WARN") == 1
    assert sample(metrics, "laicai_naked_exposure_alerts_total") == 1
    assert sample(metrics, "laicai_funding_booked_usdt") == 1.5
    assert sample(metrics, "laicai_events_total", type="BotStateChanged") == 1
    assert sample(metrics, "laicai_events_total", type="CarryReset") == 2


def test_loop_latency_histogram() -> None:
    metrics = MetricsCollector()
    for seconds in (0.002, 0.02, 0.3):
        metrics.observe_loop_latency(seconds)
    assert sample(metrics, "laicai_loop_iteration_seconds_count") == 3
    assert sample(metrics, "laicai_loop_iteration_seconds_bucket", le="0.01") == 1
    assert abs((sample(metrics, "laicai_loop_iteration_seconds_sum") or 0) - 0.322) < 1e-9


def test_before_any_scrape_the_operator_is_not_up() -> None:
    metrics = MetricsCollector()
    text = metrics.render().decode()
    assert "laicai_operator_up 0.0" in text
    assert "laicai_equity_usdt" not in text


def test_registries_are_separate() -> None:
    registry = CollectorRegistry()
    first, second = MetricsCollector(registry), MetricsCollector()
    first.observe(RiskAlert(ts=TS, level="ERROR", message="x"))
    assert first.registry is registry
    assert sample(first, "laicai_alerts_total", level="ERROR") == 1
    assert sample(second, "laicai_alerts_total", level="ERROR") is None
    assert REGISTRY.get_sample_value("laicai_alerts_total", {"level": "ERROR"}) is None
