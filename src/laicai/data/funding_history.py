"""Real funding-rate history shipped with laicai, as typed rows.

The dataset is Binance USDT-perpetual funding, 2025-08-21 .. 2026-08-21 (see
``funding_2025_2026/PROVENANCE.md``): real market history used as a **stand-in for OKX**.
It is parsed once per process and cached; every accessor returns immutable tuples.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType

DATASET = "funding_2025_2026/binance_usdt_perps.csv.gz"
SOURCE_VENUE = "binance"
STAND_IN_NOTE = "Binance funding history (2025-08-21..2026-08-21) used as a stand-in for OKX"


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """One funding settlement of one perpetual."""

    ts_ms: int  # settlement time, epoch ms UTC (as published: a few ms after the hour)
    symbol: str  # canonical symbol, e.g. "BTC-USDT-PERP"
    rate: Decimal  # settled rate for one interval (0.0001 = 0.01 %)
    interval_hours: int  # length of the interval that ended at this settlement (8 or 4)
    mark_price: Decimal  # mark price at settlement, in the quote currency

    @property
    def base(self) -> str:
        """The base coin ("BTC")."""
        return self.symbol.split("-", 1)[0]

    @property
    def quote(self) -> str:
        """The quote / settle currency ("USDT")."""
        return self.symbol.split("-")[1]


def perp_symbol(coin: str, quote: str = "USDT") -> str:
    """Canonical symbol of a coin's perpetual in the dataset: ``BTC`` -> ``BTC-USDT-PERP``."""
    return f"{coin.upper()}-{quote.upper()}-PERP"


def _parse(text: str) -> dict[str, tuple[FundingRecord, ...]]:
    out: dict[str, list[FundingRecord]] = {}
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    expected = ["settlement_ts", "symbol", "rate_raw", "interval_hours", "mark_price"]
    if header != expected:
        raise ValueError(f"{DATASET}: unexpected columns {header}, expected {expected}")
    for ts, sym, rate, interval, mark in reader:
        rec = FundingRecord(int(ts), sys.intern(sym), Decimal(rate), int(interval), Decimal(mark))
        out.setdefault(rec.symbol, []).append(rec)
    for rows in out.values():
        rows.sort(key=lambda r: r.ts_ms)
    return {sym: tuple(rows) for sym, rows in sorted(out.items())}


@cache
def _by_symbol() -> Mapping[str, tuple[FundingRecord, ...]]:
    raw = resources.files("laicai.data").joinpath(DATASET).read_bytes()
    return MappingProxyType(_parse(gzip.decompress(raw).decode("utf-8")))


@cache
def load_funding_history() -> tuple[FundingRecord, ...]:
    """Every settlement of every perpetual, sorted by (symbol, ts_ms)."""
    return tuple(rec for rows in _by_symbol().values() for rec in rows)


def symbols() -> list[str]:
    """Canonical symbols in the dataset, sorted ("APT-USDT-PERP", ...)."""
    return list(_by_symbol())


def coins(quote: str = "USDT") -> list[str]:
    """Base coins that have a ``quote``-margined perpetual in the dataset."""
    suffix = f"-{quote.upper()}-PERP"
    return [s.removesuffix(suffix) for s in _by_symbol() if s.endswith(suffix)]


def history_for(coin_or_symbol: str, quote: str = "USDT") -> tuple[FundingRecord, ...]:
    """Settlements of one perpetual, oldest first; ``"BTC"`` or ``"BTC-USDT-PERP"``.

    Raises ``KeyError`` naming the available coins if the dataset does not cover it.
    """
    sym = coin_or_symbol if coin_or_symbol.endswith("-PERP") else perp_symbol(coin_or_symbol, quote)
    data = _by_symbol()
    try:
        return data[sym]
    except KeyError:
        raise KeyError(
            f"no funding history for {sym!r}; the dataset covers: {', '.join(coins(quote))}"
        ) from None


def time_range(coin_or_symbol: str | None = None) -> tuple[int, int]:
    """First and last settlement time (epoch ms) of one perpetual, or of the whole dataset."""
    if coin_or_symbol is not None:
        rows = history_for(coin_or_symbol)
        return rows[0].ts_ms, rows[-1].ts_ms
    all_rows = _by_symbol().values()
    return min(r[0].ts_ms for r in all_rows), max(r[-1].ts_ms for r in all_rows)
