"""Delivery that never blocks or breaks the bot.

:class:`NotificationService` subscribes to the :class:`~laicai.engine.bus.EventBus`, formats
each event, mutes the routine ones, redacts secrets, coalesces repeated alerts and puts the
message on one bounded :class:`~laicai.notify.outbox.Outbox` per backend. One sender task per
backend delivers in order, retrying transient failures with exponential backoff (or exactly
the wait Telegram's ``RetryAfter`` asks for). A failure is logged and counted, never raised;
a backend that hangs only fills its own outbox, whose overflow drops the least urgent
messages first and is reported once the backend answers again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from laicai.engine.bus import EventBus, Subscription
from laicai.engine.events import BotEvent
from laicai.notify.coalesce import Coalescer
from laicai.notify.event_messages import format_event
from laicai.notify.language import Tr
from laicai.notify.message import Lang, Level, Message
from laicai.notify.notifier import DeliveryError, Notifier
from laicai.notify.outbox import Outbox
from laicai.notify.redaction import Redactor

log = logging.getLogger(__name__)

DEFAULT_MUTED_KINDS = frozenset(
    {"state", "funding", "carry_closed", "margin_transfer", "leg_rebalanced"})
"""Kinds whose INFO messages are not sent: routine state moves (IDLE <-> SCANNING every scan),
each funding bill (the daily report sums them), and execution's own reports of what the
engine reports again with the operator's view (``CarryClosed`` -> ``PositionClosed`` with the
decomposed PnL, ``MarginTransferred`` -> ``MarginToppedUp``/``ProfitSwept``, ``LegRebalanced``
-> ``HedgeRebalanced``). Their WARN/ERROR messages still go out."""

DEFAULT_COALESCE_BY_KIND: Mapping[str, float] = {"decision": 900.0}
"""A dry run decides the same thing every scan: summarise it every 15 minutes."""


@dataclass(slots=True)
class BackendStats:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    dropped: int = 0
    queued: int = 0


class NotificationService:
    """Formats events and delivers them to every backend; see the module's docstring.

    ``publish``/``notify`` are synchronous, O(1) apart from formatting, and never raise.
    """

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        *,
        language: Lang = "zh",
        redactor: Redactor | None = None,
        queue_size: int = 500,
        coalesce_s: float = 60.0,
        coalesce_by_kind: Mapping[str, float] = DEFAULT_COALESCE_BY_KIND,
        muted_kinds: Iterable[str] = DEFAULT_MUTED_KINDS,
        min_level: Level = Level.INFO,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        formatter: Callable[[BotEvent, Lang], Message] = format_event,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.notifiers = list(notifiers)
        self.language: Lang = language
        self._tr = Tr(language)
        self._redact = redactor or Redactor()
        self._coalescer = Coalescer(coalesce_s, coalesce_by_kind)
        self.muted_kinds = frozenset(muted_kinds)
        self.min_level = min_level
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._format = formatter
        self._outboxes = {n.name: Outbox(queue_size) for n in self.notifiers}
        self._stats = {n.name: BackendStats() for n in self.notifiers}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._sub: Subscription | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    # --- input ---------------------------------------------------------------------------

    def attach(self, bus: EventBus, maxsize: int = 1000) -> Subscription:
        """Subscribe to ``bus``: every event published from now on is notified (once
        :meth:`start` has run). The subscription drops its oldest events when full."""
        return self.consume(bus.subscribe(maxsize))

    def consume(self, subscription: Subscription) -> Subscription:
        """Notify every event of ``subscription`` (e.g. ``Operator.subscribe()``); the service
        closes it at :meth:`stop`."""
        self._sub = subscription
        return subscription

    def publish(self, event: BotEvent) -> None:
        """Format ``event`` and queue it for every backend."""
        try:
            message = self._format(event, self.language)
        except Exception:
            log.exception("notify: cannot format %s", type(event).__name__)
            return
        self.notify(message)

    def notify(self, message: Message) -> None:
        """Queue ``message`` (muting, redaction and coalescing apply)."""
        try:
            self._notify(message)
        except Exception:
            log.exception("notify: cannot queue a %s message", message.kind)

    def _notify(self, message: Message) -> None:
        if self._stopped:
            log.debug("notify: stopped, %s message not sent", message.kind)
            return
        if message.level < self.min_level or (
            message.level is Level.INFO and message.kind in self.muted_kinds
        ):
            return
        message = message.redacted(self._redact)
        now = time.monotonic()
        out, ends_at = self._coalescer.offer(message, now)
        if ends_at is not None and message.key is not None:
            self._schedule_close(message.key, ends_at - now)
        if out is not None:
            self._fan_out(out)

    def _schedule_close(self, key: str, delay: float) -> None:
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop yet: the window is summarised at stop()
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = self._loop.call_later(delay, self._close_window, key)

    def _close_window(self, key: str) -> None:
        self._timers.pop(key, None)
        try:
            now = time.monotonic()
            summary, ends_at = self._coalescer.close(key, now)
            if ends_at is not None:
                self._schedule_close(key, ends_at - now)
            if summary is not None:
                self._fan_out(self._with_repeat_note(summary))
        except Exception:
            log.exception("notify: cannot close the coalescing window %s", key)

    def _with_repeat_note(self, summary: Message) -> Message:
        window = self._coalescer.window_for(summary)
        seconds = f"{window:g}"
        note = self._tr(f"{seconds} 秒内重复 {summary.count} 次（显示最近一条）",
                        f"repeated {summary.count} times within {seconds} s (latest shown)")
        return summary.repeated(summary.count, note)

    def _fan_out(self, message: Message) -> None:
        for name, outbox in self._outboxes.items():
            dropped = outbox.put(message)
            if dropped is not None:
                self._stats[name].dropped += 1
                if outbox.dropped == 1 or outbox.dropped % 100 == 0:
                    log.warning("notify: %s is behind, %d messages dropped so far",
                                name, outbox.dropped)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start one sender per backend (and the bus pump after :meth:`attach`). Returns at
        once: backends connect in their own tasks, so an unreachable service delays nothing."""
        if self._tasks:
            return
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        for notifier in self.notifiers:
            self._spawn(self._sender(notifier, self._outboxes[notifier.name]),
                        f"notify-sender-{notifier.name}")
        if self._sub is not None:
            self._spawn(self._pump(self._sub), "notify-pump")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report_crash)
        self._tasks.append(task)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop taking events, summarise open coalescing windows, give the senders up to
        ``timeout_s`` to deliver what is queued, then cancel them and close the backends."""
        deadline = time.monotonic() + timeout_s
        if self._sub is not None:
            sub, self._sub = self._sub, None
            sub.close()
            while not sub.queue.empty():
                self.publish(sub.queue.get_nowait())
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for summary in self._coalescer.close_all():
            self._fan_out(self._with_repeat_note(summary))
        self._stopped = True
        senders_running = any(not t.done() for t in self._tasks)
        if senders_running:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                    await asyncio.gather(*(o.join() for o in self._outboxes.values()))
            except TimeoutError:
                left = {n: len(o) for n, o in self._outboxes.items() if len(o)}
                log.warning("notify: stopped after %.1f s with messages undelivered: %s",
                            timeout_s, left or "one in flight")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for notifier in self.notifiers:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 1.0)):
                    await notifier.close()
            except Exception as e:
                log.warning("notify: closing %s failed: %s", notifier.name,
                            self._redact(f"{type(e).__name__}: {e}"))

    # --- delivery ------------------------------------------------------------------------

    async def _pump(self, sub: Subscription) -> None:
        handled = 0
        while True:
            self.publish(await sub.get())
            handled += 1
            if handled % 100 == 0:
                await asyncio.sleep(0)  # a burst of events must not hold the loop

    async def _sender(self, notifier: Notifier, outbox: Outbox) -> None:
        try:
            await notifier.start()
        except Exception as e:
            log.warning("notify: starting %s failed: %s", notifier.name,
                        self._redact(f"{type(e).__name__}: {e}"))
        stats = self._stats[notifier.name]
        while True:
            message = await outbox.get()
            try:
                dropped = outbox.take_dropped()
                if dropped:
                    await self._deliver(notifier, self._dropped_notice(dropped), stats)
                await self._deliver(notifier, message, stats)
            finally:
                outbox.task_done()

    def _dropped_notice(self, count: int) -> Message:
        tr = self._tr
        return Message(
            Level.WARN,
            tr("通知积压：部分通知未发送", "Notifications backlog: some were not sent"),
            (tr(f"因通道不可用丢弃了 {count} 条较早或较不紧急的通知",
                f"{count} older or less urgent notifications were dropped while this "
                "channel was unavailable"),),
            kind="dropped",
        )

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based): doubling from
        ``backoff_s`` up to ``max_backoff_s``, with ±10% jitter."""
        base = min(self.backoff_s * 2.0 ** (attempt - 1), self.max_backoff_s)
        return base * random.uniform(0.9, 1.1)

    async def _deliver(self, notifier: Notifier, message: Message, stats: BackendStats) -> bool:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await notifier.send(message)
            except DeliveryError as e:
                if not e.retryable or attempt == self.max_attempts:
                    stats.failed += 1
                    log.warning("notify: %s gave up on a %s message after %d attempt(s): %s",
                                notifier.name, message.kind, attempt, self._redact(str(e)))
                    return False
                delay = e.retry_after_s if e.retry_after_s is not None else self.backoff(attempt)
                stats.retried += 1
                log.info("notify: %s attempt %d failed (%s), retrying in %.1f s",
                         notifier.name, attempt, self._redact(str(e)), delay)
                await asyncio.sleep(delay)
            except Exception as e:
                stats.failed += 1
                log.error("notify: %s failed on a %s message: %s", notifier.name, message.kind,
                          self._redact(f"{type(e).__name__}: {e}"))
                return False
            else:
                stats.sent += 1
                return True
        return False  # pragma: no cover - the loop always returns

    # --- introspection -------------------------------------------------------------------

    def stats(self) -> dict[str, BackendStats]:
        """Per backend: sent, failed, retried, dropped and currently queued messages."""
        return {
            name: replace(s, queued=len(self._outboxes[name])) for name, s in self._stats.items()
        }

    def queued(self) -> int:
        return sum(len(o) for o in self._outboxes.values())


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("notify: task %s crashed", task.get_name(), exc_info=task.exception())
