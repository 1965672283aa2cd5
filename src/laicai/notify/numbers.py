"""Decimals as a trader reads them: prices to a precision that fits their size, USDT to cents,
rates and APRs as percentages, quantities without trailing zeros, thousands separated.

Rounding is half-up (what people expect on a statement), never binary floating point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

NONE_TEXT = "—"
_MAX_QTY_DP = 8


def _fixed(value: Decimal, dp: int, *, signed: bool = False) -> str:
    q = value.quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP)
    if q.is_zero():
        q = abs(q)  # never print "-0.00"
    text = f"{q:,.{dp}f}"
    if signed and q > 0:
        text = "+" + text
    return text


def price(value: Decimal | None) -> str:
    """65432.1 -> ``65,432.10``; 3.456789 -> ``3.4568``; 0.000123456 -> ``0.00012346``
    (five significant digits below 1)."""
    if value is None:
        return NONE_TEXT
    magnitude = abs(value)
    if magnitude >= 1000:
        dp = 2
    elif magnitude >= 1:
        dp = 4
    elif magnitude.is_zero():
        dp = 2
    else:
        dp = min(-magnitude.adjusted() + 4, 12)
    return _fixed(value, dp)


def usdt(value: Decimal | None, *, signed: bool = False) -> str:
    """USDT to two decimals, ``signed`` puts a ``+`` on gains (PnL lines)."""
    if value is None:
        return NONE_TEXT
    return _fixed(value, 2, signed=signed)


def pct(ratio: Decimal | None, dp: int = 2, *, signed: bool = False) -> str:
    """A ratio as a percentage: 0.1523 -> ``15.23%``."""
    if ratio is None:
        return NONE_TEXT
    return _fixed(ratio * 100, dp, signed=signed) + "%"


def funding_rate(rate: Decimal | None) -> str:
    """A per-interval funding rate the way OKX shows it: 0.0001 -> ``0.0100%``."""
    return pct(rate, 4)


def qty(value: Decimal | None, *, signed: bool = False) -> str:
    """A base quantity without trailing zeros, at most 8 decimals: 1500.50 -> ``1,500.5``."""
    if value is None:
        return NONE_TEXT
    q = value.quantize(Decimal(1).scaleb(-_MAX_QTY_DP), rounding=ROUND_HALF_UP).normalize()
    if q.is_zero():
        return "0"
    sign = "-" if q < 0 else ("+" if signed else "")
    digits = format(abs(q), "f")
    whole, _, frac = digits.partition(".")
    whole = f"{int(whole):,}"
    return sign + (f"{whole}.{frac}" if frac else whole)


def ratio_pct(value: Decimal | None) -> str:
    """Margin ratios (laicai's and OKX's ``mgnRatio``) as percentages with two decimals."""
    return pct(value, 2)


def utc_time(ts: datetime | None) -> str:
    """``2026-01-02 08:00 UTC`` (naive datetimes are taken as UTC)."""
    if ts is None:
        return NONE_TEXT
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
