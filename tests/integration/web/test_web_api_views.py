"""The read API returns the Operator's views field for field, decimals as exact strings.

Expected values come from the operator itself, not from constants, so these tests hold for any
Operator (the engine's included)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from web_operator_support import (
    PRECISE_RATE,
    TOKEN,
    RecordingOperator,
    ScriptedOperator,
    api_client,
)

from laicai.engine.events import PnlBreakdown
from laicai.engine.operator import PositionView
from laicai.web import create_app


def assert_same(view: object, out: Any, where: str = "$") -> None:
    """``out`` (parsed JSON) is ``view``: every field, decimals exact and sent as strings."""
    if dataclasses.is_dataclass(view) and not isinstance(view, type):
        assert isinstance(out, dict), where
        for f in dataclasses.fields(view):
            assert_same(getattr(view, f.name), out[f.name], f"{where}.{f.name}")
        if isinstance(view, PnlBreakdown):
            assert_same(view.total, out["total"], f"{where}.total")
        if isinstance(view, PositionView):
            assert_same(view.pnl_usdt, out["pnl_usdt"], f"{where}.pnl_usdt")
    elif isinstance(view, Decimal):
        assert isinstance(out, str), f"{where}: {out!r} is not a string"
        assert "e" not in out.lower(), f"{where}: {out!r} uses an exponent"
        assert Decimal(out) == view, f"{where}: {out} != {view}"
        if view.as_tuple().exponent < 0:  # type: ignore[operator]
            assert Decimal(out).as_tuple().exponent == view.as_tuple().exponent, where
    elif isinstance(view, datetime):
        assert datetime.fromisoformat(out.replace("Z", "+00:00")) == view, where
    elif isinstance(view, tuple | list):
        assert isinstance(out, list) and len(out) == len(view), where
        for i, (v, o) in enumerate(zip(view, out, strict=True)):
            assert_same(v, o, f"{where}[{i}]")
    else:
        assert out == view, f"{where}: {out!r} != {view!r}"


Getter = Callable[[RecordingOperator], Awaitable[object]]



CASES: list[tuple[str, Getter]] = [
    ("/api/positions", lambda op: op.positions()),
    ("/api/pnl", lambda op: op.pnl()),
    ("/api/funding?limit=2", lambda op: op.funding(2)),
    ("/api/equity?limit=50", lambda op: op.equity_curve(50)),
    ("/api/resets", lambda op: op.resets(50)),
    ("/api/alerts?limit=1", lambda op: op.alerts(1)),
]


@pytest.mark.parametrize(("path", "getter"), CASES, ids=[c[0] for c in CASES])
async def test_views_are_served_field_for_field(operator: RecordingOperator, path: str,
                                                getter: Getter) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    expected = await getter(operator)
    assert expected, "the sample must not be empty, or the comparison proves nothing"
    assert_same(expected, response.json())


async def test_status_and_health(operator: RecordingOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        status = (await client.get("/api/status")).json()
        health = (await client.get("/api/health")).json()
    view = await operator.status()
    assert status.pop("controls_enabled") is True
    assert_same(view, status)
    assert_same(view.health, health)


async def test_status_says_controls_are_disabled_without_a_token(operator: RecordingOperator
                                                                 ) -> None:
    async with api_client(create_app(operator, token=None, host="127.0.0.1")) as client:
        assert (await client.get("/api/status")).json()["controls_enabled"] is False


async def test_decimals_keep_every_digit(operator: RecordingOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        positions = (await client.get("/api/positions")).json()
    assert positions[0]["funding_rate"] == "0.000123456789012345678901"
    assert Decimal(positions[0]["funding_rate"]) == PRECISE_RATE
    assert float(positions[0]["funding_rate"]) != PRECISE_RATE  # what a float would have lost


async def test_log_tail_and_its_length(operator: RecordingOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        body = (await client.get("/api/log", params={"lines": 5})).json()
    assert body == {"lines": operator.log_tail(5)}
    assert len(body["lines"]) == 5


async def test_latest_scan_is_json_with_decimal_strings(operator: RecordingOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        body = (await client.get("/api/scan")).json()
    scan = await operator.latest_scan()
    assert scan is not None
    assert body["scan"]["candidates"] == scan["candidates"]
    rows = body["scan"]["rows"]
    assert rows[0]["funding_apr"] == "0.2190" and rows[0]["direction"] == "SHORT"
    assert rows[1]["reason"] == "below min APR"
    assert datetime.fromisoformat(body["scan"]["ts"].replace("Z", "+00:00")) == scan["ts"]


async def test_no_scan_yet_is_null(scripted: ScriptedOperator) -> None:
    scripted.scan = None
    async with api_client(create_app(scripted, token=None, host="127.0.0.1")) as client:
        assert (await client.get("/api/scan")).json() == {"scan": None}


@pytest.mark.parametrize("path", ["/api/funding?limit=0", "/api/equity?limit=-1",
                                  "/api/alerts?limit=abc", "/api/log?lines=100000"])
async def test_bad_limits_are_rejected(operator: RecordingOperator, path: str) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        assert (await client.get(path)).status_code == 422


async def test_responses_are_not_cached_and_carry_security_headers(operator: RecordingOperator
                                                                   ) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        api = await client.get("/api/status")
        page = await client.get("/")
    assert api.headers["cache-control"] == "no-store"
    for response in (api, page):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in response.headers["content-security-policy"]
