"""The scan, end to end through the real ccxt against the simulator: known books and rates give
the expected numbers (recomputed here from the venue's own books) and ranking; LONG only where
the coin can be borrowed; 100+ instruments scanned under OKX's real rate limits without 50011."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from laicai.cli.app import app
from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.domain.enums import Direction
from laicai.engine.scan import scan_once
from laicai.sim.market import CurrencyTerms
from laicai.sim.server.app import SimServer
from laicai.store import open_store
from laicai.strategy import RejectReason, ScanParams
from laicai.testing.sim import (
    API_KEY,
    PASSPHRASE,
    SECRET,
    make_exchange,
    server_in_thread,
)
from laicai.venues.okx import OkxCredentials, create_exchange

D = Decimal
CREDS = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)
HOLDING_DAYS = D(7)


def venue():  # type: ignore[no-untyped-def]
    return make_exchange(
        prices={"BTC": D(60000), "ETH": D(3000), "DOGE": D("0.2"), "XRP": D("0.5")},
        funding={"BTC-USDT-SWAP": (D("0.0003"), 8), "ETH-USDT-SWAP": (D("0.0002"), 4),
                 "DOGE-USDT-SWAP": (D("-0.0004"), 1), "XRP-USDT-SWAP": (D("-0.0005"), 8)},
        currencies={
            "BTC": CurrencyTerms(earn_apr=D("0.01")),
            "ETH": CurrencyTerms(earn_apr=D("0.02")),
            "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
            "XRP": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(0)),  # not borrowable
        },
    )


def walk(levels: list[list[Decimal]], qty: Decimal) -> Decimal:
    """VWAP of ``qty`` taken from ``levels`` (best first), computed independently."""
    left, cost = qty, D(0)
    for px, sz in levels:
        take = min(sz, left)
        cost += take * px
        left -= take
        if left == 0:
            return cost / qty
    raise AssertionError("book too thin for the test")


async def test_scan_numbers_ranking_and_borrowability(tmp_path: Path) -> None:
    ex = venue()
    params = ScanParams.from_settings(load_config(None, env={}))
    # snapshot the venue's books before the scan: the scan reads, it does not trade
    books = {i: ex.book(i) for i in ex.instruments}
    asks = {i: [lv[:] for lv in b.asks] for i, b in books.items()}
    bids = {i: [lv[:] for lv in b.bids] for i, b in books.items()}
    store = await open_store(DatabaseConfig(path=tmp_path / "scan.db"), None)
    async with SimServer(ex) as srv, create_exchange(
            OkxConfig(rest_url=srv.rest_url, sandbox_mode=False), CREDS) as okx:
        report = await scan_once(okx, params, store)
    result = report.result
    by = {o.swap_inst_id: o for o in result.opportunities}
    assert set(by) == {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP", "XRP-USDT-SWAP"}

    # funding APR from the real interval: 8 h, 4 h, 1 h
    assert by["BTC-USDT-SWAP"].funding_apr == D("0.0003") * 8760 / 8
    assert by["ETH-USDT-SWAP"].funding_apr == D("0.0002") * 8760 / 4
    assert by["DOGE-USDT-SWAP"].funding_apr == D("0.0004") * 8760  # earned by the long perp
    assert by["DOGE-USDT-SWAP"].direction is Direction.LONG
    assert by["BTC-USDT-SWAP"].direction is Direction.SHORT

    # LONG only where the coin can be borrowed
    doge, xrp = by["DOGE-USDT-SWAP"], by["XRP-USDT-SWAP"]
    assert doge.accepted
    # OKX quotes an hourly rate with limited digits; x 8760 gives back the APR closely
    assert doge.borrow_apr == pytest.approx(D("0.10"), rel=D("1e-12"))
    assert not xrp.accepted
    assert xrp.reject_reason in (RejectReason.NOT_BORROWABLE, RejectReason.BORROW_LIMIT)

    for o in result.accepted:
        assert o.spot_inst_id is not None and o.swap_contracts is not None
        assert o.base_qty is not None and o.spot_entry_slippage is not None
        spot, swap = o.spot_inst_id, o.swap_inst_id
        inst = ex.instruments[swap]
        # the two legs hold the same base quantity
        assert o.swap_contracts * inst.ct_val == o.base_qty
        # entry slippage of both legs, walked here on the venue's own books
        if o.direction is Direction.SHORT:
            spot_levels, perp_levels = asks[spot], bids[swap]
            spot_qty = o.spot_entry_qty or o.base_qty
        else:
            spot_levels, perp_levels = bids[spot], asks[swap]
            spot_qty = o.base_qty
        best_spot, best_perp = spot_levels[0][0], perp_levels[0][0]
        spot_slip = abs(walk(spot_levels, spot_qty) - best_spot) / best_spot
        perp_slip = abs(walk(perp_levels, o.swap_contracts) - best_perp) / best_perp
        assert o.spot_entry_slippage == pytest.approx(spot_slip, rel=D("1e-9"), abs=D("1e-15"))
        assert o.perp_entry_slippage == pytest.approx(perp_slip, rel=D("1e-9"), abs=D("1e-15"))
        # taker fees of the four trades at the account's VIP0 rates (spot 0.1%, swap 0.05%)
        assert o.fees_usdt is not None and o.notional_usdt is not None
        approx_fees = o.notional_usdt * (D("0.001") * 2 + D("0.0005") * 2)
        assert o.fees_usdt == pytest.approx(approx_fees, rel=D("0.01"))
        # net APR per ARCHITECTURE.md, costs amortised over the expected holding period
        assert o.round_trip_cost_fraction is not None and o.net_apr is not None
        expected = (o.funding_apr + o.earn_apr - o.borrow_apr
                    - o.round_trip_cost_fraction * 365 / HOLDING_DAYS)
        assert o.net_apr == pytest.approx(expected, rel=D("1e-12"))
    # ranking: accepted first, by net APR
    nets = [o.net_apr for o in result.accepted]
    assert nets == sorted(nets, reverse=True)
    assert result.opportunities[: len(result.accepted)] == result.accepted
    # Earn yield only on SHORT
    assert by["ETH-USDT-SWAP"].earn_apr == D("0.02")
    assert doge.earn_apr == 0

    saved = await store.latest_scan()
    await store.close()
    assert saved is not None and saved.run.id == report.scan_id
    assert len(saved.rows) == 4
    assert {r.inst_id: r.accepted for r in saved.rows} == {
        o.swap_inst_id: o.accepted for o in result.opportunities}


@pytest.mark.slow
async def test_scanning_110_instruments_never_trips_the_rate_limit() -> None:
    coins = {f"C{n:03d}": D(10 + n) for n in range(110)}
    ex = make_exchange(prices=coins,
                       funding={f"{c}-USDT-SWAP": (D("0.0004"), 8) for c in coins},
                       currencies={})
    params = ScanParams.from_settings(load_config(None, env={}))
    async with SimServer(ex, rate_limits=True) as srv, create_exchange(
            OkxConfig(rest_url=srv.rest_url, sandbox_mode=False), CREDS) as okx:
        report = await scan_once(okx, params)
    assert report.books_fetched == 220  # both legs of every candidate
    assert len(report.result.opportunities) == 110
    assert srv.error_counts.get("50011", 0) == 0


def test_scan_command_prints_json_and_saves(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LAICAI_OKX_API_KEY", "LAICAI_OKX_SECRET_KEY", "LAICAI_OKX_PASSPHRASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    ex = venue()
    with server_in_thread(ex) as srv:
        cfg = tmp_path / "config.yml"
        cfg.write_text(f"mode: paper\nokx:\n  rest_url: {srv.rest_url}\n"
                       f"database:\n  path: {tmp_path / 'laicai.db'}\n"
                       "logging:\n  file: null\n")
        monkeypatch.setenv("LAICAI_OKX_API_KEY", API_KEY)
        monkeypatch.setenv("LAICAI_OKX_SECRET_KEY", SECRET)
        monkeypatch.setenv("LAICAI_OKX_PASSPHRASE", PASSPHRASE)
        out = CliRunner().invoke(app, ["scan", "--json", "--config", str(cfg)])
        assert out.exit_code == 0, out.output
        data = json.loads(out.output)
        table = CliRunner().invoke(app, ["scan", "--all", "--no-save", "--config", str(cfg)],
                                   env={"COLUMNS": "250"})
    assert data["candidates"] == 4
    assert data["scan_id"] == 1
    assert data["rejections"]
    top = data["opportunities"][0]
    assert top["accepted"] is True
    assert Decimal(top["net_apr"]) >= Decimal("0.15")
    assert (tmp_path / "laicai.db").exists()
    assert table.exit_code == 0, table.output
    assert "DOGE-USDT-SWAP" in table.output and "rejections by reason" in table.output


async def test_scan_runs_unchanged_on_the_calm_scenario() -> None:
    from laicai.sim.server.app import build_exchange

    ex, setup = build_exchange("calm", seed=None, speed=1.0, manual_clock=True)
    acct = setup.accounts[0]
    params = ScanParams.from_settings(load_config(None, env={}))
    creds = OkxCredentials.plain(acct.api_key, acct.secret_key, acct.passphrase)
    async with SimServer(ex) as srv, create_exchange(
            OkxConfig(rest_url=srv.rest_url, sandbox_mode=False), creds) as okx:
        report = await scan_once(okx, params)
    result = report.result
    assert len(result.opportunities) == len(setup.coins)
    assert report.venue_time_ms == setup.start_ms  # countdowns in the venue's time
    assert sum(result.reasons().values()) + len(result.accepted) == len(setup.coins)
    for o in result.opportunities:
        assert o.ms_to_next_funding > 0
        assert o.interval_hours in (1, 2, 4, 8)
