"""``laicai status`` over a database holding positions, an equity snapshot and the engine's
run record ("running" only while the heartbeat is fresh), as a table and as JSON; ``--live``
against a simulator server; nothing secret in the output."""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from selfcheck_rig import KEYS_ENV, engine_row, open_carry, write_config
from typer.testing import CliRunner

from laicai.cli.app import app
from laicai.config import load_config
from laicai.domain.enums import Direction
from laicai.sim import trading
from laicai.store import EquitySnapshot, PositionChanges, open_store
from laicai.testing.sim import make_exchange, server_in_thread

D = Decimal
DB_PASSWORD = "db-pass-not-to-be-shown"
NO_SERVER = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LAICAI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run(args: list[str]) -> tuple[int, str, str]:
    env = {**KEYS_ENV, "LAICAI_DB_PASSWORD": DB_PASSWORD, "COLUMNS": "260"}
    result = CliRunner().invoke(app, args, env=env)
    assert DB_PASSWORD not in result.output
    assert not any(v in result.output for v in KEYS_ENV.values())
    return result.exit_code, result.stdout, result.output


def fill_db(cfg: Path, *, heartbeat_age: timedelta, clean_exit: bool = False,
            state: str = "IDLE") -> None:
    settings = load_config(cfg, env={})
    now = datetime.now(UTC)

    async def fill() -> None:
        store = await open_store(settings.database, None)
        try:
            await open_carry(store, base="0.1", opened=now - timedelta(days=2), changes=(
                PositionChanges(margin_ratio=D("0.45"), okx_mgn_ratio=D("12.5"),
                                total_funding_fee=D("3.21"), resets_count=2,
                                reset_cost=D("4.5"), unrealized_pnl_usd=D("7.89"),
                                earn_amount=D("0.0999"), liq_px=D("91000"))))
            await open_carry(store, symbol="DOGE", base="5000", direction=Direction.LONG,
                             price="0.2", opened=now - timedelta(hours=5), changes=PositionChanges(
                                 margin_ratio=D("0.12"), okx_mgn_ratio=D("8"),
                                 borrowed_amount=D("5000"), total_borrow_interest=D("0.0123"),
                                 unrealized_pnl_usd=D("-1.50")))
            await store.add_equity_snapshot(EquitySnapshot(
                ts=now - timedelta(minutes=30), equity_usdt=D("10000"),
                available_usdt=D("4000"), unrealized_pnl_usdt=D("6.39"), open_positions=2))
            await store.set_bot_state("engine", engine_row(
                heartbeat=now - heartbeat_age, clean_exit=clean_exit, state=state, pid=4321,
                started_at=now - timedelta(hours=3)), ts=now)
        finally:
            await store.close()

    asyncio.run(fill())


def test_a_running_bot_its_positions_and_equity(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, NO_SERVER)
    fill_db(cfg, heartbeat_age=timedelta(seconds=5))
    code, out, everything = run(["status", "--config", str(cfg)])
    assert code == 0, everything
    bot = next(line for line in out.splitlines() if line.startswith("bot:"))
    assert re.search(r"running · IDLE · paper · pid 4321 · heartbeat \d+ s ago · up 3 h", bot)
    assert "equity 10,000.00 USDT (available 4,000.00, unrealized +6.39, 2 open)" in out
    btc = next(line for line in out.splitlines() if "│ BTC " in line)
    for cell in ("SHORT", "OPEN", "0.1 BTC", "6,000.00", "45.0% OK", "1,250.0%", "91,000.0000",
                 "+3.2100", "0.0999 BTC in Earn", "2 (4.50)", "+7.89"):
        assert cell in btc, cell
    doge = next(line for line in out.splitlines() if "│ DOGE " in line)
    for cell in ("LONG", "1,000.00", "12.0% RESET", "800.0%", "borrowed 5000 DOGE, interest 0.0123",
                 "-1.50"):
        assert cell in doge, cell
    total = next(line for line in out.splitlines() if "total" in line)
    assert "+3.2100" in total and "+6.39" in total
    assert "sqlite+aiosqlite:///" in out  # where it read, masked


def test_a_stale_heartbeat_is_not_running(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, NO_SERVER)
    fill_db(cfg, heartbeat_age=timedelta(minutes=10))
    code, out, _ = run(["status", "--config", str(cfg)])
    assert code == 0
    bot = next(line for line in out.splitlines() if line.startswith("bot:"))
    assert "not running · last state IDLE" in bot and "heartbeat 10 min ago" in bot
    assert "not a clean exit" in bot


def test_a_clean_stop_and_json(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, NO_SERVER)
    fill_db(cfg, heartbeat_age=timedelta(seconds=3), clean_exit=True, state="STOPPED")
    code, out, everything = run(["status", "--json", "--config", str(cfg)])
    assert code == 0, everything
    data = json.loads(out)
    assert data["bot"]["running"] is False
    assert data["bot"]["record"]["clean_exit"] is True and data["bot"]["record"]["pid"] == 4321
    assert 0 <= data["bot"]["heartbeat_age_s"] < 60
    by = {p["symbol"]: p for p in data["positions"]}
    assert by["BTC"]["direction"] == "SHORT" and by["BTC"]["margin_ratio"] == "0.4500"
    assert by["BTC"]["margin_level"] == "OK" and by["DOGE"]["margin_level"] == "RESET"
    assert D(by["BTC"]["total_funding_fee"]) == D("3.21")
    assert D(data["equity"]["equity_usdt"]) == 10000
    assert data["live"] is None
    table = run(["status", "--config", str(cfg)])[1]
    assert "not running · last state STOPPED" in table and "stopped cleanly" in table


def test_no_database_yet(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, NO_SERVER)
    code, out, _ = run(["status", "--config", str(cfg)])
    assert code == 0
    assert "not running: no engine run recorded" in out and "no database at" in out
    assert "open positions: none" in out
    assert not (tmp_path / "laicai.db").exists()


def test_live_reads_the_exchange(tmp_path: Path) -> None:
    ex = make_exchange()
    trading.place_order(ex, ex.accounts["main"], {"instId": "BTC-USDT-SWAP", "side": "sell",
                                                  "ordType": "market", "sz": "10",
                                                  "tdMode": "cross"})
    with server_in_thread(ex) as srv:
        cfg = write_config(tmp_path, srv.rest_url)
        fill_db(cfg, heartbeat_age=timedelta(seconds=5))
        code, out, everything = run(["status", "--live", "--config", str(cfg)])
        jcode, jout, _ = run(["status", "--live", "--json", "--config", str(cfg)])
    assert code == 0, everything
    assert "live balances" in out and "live perp positions" in out
    row = next(line for line in out.splitlines() if "│ BTC-USDT-SWAP" in line)
    assert "-10" in row and "-0.1" in row and "cross" in row
    assert jcode == 0
    live = json.loads(jout)["live"]
    assert live["positions"][0]["inst_id"] == "BTC-USDT-SWAP"
    assert D(live["positions"][0]["contracts"]) == -10
    assert any(b["ccy"] == "USDT" for b in live["balances"])


def test_live_exits_1_when_the_exchange_cannot_be_read(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, NO_SERVER)
    fill_db(cfg, heartbeat_age=timedelta(seconds=5))
    code, out, _ = run(["status", "--live", "--config", str(cfg)])
    assert code == 1
    assert "live (http://127.0.0.1:9):" in out
    assert "running · IDLE" in out  # the database part is still shown
