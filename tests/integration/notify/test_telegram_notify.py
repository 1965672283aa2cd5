"""Every event kind reaches Telegram through the real python-telegram-bot client, with the
right level icon and content, in both languages, to every configured chat."""

from __future__ import annotations

from decimal import Decimal

import pytest
from notify_fakes import TOKEN, FakeBotApi
from pydantic import SecretStr

from laicai.config.schema import Settings
from laicai.config.secrets import Secrets
from laicai.config.sections import TelegramConfig
from laicai.domain.enums import Direction
from laicai.engine.bus import EventBus
from laicai.engine.events import BotStateChanged, RiskAlert
from laicai.execution.events import CarryOpened, ExecutionError
from laicai.notify import build_notifications, format_event
from laicai.notify.message import Lang, Level
from laicai.notify.preview import SAMPLE_TS, sample_events
from laicai.notify.service import DEFAULT_MUTED_KINDS

CHATS = [111, -222]


def settings_for(lang: Lang, secrets: Secrets) -> Settings:
    return Settings(telegram=TelegramConfig(enabled=True, chat_ids=CHATS, language=lang),
                    secrets=secrets)


def expected_to_send(lang: Lang) -> list[str]:
    out = []
    for event in sample_events():
        msg = format_event(event, lang)
        if msg.level is Level.INFO and msg.kind in DEFAULT_MUTED_KINDS:
            continue
        out.append(msg.render())
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_event_kind_reaches_every_chat(bot_api: FakeBotApi, lang: Lang) -> None:
    secrets = Secrets(telegram_bot_token=SecretStr(TOKEN))
    bus = EventBus()
    notifications = build_notifications(settings_for(lang, secrets), bus,
                                        telegram_base_url=bot_api.base_url, timeout_s=2.0)
    await notifications.start()
    for event in sample_events():
        bus.publish(event)
    expected = expected_to_send(lang)
    try:
        for chat in CHATS:
            sent = await bot_api.wait_sent(len(expected), chat_id=chat)
            assert [s.text for s in sent] == expected
    finally:
        await notifications.stop(timeout_s=2.0)
    assert len(bot_api.sent) == 2 * len(expected)  # nothing extra, nothing twice
    # the routine ones stayed quiet: state moves, single funding bills, execution's close
    texts = "\n".join(s.text for s in bot_api.sent)
    assert "SCANNING" not in texts
    assert ("资金费入账" if lang == "zh" else "Funding booked") not in texts


@pytest.mark.parametrize(
    ("lang", "needles"),
    [
        ("zh", ["✅ 开仓 BTC #12", "方向：正向（空永续 + 多现货）", "数量：0.15 (≈ 9,814.82 USDT)",
                "现货价：65,432.10", "永续价：65,460.00", "资金费率：0.0120%", "净年化：15.23%"]),
        ("en", ["✅ Opened BTC #12", "Direction: SHORT (short perp + long spot)",
                "Spot price: 65,432.10", "Perp price: 65,460.00", "Funding rate: 0.0120%",
                "Net APR: 15.23%"]),
    ],
)
async def test_open_message_content(bot_api: FakeBotApi, lang: Lang, needles: list[str]) -> None:
    secrets = Secrets(telegram_bot_token=SecretStr(TOKEN))
    bus = EventBus()
    notifications = build_notifications(settings_for(lang, secrets), bus,
                                        telegram_base_url=bot_api.base_url, timeout_s=2.0)
    await notifications.start()
    bus.publish(CarryOpened(SAMPLE_TS, 12, "BTC", Direction.SHORT, Decimal("0.15"),
                            Decimal("65432.1"), Decimal("65460"), Decimal("9.82"),
                            Decimal("0.00012"), Decimal("0.1523")))
    try:
        sent = await bot_api.wait_sent(1, chat_id=111)
    finally:
        await notifications.stop(timeout_s=2.0)
    for needle in needles:
        assert needle in sent[0].text


async def test_levels_and_redaction_on_the_wire(bot_api: FakeBotApi) -> None:
    secrets = Secrets(telegram_bot_token=SecretStr(TOKEN),
                      okx_secret_key=SecretStr("okx-very-secret-key-42"))
    bus = EventBus()
    notifications = build_notifications(settings_for("en", secrets), bus,
                                        telegram_base_url=bot_api.base_url, timeout_s=2.0)
    await notifications.start()
    bus.publish(ExecutionError(SAMPLE_TS, 7, "ETH", "open",
                               "venue said: bad key okx-very-secret-key-42",
                               {"url": f"https://api.telegram.org/bot{TOKEN}/sendMessage"}))
    bus.publish(RiskAlert(SAMPLE_TS, "WARN", "mgnRatio low", 7))
    bus.publish(BotStateChanged(SAMPLE_TS, "IDLE", "PAUSED", "operator"))
    try:
        sent = await bot_api.wait_sent(3, chat_id=111)
    finally:
        await notifications.stop(timeout_s=2.0)
    error, alert, paused = (s.text for s in sent)
    assert error.startswith("🚨 Execution error ETH #7")
    assert alert.startswith("⚠️ Risk alert #7")
    assert paused.startswith("⚠️ State IDLE → PAUSED")  # not routine: sent despite muting
    for s in bot_api.sent:
        assert "okx-very-secret-key-42" not in s.text
        assert TOKEN not in s.text
        assert TOKEN.split(":")[1] not in s.text
    assert "bad key ***" in error
