"""One scan: gather a market snapshot through the Exchange port, judge every candidate with the
pure opportunity model, and keep the result.

Cheap data first (instruments, funding of every swap in one call, tickers, fees, Earn rates,
balances, positions), then the borrow terms of the coins whose funding is negative, then the
L2 books of only the candidates that passed the checks needing no book — the adapter's
per-endpoint limiter keeps all of it under OKX's rate limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from laicai.domain.account import Balance, PerpPosition
from laicai.domain.market import OrderBook
from laicai.store.records import ScanRow, ScanRun
from laicai.store.repository import Repository
from laicai.strategy import MarketSnapshot, ScanParams, ScanResult, book_requests
from laicai.strategy import find_opportunities as judge
from laicai.venues.port import Exchange

BOOK_DEPTH = 400


class ScanVenue(Exchange, Protocol):
    """The port plus the batch book read the OKX adapter offers."""

    async def order_books(self, inst_ids: Iterable[str], depth: int = BOOK_DEPTH
                          ) -> Mapping[str, OrderBook]: ...


@dataclass(frozen=True, slots=True)
class ScanReport:
    """A judged scan and what it cost to gather."""

    result: ScanResult
    snapshot: MarketSnapshot
    venue_time_ms: int
    books_fetched: int
    seconds: float
    scan_id: int | None = None


def _usdt(balances: Sequence[Balance]) -> Balance | None:
    return next((b for b in balances if b.ccy == "USDT"), None)


def held_bases(positions: Sequence[PerpPosition]) -> frozenset[str]:
    """Base coins with an open perp position: a carry already lives there."""
    return frozenset(p.inst_id.split("-")[0] for p in positions if p.contracts != 0)


async def gather_snapshot(venue: ScanVenue, params: ScanParams, *,
                          held: frozenset[str] = frozenset(), open_positions: int = 0,
                          depth: int = BOOK_DEPTH) -> tuple[MarketSnapshot, int, int]:
    """The snapshot for one scan, its venue time (ms) and how many books were fetched."""
    instruments, funding, tickers, fees, earn = await asyncio.gather(
        venue.instruments(), venue.funding_rates(), venue.tickers(), venue.fee_rates(),
        venue.earn_rates())
    balances, positions = await asyncio.gather(venue.balances(), venue.positions())
    # "now" is the venue's clock, which the funding rows carry: a simulator may run faster
    # than the wall clock, and next-funding countdowns must be in its time.
    now_ms = max((f.ts_ms for f in funding), default=int(time.time() * 1000))
    negative = sorted({f.inst_id.split("-")[0] for f in funding if f.rate < 0})
    borrow = (await venue.borrow_terms(negative)
              if negative and params.enable_negative_rate_strategy else ())
    usdt = _usdt(balances)
    held_all = held | held_bases(positions)
    base = MarketSnapshot.of(
        instruments=instruments, funding_rates=funding, order_books=(), tickers=tickers,
        fee_rates=fees, earn_rates=earn, borrow_terms=borrow,
        total_capital_usdt=usdt.total if usdt else Decimal(0),
        free_capital_usdt=usdt.available if usdt else Decimal(0),
        open_positions_count=max(open_positions, len(held_all)), held_symbols=held_all)
    wanted = book_requests(base, params, now_ms)
    books = list((await venue.order_books(wanted, depth)).values()) if wanted else []
    snapshot = MarketSnapshot(
        instruments=base.instruments, funding_rates=base.funding_rates,
        order_books={b.inst_id: b for b in books}, tickers=base.tickers,
        fee_rates=base.fee_rates, earn_rates=base.earn_rates, borrow_terms=base.borrow_terms,
        total_capital_usdt=base.total_capital_usdt, free_capital_usdt=base.free_capital_usdt,
        open_positions_count=base.open_positions_count, held_symbols=base.held_symbols)
    return snapshot, now_ms, len(books)


async def scan_once(venue: ScanVenue, params: ScanParams, store: Repository | None = None,
                    *, now: datetime | None = None) -> ScanReport:
    """Gather, judge and (with a store) save one scan (stamped ``now``: the engine's clock,
    else the wall clock)."""
    started = time.perf_counter()
    wall_start = now or datetime.now(UTC)
    snapshot, now_ms, n_books = await gather_snapshot(venue, params)
    result = judge(snapshot, params, now_ms)
    seconds = time.perf_counter() - started
    scan_id = await save(store, result, wall_start) if store is not None else None
    return ScanReport(result, snapshot, now_ms, n_books, seconds, scan_id)


async def save(store: Repository, result: ScanResult, started_at: datetime) -> int:
    return await store.save_scan(
        ScanRun(started_at=started_at, finished_at=datetime.now(UTC),
                candidates=len(result.opportunities), accepted=len(result.accepted)),
        rows_of(result))


def rows_of(result: ScanResult) -> list[ScanRow]:
    ts = datetime.fromtimestamp(result.ts_ms / 1000, UTC)
    rows = []
    for o in result.opportunities:
        rows.append(ScanRow(
            ts=ts, inst_id=o.swap_inst_id, direction=o.direction, funding_rate=o.funding_rate,
            interval_hours=o.interval_hours, funding_apr=o.funding_apr, accepted=o.accepted,
            spot_inst_id=o.spot_inst_id, earn_apr=o.earn_apr, borrow_apr=o.borrow_apr,
            spot_slippage=o.spot_entry_slippage, swap_slippage=o.perp_entry_slippage,
            fees=o.fees_usdt, net_apr=o.net_apr, breakeven_days=o.break_even_days,
            planned_size=o.base_qty, planned_notional_usdt=o.notional_usdt,
            reject_reason=o.reject_reason.value if o.reject_reason else None))
    return rows
