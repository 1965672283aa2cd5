"""The shipped funding history: complete, typed, cached, faithful to the source CSV."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from laicai.data import funding_history as fh

SOURCE = Path("/work/shared/data/funding_2025_2026/binance.csv")


def test_loads_usdt_perps_only() -> None:
    rows = fh.load_funding_history()
    assert len(rows) == 27019
    assert len(fh.symbols()) == 21
    assert all(s.endswith("-USDT-PERP") for s in fh.symbols())
    assert {"BTC", "ETH", "SOL", "XRP", "DOGE", "WIF"} <= set(fh.coins())


def test_typed_rows_and_cache() -> None:
    btc = fh.history_for("BTC")
    assert btc is fh.history_for("BTC-USDT-PERP")  # cached, same tuple
    assert fh.load_funding_history() is fh.load_funding_history()
    first = btc[0]
    assert isinstance(first.rate, Decimal) and isinstance(first.mark_price, Decimal)
    assert first == fh.FundingRecord(
        ts_ms=1755763200000, symbol="BTC-USDT-PERP", rate=Decimal("0.00007757"),
        interval_hours=8, mark_price=Decimal("113836.8"),
    )
    assert first.base == "BTC" and first.quote == "USDT"
    assert [r.ts_ms for r in btc] == sorted(r.ts_ms for r in btc)
    assert {r.interval_hours for r in fh.load_funding_history()} == {4, 8}


def test_unknown_coin_names_available() -> None:
    with pytest.raises(KeyError, match="BTC"):
        fh.history_for("NOPE")


def test_interval_change_is_in_the_data() -> None:
    wif = fh.history_for("WIF")
    day = [r for r in wif if r.ts_ms // 86_400_000 == 20628]  # 2026-06-24
    assert [r.interval_hours for r in day] == [4, 8, 4, 4, 4]


def test_time_range() -> None:
    first, last = fh.time_range()
    assert dt.datetime.fromtimestamp(first / 1000, dt.UTC).date() == dt.date(2025, 8, 21)
    assert dt.datetime.fromtimestamp(last / 1000, dt.UTC).date() == dt.date(2026, 8, 21)


@pytest.mark.skipif(not SOURCE.exists(), reason="source CSV not present")
def test_matches_source_csv() -> None:
    with SOURCE.open(newline="") as f:
        src = [r for r in csv.DictReader(f) if r["canonical_symbol"].endswith("-USDT-PERP")]
    assert len(src) == len(fh.load_funding_history())
    ours = {(r.symbol, r.ts_ms): r for r in fh.load_funding_history()}
    for r in src:
        ts = dt.datetime.fromisoformat(r["settlement_ts"])
        ms = (ts - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
        rec = ours[(r["canonical_symbol"], ms)]
        assert rec.rate == Decimal(r["rate_raw"])
        assert rec.mark_price == Decimal(r["mark_price"])
        assert rec.interval_hours == int(float(r["interval_hours"]))
