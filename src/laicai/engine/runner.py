"""Drivers of the :class:`~laicai.engine.core.Engine`.

:class:`BotRunner` (live and paper): one queue, one consumer task that owns the engine; a
timer task puts "jobs due" on the queue, a mark-price watcher per held swap puts pushed prices
on it, and operator commands arrive on it with a future for their answer. Everything the
engine does therefore happens one thing at a time, in arrival order.

:func:`run_simulated` (tests, backtests, paper runs on the simulator's manual clock): no
tasks and no waiting; it moves the simulated clock to the next due job and runs it, until a
given time. The engine cannot tell the two apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from laicai.domain.market import MarkPrice
from laicai.engine.core import Engine
from laicai.engine.states import BotState
from laicai.errors import LaicaiError

log = logging.getLogger(__name__)
T = TypeVar("T")


class MarkSource(Protocol):
    async def watch_mark_price(self, inst_id: str) -> MarkPrice: ...


@dataclass(slots=True)
class _Item:
    fn: Callable[[], Awaitable[Any]]
    done: asyncio.Future[Any] | None
    queued_at: float


class BotRunner:
    """Runs an engine until :meth:`request_stop` (or a close-all) stops it."""

    def __init__(self, engine: Engine, *, marks: MarkSource | None = None,
                 watch_marks: bool = True, timers: bool = True) -> None:
        self.engine = engine
        self.timers = timers  # off: only what is submitted runs (a driver moves time)
        self.marks = marks
        self.watch_marks = watch_marks and marks is not None
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self.loop_latency_ms: float = 0.0
        self.marks_received = 0

    async def submit(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn`` on the engine's task, after what is queued before it; its result."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(_Item(fn, fut, time.perf_counter()))
        return await fut

    def post(self, fn: Callable[[], Awaitable[Any]]) -> None:
        self.queue.put_nowait(_Item(fn, None, time.perf_counter()))

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        engine = self.engine
        if engine.schedule is None:
            await engine.start()
        timer = asyncio.create_task(self._timers() if self.timers else asyncio.sleep(1e9),
                                    name="laicai-timers")
        stopper = asyncio.create_task(self._stop.wait(), name="laicai-stop")
        try:
            while engine.state is not BotState.STOPPED and not self._stop.is_set():
                getter = asyncio.create_task(self.queue.get())
                done, _ = await asyncio.wait({getter, stopper},
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break  # the item stays queued: nothing half-done
                item = getter.result()
                self.loop_latency_ms = (time.perf_counter() - item.queued_at) * 1000
                engine.loop_latency_ms = self.loop_latency_ms
                try:
                    result = await item.fn()
                except Exception as e:  # an operator command's failure is the caller's
                    if item.done is not None and not item.done.done():
                        item.done.set_exception(e)
                    elif not isinstance(e, LaicaiError):
                        log.exception("engine task failed")
                    else:
                        log.error("engine task failed: %s", e)
                else:
                    if item.done is not None and not item.done.done():
                        item.done.set_result(result)
                if self.watch_marks:
                    self._sync_watchers()
        finally:
            for task in (timer, stopper, *self._watchers.values()):
                task.cancel()
            for task in (timer, stopper, *self._watchers.values()):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._watchers.clear()
            await engine.stop("shut down" if engine.state is not BotState.STOPPED
                              else "stopped", manual=self._stop.is_set())

    async def _timers(self) -> None:
        engine = self.engine
        assert engine.schedule is not None
        while True:
            wait_ms = engine.schedule.next_due_ms() - engine.now_ms()
            if wait_ms > 0:
                await engine.clock.sleep(wait_ms / 1000)
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self.queue.put_nowait(_Item(engine.run_due, done, time.perf_counter()))
            await done  # one batch of jobs at a time; no pile-up behind a slow scan

    def _sync_watchers(self) -> None:
        # the held swaps, and the last scan's candidates: with nothing held the exchange
        # guard still needs pushes (it pauses entries when the WebSocket stays silent)
        wanted = {v.symbol for v in self.engine.last_views.values()}
        if self.engine.last_scan is not None:
            wanted.update(o.swap_inst_id for o in self.engine.last_scan.result.accepted)
        for inst_id in list(self._watchers):
            if inst_id not in wanted:
                self._watchers.pop(inst_id).cancel()
        for inst_id in wanted - set(self._watchers):
            self._watchers[inst_id] = asyncio.create_task(self._watch(inst_id),
                                                          name=f"laicai-mark-{inst_id}")

    async def _watch(self, inst_id: str) -> None:
        assert self.marks is not None
        backoff = 1.0
        while True:
            try:
                push = await self.marks.watch_mark_price(inst_id)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("mark price watcher %s: %s (retrying in %.0f s)", inst_id, e,
                            backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            self.marks_received += 1
            self.post(self._mark_job(push))

    def _mark_job(self, push: MarkPrice) -> Callable[[], Awaitable[None]]:
        def job() -> Awaitable[None]:
            return self.engine.on_mark(push.inst_id, push.mark_px)
        return job


async def run_simulated(engine: Engine, until_ms: int, advance_to: Callable[[int], None],
                        *, on_step: Callable[[int], Awaitable[None]] | None = None) -> int:
    """Run ``engine`` on a simulated clock up to ``until_ms``: move the clock to the next due
    job (``advance_to`` sets the simulated time and lets the venue catch up), run what is due,
    repeat. Returns the number of job batches run. The engine must be started."""
    assert engine.schedule is not None, "start() the engine first"
    batches = 0
    while engine.state is not BotState.STOPPED:
        due = engine.schedule.next_due_ms()
        if due > until_ms:
            if engine.now_ms() < until_ms:
                advance_to(until_ms)
            break
        if due > engine.now_ms():
            advance_to(due)
        await engine.run_due()
        batches += 1
        if on_step is not None:
            await on_step(batches)
    return batches
