"""Column types that keep money exact and time zone-aware on SQLite and PostgreSQL alike.

- :class:`Amount`: ``NUMERIC(p, s)`` on PostgreSQL; on SQLite (which has no decimal type and
  would turn a NUMERIC column into floats) the exact decimal text in a ``TEXT`` column. Values
  are quantized to ``s`` places (half away from zero, as PostgreSQL does) on both, so both
  return the same ``Decimal``; a value with more integer digits than ``p - s`` is refused on
  both; floats are refused outright.
- :class:`UtcDateTime`: ``TIMESTAMP WITH TIME ZONE``; naive datetimes are refused, values are
  stored in UTC (naive UTC text on SQLite) and always come back aware, in UTC.
- :class:`EnumText`: a ``StrEnum`` stored as its value in a ``TEXT`` column (the CHECK
  constraint lives on the table, named, so migrations can see it).
- :data:`JsonDocument`: ``JSONB`` on PostgreSQL, ``JSON`` (text) on SQLite.

SQLite stores amounts as text: compare or sum them in Python, never with SQL arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

E = TypeVar("E", bound=StrEnum)


def quantize_amount(value: Decimal | int, precision: int, scale: int) -> Decimal:
    """``value`` rounded to ``scale`` places; ``ValueError`` if it does not fit NUMERIC(p, s)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"amounts must be Decimal (or int), not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"amount must be finite, got {number}")
    ctx = Context(prec=max(precision, len(number.as_tuple().digits)) + scale + 2)
    quantized = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=ctx)
    if quantized and quantized.adjusted() + 1 > precision - scale:
        raise ValueError(
            f"amount {number} does not fit NUMERIC({precision}, {scale}): "
            f"at most {precision - scale} digits before the point"
        )
    return quantized


class Amount(TypeDecorator[Decimal]):
    """An exact decimal amount: ``Amount(36, 18)`` by default."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 36, scale: int = 18) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        quantized = quantize_amount(value, self.precision, self.scale)
        return format(quantized, "f") if dialect.name == "sqlite" else quantized

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        # SQLite text (or a number written around this type, e.g. a server default): scaled
        # like PostgreSQL's NUMERIC(p, s), so both backends return the very same Decimal.
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
        return quantize_amount(number, self.precision, self.scale)


class UtcDateTime(TypeDecorator[datetime]):
    """A time zone-aware timestamp, stored in UTC and returned in UTC."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"timestamps must be datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give a time zone (UTC)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected timestamp value of type {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(TypeDecorator[E]):
    """A ``StrEnum`` member stored as its value.

    A plain ``str`` is passed through unchanged, so a wrong value reaches the table's CHECK
    constraint (and fails there) instead of being silently accepted by Python.
    """

    impl = Text
    cache_ok = True

    def __init__(self, enum_cls: type[E]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_cls(value)


JsonDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
"""A JSON document column type (JSONB on PostgreSQL)."""
