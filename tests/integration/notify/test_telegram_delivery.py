"""Delivery to Telegram under flood control and outages: ``RetryAfter`` is honoured, and a
Telegram that hangs or is gone never stalls the publisher, never grows the queue past its
bound and never raises; once it answers again the backlog is reported."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from notify_fakes import TOKEN, FakeBotApi

from laicai.engine.bus import EventBus
from laicai.engine.events import RiskAlert
from laicai.execution.events import NakedExposureAlert
from laicai.notify.message import Level, Message
from laicai.notify.preview import SAMPLE_TS
from laicai.notify.service import NotificationService
from laicai.notify.telegram_notifier import TelegramBotHandle, TelegramNotifier, make_bot

CHAT = 111


def telegram(api: FakeBotApi, timeout_s: float = 2.0) -> TelegramNotifier:
    bot = make_bot(TOKEN, base_url=api.base_url, timeout_s=timeout_s)
    return TelegramNotifier(TelegramBotHandle(bot), CHAT)


@pytest.fixture
async def heartbeat() -> AsyncIterator[list[float]]:
    """The gaps between ticks of a 10 ms ticker: the event loop's worst stall."""
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(tick())
    yield gaps
    task.cancel()


# PTB's own RetryAfter constructor reads its deprecated int-valued attribute
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_honoured(bot_api: FakeBotApi) -> None:
    bot_api.rate_limits.append(1)  # the next sendMessage answers 429, retry_after=1
    service = NotificationService([telegram(bot_api)], backoff_s=0.01)
    await service.start()
    service.notify(Message(Level.WARN, "margin low", ("ratio 21%",)))
    sent = await bot_api.wait_sent(1, within_s=5.0)
    await service.stop(timeout_s=1.0)
    first, second = bot_api.send_attempts
    assert second - first >= 0.95  # waited what Telegram asked, not the 10 ms backoff
    assert [s.text for s in sent] == ["⚠️ margin low\nratio 21%"]
    stats = service.stats()[f"telegram:{CHAT}"]
    assert (stats.sent, stats.retried, stats.failed) == (1, 1, 0)


async def test_hanging_telegram_does_not_stall_the_publisher(
    bot_api: FakeBotApi, heartbeat: list[float],
) -> None:
    bot_api.hang = True
    bus = EventBus()
    service = NotificationService([telegram(bot_api, timeout_s=0.3)], queue_size=50,
                                  backoff_s=0.05, max_backoff_s=0.1, max_attempts=100)
    service.attach(bus, maxsize=1000)
    await service.start()
    await asyncio.sleep(0.05)

    started = time.monotonic()
    for i in range(10_000):
        bus.publish(NakedExposureAlert(SAMPLE_TS, i, "ETH", Decimal(i), Decimal(1),
                                       Decimal(0)))
    publish_s = time.monotonic() - started
    await asyncio.sleep(0.5)  # the pump formats what the bus kept; the sender keeps timing out

    assert publish_s < 1.0
    assert max(heartbeat) < 0.25  # the loop kept running
    stats = service.stats()[f"telegram:{CHAT}"]
    assert stats.queued <= 50
    assert stats.dropped >= 900  # the bus keeps 1,000; the outbox 50 of them
    assert stats.sent == 0
    assert len(bot_api.send_attempts) >= 2  # it kept trying, one request at a time

    stopping = time.monotonic()
    await service.stop(timeout_s=0.5)
    assert time.monotonic() - stopping < 1.5


async def test_outage_then_recovery_reports_the_backlog(bot_api: FakeBotApi) -> None:
    service = NotificationService([telegram(bot_api, timeout_s=0.5)], language="en",
                                  queue_size=3, backoff_s=0.05, max_backoff_s=0.1,
                                  max_attempts=1000)
    await service.start()
    await asyncio.sleep(0.05)
    await bot_api.stop()  # connection refused from now on
    for i in range(10):
        service.notify(Message(Level.WARN, f"alert {i}"))
    await asyncio.sleep(0.4)
    assert bot_api.sent == []
    await bot_api.start()
    sent = await bot_api.wait_sent(4, within_s=5.0)
    await service.stop(timeout_s=1.0)
    texts = [s.text for s in sent]
    assert texts[0].startswith("⚠️ Notifications backlog")
    assert "7 older or less urgent notifications were dropped" in texts[0]
    assert texts[1:] == ["⚠️ alert 7", "⚠️ alert 8", "⚠️ alert 9"]
    assert len(bot_api.sent) == 4


async def test_bus_events_flow_again_after_an_outage(bot_api: FakeBotApi) -> None:
    bus = EventBus()
    service = NotificationService([telegram(bot_api, timeout_s=0.5)], language="en",
                                  backoff_s=0.05, max_backoff_s=0.1, max_attempts=1000)
    service.attach(bus)
    await service.start()
    await bot_api.stop()
    bus.publish(RiskAlert(SAMPLE_TS, "ERROR", "OKX mgnRatio 1.4", 3))
    await asyncio.sleep(0.3)
    await bot_api.start()
    sent = await bot_api.wait_sent(1, within_s=5.0)
    await service.stop(timeout_s=1.0)
    assert sent[0].text == "🚨 Risk alert #3\nOKX mgnRatio 1.4"
