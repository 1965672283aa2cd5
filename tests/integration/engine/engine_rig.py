"""A simulated OKX, its server, the OKX adapter, a SQLite store and a whole bot built by
:func:`laicai.engine.bot.build_bot`, on the simulator's manual clock. (Its own module name:
test modules import it by a name no other test directory uses.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from laicai.config import load_config
from laicai.config.schema import Settings
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.engine.bot import Bot, build_bot
from laicai.engine.events import BotEvent
from laicai.engine.runner import run_simulated
from laicai.sim.clock import ManualClock
from laicai.sim.exchange import SimExchange
from laicai.sim.server.app import SimServer
from laicai.store import Store, open_store
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, SimTimeClock
from laicai.venues.okx import OkxCredentials, OkxExchange, create_exchange

D = Decimal
CREDS = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)
HOUR = 3_600_000


def settings_for(overrides: dict[str, Any] | None = None) -> Settings:
    env = {"LAICAI_MODE": "paper"}
    settings = load_config(None, env=env)
    if overrides:
        settings = settings.model_copy(update=overrides)
    return settings


@dataclass
class BotRig:
    ex: SimExchange
    server: SimServer
    okx: OkxExchange
    store: Store
    bot: Bot
    events: list[BotEvent]

    @property
    def engine(self) -> Any:
        return self.bot.engine

    def advance_to(self, ts_ms: int) -> None:
        clock = self.ex.clock
        assert isinstance(clock, ManualClock)
        if ts_ms > clock.now_ms():
            clock.set(ts_ms)
        self.ex.sync()

    async def run_for(self, ms: int) -> int:
        return await run_simulated(self.engine, self.engine.now_ms() + ms, self.advance_to)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@asynccontextmanager
async def bot_rig(ex: SimExchange, tmp_path: Path, *, settings: Settings | None = None,
                  dry_run: bool = False, start: bool = True, **kw: Any
                  ) -> AsyncIterator[BotRig]:
    store = await open_store(DatabaseConfig(path=tmp_path / "bot.db"), None)
    try:
        async with SimServer(ex, rate_limits=False) as srv, create_exchange(
                OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
                CREDS) as okx:
            bot = await build_bot(settings or settings_for(), venue=okx, store=store,
                                  clock=SimTimeClock(ex), dry_run=dry_run, ws_prices=False,
                                  **kw)
            events: list[BotEvent] = []
            bot.bus.listen(events.append)
            rig = BotRig(ex, srv, okx, store, bot, events)
            if start:
                await bot.engine.start()
            yield rig
    finally:
        await store.close()
