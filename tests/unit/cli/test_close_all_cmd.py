"""``laicai close-all`` through typer's CliRunner against a simulator server holding a SHORT
carry (BTC, its coin in Simple Earn) and a LONG one (DOGE, its coin borrowed): with the
database and without, the confirmation, the second run, and the exit code when something is
left."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from laicai.cli.app import app
from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.engine.scan import scan_once
from laicai.execution.carry import CarryExecutor, ExecutionParams
from laicai.execution.orders import WallClock
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.sim.market import CurrencyTerms
from laicai.store import open_store
from laicai.store.states import PositionStatus
from laicai.strategy import ScanParams
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, make_exchange, server_in_thread
from laicai.venues.okx import OkxCredentials, create_exchange

D = Decimal


def venue() -> SimExchange:
    return make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={"BTC-USDT-SWAP": (D("0.0005"), 8), "DOGE-USDT-SWAP": (D("-0.0008"), 8)},
        currencies={"BTC": CurrencyTerms(earn_apr=D("0.02")),
                    "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
                    "USDT": CurrencyTerms(earn_apr=D("0.05"))})


async def open_carries(rest_url: str, db: Path) -> dict[str, int]:
    """A SHORT and a LONG carry, opened as the bot opens them, recorded in ``db``."""
    store = await open_store(DatabaseConfig(path=db), None)
    try:
        async with create_exchange(
                OkxConfig(rest_url=rest_url, sandbox_mode=False, enable_rate_limit=False),
                OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)) as okx:
            instruments = {i.inst_id: i for i in await okx.instruments()}
            fees = await okx.fee_rates()
            executor = CarryExecutor(okx, store, WallClock(), instruments=instruments,
                                     spot_fee_rate=fees.spot_taker, params=ExecutionParams())
            report = await scan_once(okx, ScanParams.from_settings(load_config(None, env={})))
            opened = {}
            for opp in report.result.accepted:
                pos = await executor.open(opp)
                assert pos.status is PositionStatus.OPEN
                opened[pos.symbol] = pos.id
    finally:
        await store.close()
    assert set(opened) == {"BTC", "DOGE"}
    return opened


async def statuses(db: Path) -> dict[str, tuple[PositionStatus, str | None]]:
    """Status and close reason of the database's two positions, by coin."""
    store = await open_store(DatabaseConfig(path=db), None)
    try:
        out = {}
        for pid in (1, 2):
            pos = await store.get_position(pid)
            assert pos is not None
            out[pos.symbol] = (pos.status, pos.close_reason)
        return out
    finally:
        await store.close()


def flat(ex: SimExchange) -> bool:
    acct = ex.accounts["main"]
    return (not acct.open_orders and all(p.pos == 0 for p in acct.positions.values())
            and all(v == 0 for v in acct.savings.values())
            and all(b.liab == 0 for b in acct.trading.values()))


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[SimExchange, Path, Path]]:
    """The venue (both carries open), its config file and the database path."""
    ex = venue()
    db = tmp_path / "laicai.db"
    with server_in_thread(ex, rate_limits=False) as srv:
        cfg = tmp_path / "config.yml"
        cfg.write_text(f"mode: paper\nokx:\n  rest_url: {srv.rest_url}\n"
                       "  enable_rate_limit: false\n"
                       f"database:\n  path: {db}\nlogging:\n  file: null\n")
        monkeypatch.setenv("LAICAI_OKX_API_KEY", API_KEY)
        monkeypatch.setenv("LAICAI_OKX_SECRET_KEY", SECRET)
        monkeypatch.setenv("LAICAI_OKX_PASSPHRASE", PASSPHRASE)
        asyncio.run(open_carries(srv.rest_url, db))
        assert not flat(ex)
        yield ex, cfg, db


def test_help_names_the_options(runner: CliRunner) -> None:
    out = runner.invoke(app, ["close-all", "--help"])
    assert out.exit_code == 0
    for word in ("--yes", "--no-db", "--config", "EMERGENCY"):
        assert word in out.output


def test_close_all_with_the_database_flattens_and_closes_the_records(
        runner: CliRunner, served: tuple[SimExchange, Path, Path]) -> None:
    ex, cfg, db = served
    out = runner.invoke(app, ["close-all", "--yes", "--config", str(cfg)])
    assert out.exit_code == 0, out.output
    assert flat(ex)
    text = out.output
    assert "FLAT" in text and "NOT FLAT" not in text
    assert "redeemed" in text and "Simple Earn" in text and "repaid" in text
    assert "BTC" in text and "DOGE" in text and "closed (close-all)" in text
    assert asyncio.run(statuses(db)) == {"BTC": (PositionStatus.CLOSED, "close-all"),
                                         "DOGE": (PositionStatus.CLOSED, "close-all")}
    orders = len(ex.accounts["main"].orders)
    again = runner.invoke(app, ["close-all", "--yes", "--config", str(cfg)])
    assert again.exit_code == 0, again.output
    assert "Nothing to do" in again.output and "FLAT" in again.output
    assert len(ex.accounts["main"].orders) == orders


def test_close_all_without_the_database_leaves_the_records_alone(
        runner: CliRunner, served: tuple[SimExchange, Path, Path]) -> None:
    ex, cfg, db = served
    out = runner.invoke(app, ["close-all", "--yes", "--no-db", "--config", str(cfg)])
    assert out.exit_code == 0, out.output
    assert flat(ex)
    assert "no database" in out.output and "FLAT" in out.output
    assert asyncio.run(statuses(db)) == {"BTC": (PositionStatus.OPEN, None),
                                         "DOGE": (PositionStatus.OPEN, None)}


def test_close_all_asks_before_it_closes_anything(
        runner: CliRunner, served: tuple[SimExchange, Path, Path]) -> None:
    ex, cfg, _ = served
    orders = len(ex.accounts["main"].orders)
    no = runner.invoke(app, ["close-all", "--config", str(cfg)], input="n\n")
    assert no.exit_code == 1
    assert "Close EVERYTHING" in no.output and "Aborted" in no.output
    assert len(ex.accounts["main"].orders) == orders and not flat(ex)
    yes = runner.invoke(app, ["close-all", "--config", str(cfg)], input="y\n")
    assert yes.exit_code == 0, yes.output
    assert flat(ex)


def test_close_all_exits_non_zero_when_something_is_left(
        runner: CliRunner, served: tuple[SimExchange, Path, Path]) -> None:
    ex, cfg, db = served
    ex.faults.add(Fault("reject", endpoint="trade/order", inst_id="DOGE-USDT", code="51155",
                        count=None))  # DOGE spot suspended: the LONG cannot be bought back
    out = runner.invoke(app, ["close-all", "--yes", "--config", str(cfg)])
    assert out.exit_code == 3, out.output
    assert "NOT FLAT" in out.output and "DOGE" in out.output
    acct = ex.accounts["main"]
    assert acct.positions["BTC-USDT-SWAP"].pos == 0  # the SHORT was closed all the same
    assert acct.positions["DOGE-USDT-SWAP"].pos != 0  # the LONG stays hedged
    assert asyncio.run(statuses(db)) == {"BTC": (PositionStatus.CLOSED, "close-all"),
                                         "DOGE": (PositionStatus.CLOSING, "close-all")}
    ex.faults.clear()
    again = runner.invoke(app, ["close-all", "--yes", "--config", str(cfg)])
    assert again.exit_code == 0, again.output
    assert flat(ex)
    assert asyncio.run(statuses(db))["DOGE"] == (PositionStatus.CLOSED, "close-all")
