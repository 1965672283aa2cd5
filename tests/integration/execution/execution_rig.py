"""A venue, its server, the OKX adapter, a SQLite store and an executor, wired as the bot
wires them; the execution clock runs on the simulator's manual clock. (A module of its own,
not conftest.py: test modules import it by a name no other test directory uses.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.engine.scan import scan_once
from laicai.execution.carry import CarryExecutor, ExecutionParams
from laicai.execution.events import ExecutionEvent
from laicai.sim.exchange import SimExchange
from laicai.sim.market import CurrencyTerms
from laicai.sim.server.app import SimServer
from laicai.store import Store, open_store
from laicai.strategy import Opportunity, ScanParams
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, SimTimeClock, make_exchange
from laicai.venues.okx import OkxCredentials, OkxExchange, create_exchange

D = Decimal
CREDS = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)


def carry_venue(**kw: Any) -> SimExchange:
    """BTC pays strongly positive funding (a SHORT carry), DOGE strongly negative (LONG)."""
    return make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={"BTC-USDT-SWAP": (D("0.0005"), 8), "DOGE-USDT-SWAP": (D("-0.0008"), 8)},
        currencies={
            "BTC": CurrencyTerms(earn_apr=D("0.02"), redeem_delay_ms=kw.pop("redeem_delay_ms",
                                                                              0)),
            "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
            "USDT": CurrencyTerms(earn_apr=D("0.05")),
        },
        **kw,
    )


@dataclass
class Rig:
    ex: SimExchange
    server: SimServer
    okx: OkxExchange
    store: Store
    executor: CarryExecutor
    events: list[ExecutionEvent] = field(default_factory=list)

    async def opportunity(self, base: str) -> Opportunity:
        params = ScanParams.from_settings(load_config(None, env={}))
        report = await scan_once(self.okx, params)
        for o in report.result.accepted:
            if o.base == base:
                return o
        raise AssertionError(f"no accepted opportunity for {base}: {report.result.reasons()}")

    def sim_orders(self) -> list[Any]:
        return list(self.ex.accounts["main"].orders.values())

    def coin(self, ccy: str) -> Decimal:
        bal = self.ex.accounts["main"].trading.get(ccy)
        return (bal.cash - bal.liab) if bal else D(0)

    def contracts(self, inst_id: str) -> Decimal:
        pos = self.ex.accounts["main"].positions.get(inst_id)
        return pos.pos if pos else D(0)


async def build_rig(ex: SimExchange, tmp_path: Path, **params: Any) -> AsyncIterator[Rig]:
    store = await open_store(DatabaseConfig(path=tmp_path / "exec.db"), None)
    async with SimServer(ex, rate_limits=False) as srv, create_exchange(
            OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
            CREDS) as okx:
        instruments = {i.inst_id: i for i in await okx.instruments()}
        fees = await okx.fee_rates()
        events: list[ExecutionEvent] = []
        executor = CarryExecutor(okx, store, SimTimeClock(ex), instruments=instruments,
                                 spot_fee_rate=fees.spot_taker,
                                 params=ExecutionParams(**params), on_event=events.append)
        yield Rig(ex, srv, okx, store, executor, events)
    await store.close()
