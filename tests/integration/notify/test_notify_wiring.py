"""The engine's entry point: ``start_notifications(operator, settings)`` takes its events from
``operator.subscribe()``, answers commands through the same operator, and returns its stop."""

from __future__ import annotations

import asyncio
import time

from notify_fakes import TOKEN, FakeBotApi, RecordingOperator
from pydantic import SecretStr

from laicai.config.schema import Settings
from laicai.config.secrets import Secrets
from laicai.config.sections import TelegramConfig
from laicai.engine.events import BotStopped
from laicai.notify import start_notifications
from laicai.notify.preview import SAMPLE_TS


async def test_start_notifications_over_an_operator(bot_api: FakeBotApi,
                                                    operator: RecordingOperator) -> None:
    settings = Settings(telegram=TelegramConfig(enabled=True, chat_ids=[111], language="en"),
                        secrets=Secrets(telegram_bot_token=SecretStr(TOKEN)))
    started = time.monotonic()
    stop = await start_notifications(operator, settings, telegram_base_url=bot_api.base_url,
                                     timeout_s=2.0)
    assert time.monotonic() - started < 0.5  # nothing waited for Telegram
    await bot_api.wait_polling()
    bot_api.push_command(111, "/status")
    [reply] = await bot_api.wait_sent(1, chat_id=111)
    assert "State: IDLE" in reply.text
    operator.bus.publish(BotStopped(SAMPLE_TS, "operator pressed Ctrl-C", manual=True))
    await stop()  # the last event is delivered before the stop returns
    assert bot_api.sent[-1].text == ("⚠️ Bot stopped by the operator\n"
                                     "Reason: operator pressed Ctrl-C")
    assert operator.calls == [("status", ())]
    assert operator.bus._subs == set()  # unsubscribed


async def test_start_notifications_with_nothing_enabled(operator: RecordingOperator) -> None:
    stop = await start_notifications(operator, Settings())
    operator.bus.publish(BotStopped(SAMPLE_TS, "test"))
    await asyncio.wait_for(stop(), 2.0)
