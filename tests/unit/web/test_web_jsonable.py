"""Engine values as JSON: exact decimals, UTC timestamps, enums by value."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.enums import Direction
from laicai.engine.events import DailyReport, PnlBreakdown, RiskAlert
from laicai.execution.events import CarryReset, ExecutionError
from laicai.web.jsonable import decimal_str, event_json, jsonable

TS = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_strings_are_exact_and_plain(value: Decimal) -> None:
    text = decimal_str(value)
    assert "e" not in text.lower()
    assert Decimal(text) == value


def test_decimal_strings_keep_their_digits() -> None:
    assert decimal_str(Decimal("0.10")) == "0.10"
    assert decimal_str(Decimal("1E+3")) == "1000"
    tiny = "-0.000000012345678901234567890"
    assert decimal_str(Decimal(tiny)) == tiny


def test_timestamps_are_utc_iso() -> None:
    east = timezone(timedelta(hours=8))
    assert jsonable(datetime(2026, 3, 1, 16, 30, tzinfo=east)) == "2026-03-01T08:30:00Z"
    assert jsonable(datetime(2026, 3, 1, 8, 30)) == "2026-03-01T08:30:00"


def test_containers_enums_and_odd_floats() -> None:
    assert jsonable({"d": Direction.LONG, "xs": (Decimal("1.5"), 2, None), 3: {1.5}}) == {
        "d": "LONG", "xs": ["1.5", 2, None], "3": [1.5]}
    assert jsonable(float("nan")) is None and jsonable(float("inf")) is None


def test_events_carry_their_type_and_every_field() -> None:
    reset = CarryReset(ts=TS, position_id=3, symbol="ETH-USDT", resets_count=2,
                       cost_usdt=Decimal("5.10"), base_qty=Decimal("1.5"))
    assert event_json(reset) == {"type": "CarryReset", "ts": "2026-03-01T08:30:00Z",
                                 "position_id": 3, "symbol": "ETH-USDT", "resets_count": 2,
                                 "cost_usdt": "5.10", "base_qty": "1.5"}
    report = DailyReport(ts=TS, day="2026-02-28", equity_usdt=Decimal(10050),
                         equity_change_usdt=Decimal("50.5"),
                         breakdown=PnlBreakdown(funding=Decimal(60), fees=Decimal("9.5")),
                         open_positions=2, details={"note": "ok"})
    body = event_json(report)
    assert body["breakdown"] == {"funding": "60", "earn": "0", "basis": "0", "fees": "9.5",
                                 "borrow": "0", "slippage": "0", "total": "50.5"}
    assert body["details"] == {"note": "ok"}
    for event in (reset, report, RiskAlert(ts=TS, level="WARN", message="m"),
                  ExecutionError(ts=TS, position_id=1, symbol="X", operation="open",
                                 message="boom", details={"code": "51008"})):
        body = event_json(event)
        assert set(body) == {"type"} | {f.name for f in dataclasses.fields(event)}
        json.dumps(body)  # JSON-safe as it is
