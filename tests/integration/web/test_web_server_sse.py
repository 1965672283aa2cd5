"""The real server: uvicorn in this event loop on a free port; the live event stream over it."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from web_operator_support import TOKEN, RecordingOperator, ScriptedOperator

from laicai.domain.enums import Direction
from laicai.engine.events import PnlBreakdown, PositionClosed, RiskAlert
from laicai.execution.events import CarryOpened
from laicai.web import WebServer, WebServerError

TS = datetime(2026, 1, 9, 8, 0, tzinfo=UTC)
SECRET = "okx-secret-5e4d3c2b1a0f9e8d7c6b"


async def data_messages(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield json.loads(line[5:].strip())


async def test_serves_on_a_free_port_and_stops(operator: RecordingOperator) -> None:
    server = WebServer(operator, host="127.0.0.1", port=0, token=TOKEN)
    await server.start()
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/healthz")).json() == {"ok": True}
            page = await client.get("/")
            assert page.status_code == 200 and "<title>laicai" in page.text
        assert server.task is not None and not server.task.done()
    finally:
        await server.stop()
    assert server.task is None
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass
    await server.stop()  # stopping twice is harmless


async def test_a_busy_port_is_a_clear_error(operator: RecordingOperator) -> None:
    async with WebServer(operator, host="127.0.0.1", port=0) as first:
        second = WebServer(operator, host="127.0.0.1", port=first.port)
        with pytest.raises(WebServerError, match=f"127.0.0.1:{first.port}"):
            await second.start()


async def test_events_are_streamed_as_json(operator: RecordingOperator,
                                           scripted: ScriptedOperator) -> None:
    opened = CarryOpened(ts=TS, position_id=7, symbol="SOL-USDT", direction=Direction.SHORT,
                         base_qty=Decimal("3.000"), spot_px=Decimal("180.125"),
                         perp_px=Decimal("180.2"), fees_usdt=Decimal("0.000123456789012345678"),
                         funding_rate=Decimal("0.0003"), net_apr=None)
    closed = PositionClosed(ts=TS, position_id=7, symbol="SOL-USDT", direction=Direction.SHORT,
                            reason="exit", base_qty=Decimal(3),
                            breakdown=PnlBreakdown(funding=Decimal("4.5"), fees=Decimal("1.1")))
    leaky = RiskAlert(ts=TS, level="ERROR", message=f"auth failed with key {SECRET}")
    server = WebServer(operator, host="127.0.0.1", port=0, token=TOKEN, secrets=[SECRET])
    await server.start()
    try:
        async with (httpx.AsyncClient(base_url=server.url, timeout=5) as client,
                    client.stream("GET", "/api/events") as response, asyncio.timeout(10)):
            assert response.headers["content-type"].startswith("text/event-stream")
            messages = data_messages(response)
            assert (await anext(messages))["type"] == "StreamOpened"
            for event in (opened, closed, leaky):
                scripted.bus.publish(event)
            got = [await anext(messages) for _ in range(3)]
            started = time.monotonic()
            await server.stop()  # with the stream still open
            assert time.monotonic() - started < 3
            rest = [m async for m in messages]
    finally:
        await server.stop()
    assert got[0] == {
        "type": "CarryOpened", "ts": "2026-01-09T08:00:00Z", "position_id": 7,
        "symbol": "SOL-USDT", "direction": "SHORT", "base_qty": "3.000",
        "spot_px": "180.125", "perp_px": "180.2", "fees_usdt": "0.000123456789012345678",
        "funding_rate": "0.0003", "net_apr": None,
    }
    assert got[1]["type"] == "PositionClosed"
    assert got[1]["breakdown"] == {"funding": "4.5", "earn": "0", "basis": "0", "fees": "1.1",
                                   "borrow": "0", "slippage": "0", "total": "3.4"}
    assert got[2]["type"] == "RiskAlert" and SECRET not in got[2]["message"]
    assert got[2]["message"] == "auth failed with key ***"
    assert rest == []


async def test_events_also_feed_the_metrics(operator: RecordingOperator,
                                            scripted: ScriptedOperator) -> None:
    async with WebServer(operator, host="127.0.0.1", port=0) as server:
        for _ in range(100):  # the app's feeder subscribes during start-up
            if scripted.bus._subs:
                break
            await asyncio.sleep(0.01)
        scripted.bus.publish(RiskAlert(ts=TS, level="WARN", message="margin falling"))
        async with httpx.AsyncClient(base_url=server.url) as client:
            for _ in range(100):
                text = (await client.get("/metrics")).text
                if 'laicai_alerts_total{level="WARN"} 1.0' in text:
                    break
                await asyncio.sleep(0.01)
    assert 'laicai_alerts_total{level="WARN"} 1.0' in text
