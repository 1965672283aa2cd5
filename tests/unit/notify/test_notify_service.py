"""NotificationService with in-memory backends: muting, redaction, coalescing, retries with
backoff, isolation between backends, bounded queues and a bounded stop."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal as D

import pytest

from laicai.engine.bus import EventBus
from laicai.engine.events import BotEvent, BotStateChanged, FundingBooked, RiskAlert
from laicai.execution.events import NakedExposureAlert
from laicai.notify.message import Lang, Level, Message
from laicai.notify.notifier import DeliveryError, LogNotifier, Notifier, TransientDeliveryError
from laicai.notify.preview import SAMPLE_TS
from laicai.notify.redaction import Redactor
from laicai.notify.service import NotificationService


class Recorder(Notifier):
    """Delivers to a list; ``failures`` are raised by the next sends, in order."""

    def __init__(self, name: str = "rec", failures: list[Exception] | None = None) -> None:
        self.name = name
        self.messages: list[Message] = []
        self.attempts: list[float] = []
        self.failures = list(failures or [])
        self.started = self.closed = False
        self.arrived = asyncio.Event()

    async def start(self) -> None:
        self.started = True

    async def send(self, message: Message) -> None:
        self.attempts.append(time.monotonic())
        if self.failures:
            raise self.failures.pop(0)
        self.messages.append(message)
        self.arrived.set()

    async def close(self) -> None:
        self.closed = True

    async def wait(self, count: int, within_s: float = 3.0) -> list[Message]:
        async with asyncio.timeout(within_s):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages

    def texts(self) -> list[str]:
        return [m.render() for m in self.messages]


class Hanging(Notifier):
    name = "hanging"

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: Message) -> None:
        self.calls += 1
        await asyncio.Event().wait()


def alert(i: int, pid: int = 1) -> NakedExposureAlert:
    return NakedExposureAlert(SAMPLE_TS, pid, "ETH", D(i), D(1), D(0))


async def run(service: NotificationService, *events: BotEvent) -> None:
    await service.start()
    for e in events:
        service.publish(e)


async def test_routine_info_is_muted_but_warnings_are_not() -> None:
    rec = Recorder()
    service = NotificationService([rec], language="en")
    await run(service,
              BotStateChanged(SAMPLE_TS, "IDLE", "SCANNING"),
              FundingBooked(SAMPLE_TS, 1, "BTC", D("1.2")),
              BotStateChanged(SAMPLE_TS, "IDLE", "PAUSED", "breaker"))
    await service.stop(timeout_s=1.0)
    assert rec.texts() == ["⚠️ State IDLE → PAUSED\nReason: breaker"]
    assert rec.started and rec.closed


async def test_min_level_and_custom_mutes() -> None:
    rec = Recorder()
    service = NotificationService([rec], language="en", min_level=Level.ERROR, muted_kinds=())
    await run(service, FundingBooked(SAMPLE_TS, 1, "BTC", D("1.2")),
              RiskAlert(SAMPLE_TS, "WARN", "w"), RiskAlert(SAMPLE_TS, "ERROR", "e"))
    await service.stop(timeout_s=1.0)
    assert [m.title for m in rec.messages] == ["Risk alert"]


async def test_outgoing_text_is_redacted() -> None:
    rec = Recorder()
    service = NotificationService([rec], redactor=Redactor(["hunter2-secret"]))
    await run(service, RiskAlert(SAMPLE_TS, "ERROR", "login with hunter2-secret failed"))
    service.notify(Message(Level.INFO, "title hunter2-secret", ("x hunter2-secret",)))
    await service.stop(timeout_s=1.0)
    assert len(rec.messages) == 2
    assert all("hunter2-secret" not in t and "***" in t for t in rec.texts())


async def test_repeated_alerts_are_coalesced_into_one_message_with_the_count() -> None:
    rec = Recorder()
    service = NotificationService([rec], language="en", coalesce_s=0.2)
    await run(service, *(alert(i) for i in range(6)), alert(99, pid=2))
    await rec.wait(2)
    assert [m.count for m in rec.messages] == [1, 1]  # the first of each key at once
    summary = (await rec.wait(3))[2]
    await service.stop(timeout_s=1.0)
    assert summary.count == 5
    assert summary.headline == "🚨 Hedge broken: naked exposure ETH #1 ×5"
    assert "Naked exposure: 5.00 USDT" in summary.lines  # the latest of the five
    assert summary.lines[-1] == "repeated 5 times within 0.2 s (latest shown)"
    assert len(rec.messages) == 3


async def test_coalescing_summary_in_chinese_and_a_steady_stream() -> None:
    rec = Recorder()
    service = NotificationService([rec], language="zh", coalesce_s=0.15)
    await service.start()
    for i in range(12):  # one alert every 50 ms for 0.6 s
        service.publish(alert(i))
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    await service.stop(timeout_s=1.0)
    counts = [m.count for m in rec.messages]
    assert counts[0] == 1
    assert sum(counts) == 12  # every alert is accounted for, none twice
    assert len(rec.messages) <= 6  # ~one per window instead of twelve
    assert "0.15 秒内重复" in rec.texts()[1]


async def test_stop_sends_what_a_window_still_holds() -> None:
    rec = Recorder()
    service = NotificationService([rec], language="en", coalesce_s=60.0)
    await run(service, alert(1), alert(2), alert(3))
    await service.stop(timeout_s=1.0)
    assert [m.count for m in rec.messages] == [1, 2]


async def test_transient_failures_are_retried_with_backoff() -> None:
    rec = Recorder(failures=[TransientDeliveryError("down"), TransientDeliveryError("down")])
    service = NotificationService([rec], backoff_s=0.05, max_backoff_s=1.0)
    await run(service, RiskAlert(SAMPLE_TS, "ERROR", "x"))
    await rec.wait(1)
    await service.stop(timeout_s=1.0)
    first, second, third = rec.attempts
    assert second - first >= 0.045 * 0.9  # 0.05 s ±10%
    assert third - second >= 0.09 * 0.9  # doubled
    assert service.stats()["rec"].retried == 2
    assert service.stats()["rec"].sent == 1


async def test_retry_after_overrides_the_backoff() -> None:
    rec = Recorder(failures=[TransientDeliveryError("429", retry_after_s=0.3)])
    service = NotificationService([rec], backoff_s=0.01)
    await run(service, RiskAlert(SAMPLE_TS, "ERROR", "x"))
    await rec.wait(1)
    await service.stop(timeout_s=1.0)
    assert rec.attempts[1] - rec.attempts[0] >= 0.29


async def test_failures_are_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="laicai.notify.service")
    rec = Recorder(failures=[DeliveryError("refused: chat not found"),
                             RuntimeError("a bug in a backend"),
                             TransientDeliveryError("t1"), TransientDeliveryError("t2")])
    service = NotificationService([rec], backoff_s=0.01, max_attempts=2)
    await run(service, *(RiskAlert(SAMPLE_TS, "ERROR", f"m{i}") for i in range(4)))
    await rec.wait(1)
    await service.stop(timeout_s=1.0)
    # m0 refused (not retried), m1 hit a bug, m2 failed twice (attempts exhausted), m3 sent
    assert [m.lines for m in rec.messages] == [("m3",)]
    stats = service.stats()["rec"]
    assert (stats.sent, stats.failed, stats.retried) == (1, 3, 1)
    logged = caplog.text
    assert "refused: chat not found" in logged
    assert "a bug in a backend" in logged
    assert "after 2 attempt(s)" in logged


async def test_a_hanging_backend_does_not_hold_up_the_others() -> None:
    rec, hang = Recorder(), Hanging()
    service = NotificationService([hang, rec], queue_size=10)
    await service.start()
    for i in range(50):
        service.publish(RiskAlert(SAMPLE_TS, "ERROR", f"m{i}"))
        await asyncio.sleep(0.001)
    await rec.wait(50)
    assert hang.calls == 1
    assert service.stats()["hanging"].queued == 10
    assert service.stats()["hanging"].dropped == 39
    started = time.monotonic()
    await service.stop(timeout_s=0.3)
    assert time.monotonic() - started < 1.0


async def test_publishing_never_raises_even_when_formatting_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(event: BotEvent, lang: Lang) -> Message:
        raise ValueError("bad event")

    rec = Recorder()
    service = NotificationService([rec], formatter=broken)
    await run(service, RiskAlert(SAMPLE_TS, "ERROR", "x"))
    await service.stop(timeout_s=1.0)
    assert rec.messages == []
    assert "cannot format RiskAlert" in caplog.text


async def test_bus_subscription_feeds_the_service_and_stop_drains_it() -> None:
    bus = EventBus()
    rec = Recorder()
    service = NotificationService([rec], language="en")
    service.attach(bus)
    await service.start()
    bus.publish(RiskAlert(SAMPLE_TS, "WARN", "first"))
    await rec.wait(1)
    bus.publish(RiskAlert(SAMPLE_TS, "WARN", "published just before stop"))
    await service.stop(timeout_s=1.0)  # the pump never saw it; stop drains the subscription
    assert [m.lines[0] for m in rec.messages] == ["first", "published just before stop"]
    bus.publish(RiskAlert(SAMPLE_TS, "WARN", "after stop"))  # unsubscribed: ignored
    assert len(rec.messages) == 2


async def test_publishing_ten_thousand_events_is_fast() -> None:
    rec = Recorder()
    service = NotificationService([rec, LogNotifier()], queue_size=100)
    await service.start()
    started = time.monotonic()
    for i in range(10_000):
        service.publish(RiskAlert(SAMPLE_TS, "ERROR", f"distinct {i}"))
    elapsed = time.monotonic() - started
    assert elapsed < 3.0  # formatting + redaction + queueing, ~µs each
    assert service.queued() <= 200
    await service.stop(timeout_s=1.0)


def test_backoff_doubles_up_to_the_cap() -> None:
    service = NotificationService([], backoff_s=1.0, max_backoff_s=5.0)
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        assert base * 0.9 <= service.backoff(attempt) <= base * 1.1


async def test_log_notifier_writes_one_line_at_the_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="laicai.notify.messages")
    await LogNotifier(Redactor(["pw123456"])).send(
        Message(Level.ERROR, "boom", ("a pw123456", "b")))
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "🚨 boom | a *** | b"
