"""Notifications from the real bot: the whole engine in paper mode through ccxt against the
simulator (manual clock), its EngineOperator answering Telegram commands, the real
python-telegram-bot client talking to the fake Bot API server."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from notify_fakes import TOKEN, FakeBotApi

from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig, TelegramConfig
from laicai.engine.bot import build_bot
from laicai.engine.core import EngineSettings
from laicai.engine.runner import run_simulated
from laicai.engine.states import BotState
from laicai.notify import start_notifications
from laicai.sim.clock import ManualClock
from laicai.sim.market import CurrencyTerms
from laicai.sim.server.app import SimServer
from laicai.store import open_store
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, SimTimeClock, make_exchange
from laicai.venues.okx import OkxCredentials, create_exchange

D = Decimal
HOUR = 3_600_000
CHAT, STRANGER = 4242, 999


async def wait_text(api: FakeBotApi, needle: str, after: int = 0, within_s: float = 15) -> str:
    """The first message sent after the ``after``-th that contains ``needle``."""
    async with asyncio.timeout(within_s):
        while True:
            for s in api.sent[after:]:
                if needle.lower() in s.text.lower():
                    return s.text
            await asyncio.sleep(0.05)


async def test_the_bot_reports_to_telegram_and_answers_its_operator(
        tmp_path: Path, bot_api: FakeBotApi) -> None:
    ex = make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={"BTC-USDT-SWAP": (D("0.0005"), 8), "DOGE-USDT-SWAP": (D("-0.0008"), 8)},
        currencies={"BTC": CurrencyTerms(earn_apr=D("0.02")),
                    "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
                    "USDT": CurrencyTerms(earn_apr=D("0.05"))},
        trading={"USDT": D(100_000)})
    settings = load_config(None, env={"LAICAI_MODE": "paper",
                                      "LAICAI_TELEGRAM_BOT_TOKEN": TOKEN})
    settings = settings.model_copy(update={"telegram": TelegramConfig(
        enabled=True, chat_ids=[CHAT], language="en")})
    store = await open_store(DatabaseConfig(path=tmp_path / "bot.db"), None)
    try:
        async with SimServer(ex, rate_limits=False) as srv, create_exchange(
                OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
                OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)) as okx:
            bot = await build_bot(settings, venue=okx, store=store, clock=SimTimeClock(ex),
                                  ws_prices=False, engine_settings=EngineSettings(
                                      mode="paper", scan_interval_ms=HOUR // 4,
                                      risk_interval_ms=HOUR // 12, heartbeat_ms=HOUR))
            stop = await start_notifications(bot.operator, settings,
                                             telegram_base_url=bot_api.base_url)
            await bot.engine.start()

            def advance_to(ts: int) -> None:
                assert isinstance(ex.clock, ManualClock)
                if ts > ex.clock.now_ms():
                    ex.clock.set(ts)
                ex.sync()

            await run_simulated(bot.engine, bot.engine.now_ms() + 2 * HOUR, advance_to)
            sent = await bot_api.wait_sent(3, within_s=15, chat_id=CHAT)
            texts = [s.text for s in sent]
            assert any("Bot started" in t and "paper" in t for t in texts), texts
            await bot_api.wait_sent(3, within_s=15, chat_id=CHAT)
            opened = [t for t in (s.text for s in bot_api.sent) if "Opened" in t]
            assert any("BTC" in t and "SHORT" in t for t in opened), opened
            assert any("DOGE" in t and "LONG" in t for t in opened), opened

            bot.runner.timers = False
            runner = asyncio.create_task(bot.runner.run())
            await bot_api.wait_polling(within_s=15)
            before = len(bot_api.sent)
            bot_api.push_command(STRANGER, "/status")
            bot_api.push_command(CHAT, "/status")
            replies = await bot_api.wait_sent(before + 1, within_s=15)
            status = replies[-1]
            assert status.chat_id == CHAT
            assert "IDLE" in status.text and "paper" in status.text, status.text
            assert all(s.chat_id == CHAT for s in bot_api.sent)  # the stranger got nothing

            bot_api.push_command(CHAT, "/pause")
            await wait_text(bot_api, "paused", after=len(bot_api.sent))
            for _ in range(50):
                if bot.engine.state is BotState.PAUSED:
                    break
                await asyncio.sleep(0.1)
            assert bot.engine.state is BotState.PAUSED
            assert bot.engine.memory.operator_pause is not None

            # /closeall only asks: nothing is closed without the confirmation
            bot_api.push_command(CHAT, "/closeall")
            await wait_text(bot_api, "confirm", after=len(bot_api.sent))
            assert len(await store.list_open_positions()) == 2
            assert bot.engine.state is BotState.PAUSED

            bot.runner.request_stop()
            await runner
            await stop()
    finally:
        await store.close()
