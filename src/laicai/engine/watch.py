"""A scan kept live by WebSocket pushes: after each full scan (REST), the books and funding of
the best candidates stream in and the pure model re-judges them; a full rescan refreshes the
candidate set every ``rescan_seconds``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Protocol

from laicai.domain.market import FundingRate, OrderBook
from laicai.engine.scan import BOOK_DEPTH, ScanReport, ScanVenue, scan_once
from laicai.errors import LaicaiError
from laicai.store.repository import Repository
from laicai.strategy import ScanParams
from laicai.strategy import find_opportunities as judge

log = logging.getLogger(__name__)


class LiveVenue(ScanVenue, Protocol):
    async def watch_order_book(self, inst_id: str, depth: int = BOOK_DEPTH) -> OrderBook: ...

    async def watch_funding_rate(self, inst_id: str) -> FundingRate: ...


class LiveScan:
    """Yields a fresh :class:`ScanReport` after every full scan and, between scans, whenever
    pushes changed the inputs (at most every ``rejudge_seconds``)."""

    def __init__(self, venue: LiveVenue, params: ScanParams, *, store: Repository | None = None,
                 rescan_seconds: float = 45.0, rejudge_seconds: float = 0.5,
                 watch_top: int = 10) -> None:
        self.venue = venue
        self.params = params
        self.store = store
        self.rescan_seconds = rescan_seconds
        self.rejudge_seconds = rejudge_seconds
        self.watch_top = watch_top

    async def reports(self) -> AsyncIterator[ScanReport]:
        while True:
            report = await scan_once(self.venue, self.params, self.store)
            yield report
            async for live in self._stream(report):
                yield live

    async def _stream(self, report: ScanReport) -> AsyncIterator[ScanReport]:
        books = dict(report.snapshot.order_books)
        funding = dict(report.snapshot.funding_rates)
        changed = asyncio.Event()
        legs: list[str] = []
        swaps: list[str] = []
        for o in report.result.opportunities[: self.watch_top]:
            if o.spot_inst_id and o.spot_inst_id in books and o.swap_inst_id in books:
                legs += [o.spot_inst_id, o.swap_inst_id]
                swaps.append(o.swap_inst_id)

        async def follow_book(inst_id: str) -> None:
            while True:
                books[inst_id] = await self.venue.watch_order_book(inst_id, BOOK_DEPTH)
                changed.set()

        async def follow_funding(inst_id: str) -> None:
            while True:
                funding[inst_id] = await self.venue.watch_funding_rate(inst_id)
                changed.set()

        tasks = [asyncio.create_task(follow_book(i)) for i in legs]
        tasks += [asyncio.create_task(follow_funding(i)) for i in swaps]
        deadline = time.monotonic() + self.rescan_seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=left)
                failed = [t for t in tasks if t.done() and t.exception() is not None]
                if failed:  # a dead stream: fall back to the next full scan
                    log.warning("live scan stream stopped: %s", failed[0].exception())
                    return
                if not changed.is_set():
                    continue
                changed.clear()
                started = time.perf_counter()
                snapshot = replace(report.snapshot, order_books=dict(books),
                                   funding_rates=dict(funding))
                now_ms = max((f.ts_ms for f in funding.values()), default=report.venue_time_ms)
                result = judge(snapshot, self.params, now_ms)
                yield replace(report, result=result, snapshot=snapshot, venue_time_ms=now_ms,
                              books_fetched=0, seconds=time.perf_counter() - started,
                              scan_id=None)
                await asyncio.sleep(self.rejudge_seconds)
        except LaicaiError as e:
            log.warning("live scan stream failed: %s", e)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
