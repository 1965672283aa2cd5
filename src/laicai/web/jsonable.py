"""Engine values as JSON: Decimals as exact strings (never floats), datetimes in ISO 8601 UTC,
enums by value, dataclasses as objects. Used for bus events and the free-form latest scan."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from laicai.engine.events import BotEvent, PnlBreakdown

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def decimal_str(value: Decimal) -> str:
    """Exact and without exponent: ``Decimal('1E+2')`` -> ``'100'``, ``Decimal('0.10')`` ->
    ``'0.10'`` (the digits the engine holds)."""
    return format(value, "f")


def iso(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def jsonable(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return decimal_str(value) if value.is_finite() else str(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PnlBreakdown):
        out = _dataclass_fields(value)
        out["total"] = jsonable(value.total)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_fields(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _dataclass_fields(value: object) -> dict[str, JsonValue]:
    return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}  # type: ignore[arg-type]


def event_json(event: BotEvent) -> dict[str, JsonValue]:
    """``{"type": "CarryOpened", "ts": "...", "position_id": 1, ...}``: the class name and
    every field."""
    return {"type": type(event).__name__, **_dataclass_fields(event)}
