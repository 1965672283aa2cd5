"""Telegram commands through the real python-telegram-bot Application (long polling against
the fake Bot API): answered only in the configured chat, each calling the Operator, and
/closeall acting only after a confirmation within the window."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from notify_fakes import TOKEN, FakeBotApi, ManualClock, RecordingOperator

from laicai.engine.operator import Operator
from laicai.notify.message import Lang
from laicai.notify.telegram_commands import TelegramCommands

CHAT = 111
STRANGER = 999


async def start_commands(api: FakeBotApi, operator: RecordingOperator, clock: ManualClock,
                         lang: Lang = "en") -> TelegramCommands:
    commands = TelegramCommands(TOKEN, operator, [CHAT], language=lang, base_url=api.base_url,
                                poll_timeout_s=5, request_timeout_s=2.0, clock=clock)
    await commands.start()
    assert await commands.wait_ready(5.0)
    await api.wait_polling()
    return commands


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def commands(bot_api: FakeBotApi, operator: RecordingOperator,
                   clock: ManualClock) -> AsyncIterator[TelegramCommands]:
    c = await start_commands(bot_api, operator, clock)
    yield c
    await c.stop()


async def ask(api: FakeBotApi, text: str, chat: int = CHAT) -> str:
    """Send ``text`` from ``chat`` and return the bot's next reply there."""
    before = len([s for s in api.sent if s.chat_id == chat])
    api.push_command(chat, text)
    sent = await api.wait_sent(before + 1, chat_id=chat)
    return sent[before].text


def test_the_fake_is_an_operator(operator: RecordingOperator) -> None:
    typed: Operator = operator  # mypy checks the protocol; this documents the intent
    assert typed is operator


@pytest.mark.parametrize(
    ("text", "call", "needles"),
    [
        ("/status", ("status", ()), ["✅ State: IDLE · paper", "Equity: 20,123.45 USDT",
                                     "New entries: allowed", "345 requests, 2 errors"]),
        ("/positions", ("positions", ()), ["#12 BTC · SHORT", "Margin ratio: 31.23% [ok]",
                                           "Liq. price: 86,000.00 (30.30% away)",
                                           "PnL: +24.87 USDT"]),
        ("/pnl", ("pnl", ()), ["Total PnL: +100.87 USDT", "Funding: +141.25", "Fees: -33.08",
                               "— Today (UTC) —"]),
        ("/funding", ("funding", (20,)), ["📌 BTC-USDT-SWAP 0.0100%/8h · APR 10.95%",
                                          "• SOL-USDT-SWAP 0.0250%/4h · APR 54.75%"]),
        ("/pause funding looks crowded",
         ("pause", ("telegram:111(@operator)", "funding looks crowded")),
         ["✅ entries paused: funding looks crowded"]),
        ("/resume", ("resume", ("telegram:111(@operator)",)), ["✅ entries resumed"]),
        ("/close 12", ("close_position", (12, "telegram:111(@operator)")), ["✅ closing #12"]),
        ("/close #13", ("close_position", (13, "telegram:111(@operator)")),
         ["⚠️ no open position #13"]),
    ],
)
async def test_command_calls_the_operator_and_answers(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
    text: str, call: tuple[str, tuple[object, ...]], needles: list[str],
) -> None:
    reply = await ask(bot_api, text)
    assert operator.calls == [call]
    for needle in needles:
        assert needle in reply


async def test_help_and_unknown_commands_list_every_command(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
) -> None:
    help_text = await ask(bot_api, "/help")
    for name in ("status", "positions", "pnl", "funding", "pause", "resume", "close",
                 "closeall", "help"):
        assert f"/{name} — " in help_text
    unknown = await ask(bot_api, "/rm -rf")
    assert unknown.startswith("Unknown command.")
    assert operator.calls == []


async def test_close_needs_a_numeric_id(bot_api: FakeBotApi, operator: RecordingOperator,
                                        commands: TelegramCommands) -> None:
    assert "usage: /close <position id>" in await ask(bot_api, "/close")
    assert "usage: /close <position id>" in await ask(bot_api, "/close BTC")
    assert operator.calls == []


async def test_other_chats_get_nothing_and_are_logged(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="laicai.notify.telegram_commands")
    for text in ("/status", "/positions", "/pause", "/close 12", "/closeall",
                 "/closeall confirm", "/help"):
        bot_api.push_command(STRANGER, text)
    bot_api.push_button(STRANGER, "closeall:yes:deadbeef", message_id=1)
    # updates are handled in order: the configured chat's answer comes after all of them
    await ask(bot_api, "/help")
    assert [s for s in bot_api.sent if s.chat_id != CHAT] == []
    assert bot_api.answered_callbacks == []
    assert operator.calls == []
    assert commands.rejected_updates == 8
    ignored = [r for r in caplog.records if "ignored an update from chat 999" in r.getMessage()]
    assert len(ignored) == 8


