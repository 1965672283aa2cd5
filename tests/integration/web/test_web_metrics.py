"""``/metrics``: the Operator's views at scrape time and the bus events, in the app's own
registry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from fastapi import FastAPI
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from web_operator_support import TOKEN, RecordingOperator, ScriptedOperator, api_client

from laicai.domain.enums import Direction
from laicai.engine.events import BotEvent, FundingBooked, RiskAlert
from laicai.engine.operator import PositionView
from laicai.execution.events import CarryOpened, CarryReset, NakedExposureAlert
from laicai.web import create_app

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TS = datetime(2026, 1, 9, tzinfo=UTC)


async def scrape(app: FastAPI) -> Samples:
    async with api_client(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(samples: Samples, name: str, labels: Mapping[str, str] | None = None) -> float:
    return samples[(name, frozenset((labels or {}).items()))]


def labels_of(p: PositionView, **extra: str) -> dict[str, str]:
    return {"position_id": str(p.id), "symbol": p.symbol, "direction": p.direction, **extra}


async def test_views_are_exposed_with_their_values(operator: RecordingOperator) -> None:
    samples = await scrape(create_app(operator, token=TOKEN, host="127.0.0.1"))
    status, positions = await operator.status(), await operator.positions()
    pnl = await operator.pnl()
    assert status.equity_usdt is not None
    assert value(samples, "laicai_operator_up") == 1
    assert value(samples, "laicai_equity_usdt") == float(status.equity_usdt)
    assert value(samples, "laicai_open_positions") == len(positions) == 3
    assert value(samples, "laicai_naked_exposure_usdt") == float(status.naked_usdt)
    assert value(samples, "laicai_api_requests_total") == status.health.api_requests
    assert value(samples, "laicai_api_errors_total") == status.health.api_errors
    assert value(samples, "laicai_loop_latency_seconds") == status.health.loop_latency_ms / 1000
    assert value(samples, "laicai_exchange_ok") == 1
    assert value(samples, "laicai_bot_state", {"laicai_bot_state": status.state}) == 1
    assert value(samples, "laicai_bot_state", {"laicai_bot_state": "PAUSED"}) == 0
    assert value(samples, "laicai_breaker_state", {"laicai_breaker_state": "ok"}) == 1
    assert value(samples, "laicai_bot_info", {"mode": "paper", "dry_run": "false"}) == 1
    assert value(samples, "laicai_funding_earned_usdt") == float(pnl.total.funding)
    assert value(samples, "laicai_pnl_usdt", {"period": "total", "component": "total"}) == float(
        pnl.total.total)
    for p in positions:
        assert p.margin_ratio is not None and p.okx_mgn_ratio is not None
        assert value(samples, "laicai_position_margin_ratio", labels_of(p)) == float(p.margin_ratio)
        assert value(samples, "laicai_position_okx_mgn_ratio", labels_of(p)) == float(
            p.okx_mgn_ratio)
        assert value(samples, "laicai_position_funding_earned_usdt", labels_of(p)) == float(
            p.breakdown.funding)
        assert value(samples, "laicai_position_pnl_usdt", labels_of(p)) == float(p.pnl_usdt)
        assert value(samples, "laicai_position_margin_threshold_ratio",
                     labels_of(p, rung="reset")) == float(p.reset_ratio)
        assert value(samples, "laicai_position_margin_level",
                     labels_of(p, level=p.margin_level)) == 1


async def test_series_follow_the_views(operator: RecordingOperator,
                                       scripted: ScriptedOperator) -> None:
    app = create_app(operator, token=TOKEN, host="127.0.0.1")
    before = await scrape(app)
    gone = scripted.open_positions[2]
    assert ("laicai_position_margin_ratio", frozenset(labels_of(gone).items())) in before
    async with api_client(app) as client:
        closed = await client.post("/api/positions/2/close",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert closed.status_code == 200
    scripted.state = "PAUSED"
    after = await scrape(app)
    assert ("laicai_position_margin_ratio", frozenset(labels_of(gone).items())) not in after
    assert value(after, "laicai_open_positions") == 2
    assert value(after, "laicai_bot_state", {"laicai_bot_state": "PAUSED"}) == 1
    assert value(after, "laicai_bot_state", {"laicai_bot_state": "IDLE"}) == 0


async def test_bus_events_are_counted_while_the_app_runs(operator: RecordingOperator,
                                                         scripted: ScriptedOperator) -> None:
    app = create_app(operator, token=TOKEN, host="127.0.0.1")
    events: list[BotEvent] = [
        CarryOpened(ts=TS, position_id=4, symbol="SOL-USDT", direction=Direction.SHORT,
                    base_qty=Decimal(3), spot_px=Decimal(180), perp_px=Decimal("180.2"),
                    fees_usdt=Decimal("0.54")),
        CarryReset(ts=TS, position_id=2, symbol="ETH-USDT", resets_count=2,
                   cost_usdt=Decimal("5.2"), base_qty=Decimal("1.5")),
        RiskAlert(ts=TS, level="WARN", message="margin falling"),
        RiskAlert(ts=TS, level="ERROR", message="exchange down"),
        NakedExposureAlert(ts=TS, position_id=2, symbol="ETH-USDT", naked_usdt=Decimal(150),
                           spot_base=Decimal("1.5"), perp_base=Decimal("1.45")),
        FundingBooked(ts=TS, position_id=1, symbol="BTC-USDT", funding_usdt=Decimal("1.25")),
        FundingBooked(ts=TS, position_id=3, symbol="DOGE-USDT", funding_usdt=Decimal("-0.5")),
    ]
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0)  # the feeder subscribes
        for event in events:
            scripted.bus.publish(event)
        for _ in range(100):
            samples = await scrape(app)
            if samples.get(("laicai_funding_booked_usdt", frozenset())) == 0.75:
                break
            await asyncio.sleep(0.01)
    assert value(samples, "laicai_funding_booked_usdt") == 0.75
    assert value(samples, "laicai_resets_total") == 1
    assert value(samples, "laicai_alerts_total", {"level": "WARN"}) == 1
    assert value(samples, "laicai_alerts_total", {"level": "ERROR"}) == 1
    assert value(samples, "laicai_naked_exposure_alerts_total") == 1
    assert value(samples, "laicai_events_total", {"type": "FundingBooked"}) == 2
    assert value(samples, "laicai_events_total", {"type": "CarryOpened"}) == 1


class _BrokenPositions(ScriptedOperator):
    async def positions(self) -> list[PositionView]:
        raise RuntimeError("store unavailable")


async def test_a_failing_view_does_not_break_the_scrape() -> None:
    broken = _BrokenPositions.sample()
    app = create_app(broken, token=None, host="127.0.0.1")
    samples = await scrape(app)
    assert value(samples, "laicai_operator_up") == 0
    assert value(samples, "laicai_scrape_errors_total") == 1
    assert value(samples, "laicai_equity_usdt") > 0
    assert not any(name == "laicai_position_margin_ratio" for name, _ in samples)


async def test_own_registry_not_the_global_one(operator: RecordingOperator) -> None:
    first = create_app(operator, token=None, host="127.0.0.1")
    second = create_app(operator, token=None, host="127.0.0.1")
    assert value(await scrape(first), "laicai_open_positions") == 3
    assert value(await scrape(second), "laicai_open_positions") == 3
    assert b"laicai_" not in generate_latest(REGISTRY)