async def test_closeall_asks_and_acts_only_after_confirm(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
) -> None:
    prompt = await ask(bot_api, "/closeall")
    assert prompt.startswith("⚠️ Close ALL positions? Confirm within 60 s")
    markup = bot_api.sent[-1].reply_markup
    assert markup is not None
    buttons = markup["inline_keyboard"][0]
    assert [b["callback_data"].split(":")[:2] for b in buttons] == [
        ["closeall", "yes"], ["closeall", "no"]]
    assert operator.called("close_all") == []

    done = await ask(bot_api, "/closeall confirm")
    assert done == "✅ closing 1 position"
    assert operator.called("close_all") == [("telegram:111(@operator)",)]

    # the request was used up: a second confirmation does nothing
    again = await ask(bot_api, "/closeall confirm")
    assert "send /closeall first" in again
    assert len(operator.called("close_all")) == 1


async def test_closeall_confirm_without_request_does_nothing(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
) -> None:
    reply = await ask(bot_api, "/closeall confirm")
    assert reply.startswith("⚠️ no close-all request is waiting")
    assert operator.calls == []


async def test_closeall_confirmation_expires_after_the_window(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
    clock: ManualClock,
) -> None:
    await ask(bot_api, "/closeall")
    clock.advance(60.5)
    reply = await ask(bot_api, "/closeall confirm")
    assert "expired" in reply
    assert operator.calls == []
    # within the window it works
    await ask(bot_api, "/closeall")
    clock.advance(59.0)
    assert await ask(bot_api, "/closeall confirm") == "✅ closing 1 position"
    assert len(operator.called("close_all")) == 1


async def test_closeall_by_inline_button(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
) -> None:
    await ask(bot_api, "/closeall")
    prompt = bot_api.sent[-1]
    assert prompt.reply_markup is not None
    yes = prompt.reply_markup["inline_keyboard"][0][0]["callback_data"]
    forged = yes.rsplit(":", 1)[0] + ":00000000"

    bot_api.push_button(CHAT, forged, message_id=prompt.message_id)
    stale = await bot_api.wait_sent(2, chat_id=CHAT)
    assert "no close-all request is waiting" in stale[-1].text
    assert operator.calls == []

    await ask(bot_api, "/closeall")
    prompt = bot_api.sent[-1]
    assert prompt.reply_markup is not None
    yes = prompt.reply_markup["inline_keyboard"][0][0]["callback_data"]
    bot_api.push_button(CHAT, yes, message_id=prompt.message_id)
    sent = await bot_api.wait_sent(4, chat_id=CHAT)
    assert sent[-1].text == "✅ closing 1 position"
    assert operator.called("close_all") == [("telegram:111(@operator)",)]
    assert len(bot_api.answered_callbacks) == 2
    # the keyboard is taken off the prompt, so it cannot be pressed twice
    assert any(int(e["message_id"]) == prompt.message_id for e in bot_api.edited)


async def test_closeall_cancel_button(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
) -> None:
    await ask(bot_api, "/closeall")
    prompt = bot_api.sent[-1]
    assert prompt.reply_markup is not None
    no = prompt.reply_markup["inline_keyboard"][0][1]["callback_data"]
    bot_api.push_button(CHAT, no, message_id=prompt.message_id)
    sent = await bot_api.wait_sent(2, chat_id=CHAT)
    assert sent[-1].text == "✅ close-all cancelled"
    assert "send /closeall first" in await ask(bot_api, "/closeall confirm")
    assert operator.calls == []


async def test_operator_failure_is_answered_not_raised(
    bot_api: FakeBotApi, operator: RecordingOperator, commands: TelegramCommands,
) -> None:
    operator.fail_with = RuntimeError(f"db down at token {TOKEN}")
    reply = await ask(bot_api, "/status")
    assert reply.startswith("🚨 Command failed: RuntimeError: db down")
    assert TOKEN not in reply
    operator.fail_with = None
    assert "State: IDLE" in await ask(bot_api, "/status")


async def test_chinese_answers(bot_api: FakeBotApi, operator: RecordingOperator,
                               clock: ManualClock) -> None:
    commands = await start_commands(bot_api, operator, clock, lang="zh")
    try:
        status = await ask(bot_api, "/status")
        prompt = await ask(bot_api, "/closeall")
        done = await ask(bot_api, "/closeall confirm")
    finally:
        await commands.stop()
    assert status.startswith("✅ 状态：IDLE · 模拟盘")
    assert "权益：20,123.45 USDT" in status
    assert prompt.startswith("⚠️ 确认平掉全部仓位？请在 60 秒内")
    assert done == "✅ closing 1 position"
    assert len(operator.called("close_all")) == 1


async def test_commands_start_while_telegram_is_down_and_connect_later(
    operator: RecordingOperator, clock: ManualClock,
) -> None:
    api = FakeBotApi()
    await api.start()
    await api.stop()  # the port is known but closed
    commands = TelegramCommands(TOKEN, operator, [CHAT], language="en", base_url=api.base_url,
                                poll_timeout_s=5, request_timeout_s=1.0, reconnect_max_s=0.2,
                                clock=clock)
    await commands.start()  # returns at once
    try:
        assert not await commands.wait_ready(0.3)
        await api.start()
        assert await commands.wait_ready(5.0)
        await api.wait_polling()
        assert "State: IDLE" in await ask(api, "/status")
    finally:
        await commands.stop()
        await api.stop()
