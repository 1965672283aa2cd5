"""The 30-day paper run behind ``test_paper_run_30d.py``: the whole bot (``build_bot``: the
real ccxt client in the OKX adapter, SQLite, the executor, the engine) against an in-process
``SimServer`` on the simulator's manual clock, over the real funding history of
``paper_run_30d.yml``, driven by :func:`laicai.engine.runner.run_simulated`.

Mark prices: a live or paper bot watches the held swaps' ``mark-price`` channel and hands
every push to :meth:`Engine.on_mark` (``BotRunner``); ``run_simulated`` has no watcher, so the
run pushes each held swap's mark (read from the simulator) every :data:`PUSH_MS` of simulated
time, as the watcher would. The full risk check runs every :data:`RISK_MS` (the budget: see
the test module's docstring).

The script, in simulated time (2026-05-23 06:00 .. 2026-06-22 06:00 UTC):

1. to 06-04 00:10: the bot scans, opens what clears the bar, manages and books;
2. from 06-04 00:10 (TRX pays strongly for days): the operator closes the TRX carry, again
   and again as the bot reopens it (each a loss: a round trip of fees for five minutes of
   carry), until the circuit breaker trips;
3. two days paused: an opportunity that clears the bar is on offer (a scan by hand shows it)
   and is not taken;
4. the operator resumes; the run goes on to the end (TON's funding flips on 06-21, the
   injected squeeze comes on 06-22 02:00).

Everything the tests check is gathered into a :class:`PaperRun` (the simulator core stays
readable after its server stops).
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine_rig import CREDS, settings_for

from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.engine.bot import build_bot
from laicai.engine.context import AccountState
from laicai.engine.core import Engine, EngineSettings
from laicai.engine.events import BotEvent, BreakerTripped, PnlBreakdown
from laicai.engine.ledger import breakdown_of
from laicai.engine.pnl import CarryPnl, Valuation, carry_pnl, sum_breakdowns
from laicai.engine.runner import run_simulated
from laicai.engine.scan import scan_once
from laicai.engine.schedule import DAY_MS, HOUR_MS, MINUTE_MS
from laicai.engine.states import BotState
from laicai.sim.account import Account
from laicai.sim.clock import ManualClock
from laicai.sim.exchange import SimExchange
from laicai.sim.ledger import total_equity_usdt
from laicai.sim.scenario import ScenarioSetup, load_scenario
from laicai.sim.server.app import SimServer
from laicai.store import open_store
from laicai.store.records import (
    BorrowEvent,
    EarnEvent,
    Fill,
    FundingPayment,
    PositionRecord,
)
from laicai.store.states import PositionStatus
from laicai.strategy import Opportunity
from laicai.testing.sim import SimTimeClock
from laicai.venues.okx import create_exchange

SCENARIO = Path(__file__).with_name("paper_run_30d.yml")
TON_SWAP, TRX_SWAP, BTC_SWAP = "TON-USDT-SWAP", "TRX-USDT-SWAP", "BTC-USDT-SWAP"

SCAN_MS = HOUR_MS
RISK_MS = HOUR_MS
PUSH_MS = 5 * MINUTE_MS
EQUITY_MS = 2 * HOUR_MS
HEARTBEAT_MS = 6 * HOUR_MS
BREAKER_AT = 11 * DAY_MS + 18 * HOUR_MS + 10 * MINUTE_MS  # 2026-06-04 00:10: forced losses
PAUSED_FOR = 2 * DAY_MS
MAX_FORCED_CLOSES = 8
SQUEEZE_AT = 29 * DAY_MS + 20 * HOUR_MS  # as in the scenario file
SQUEEZE_LEN = 30 * MINUTE_MS


def engine_settings() -> EngineSettings:
    """Hourly scans (five minutes past), the full risk check every :data:`RISK_MS`, an equity
    snapshot every :data:`EQUITY_MS`, the heartbeat of the run record every
    :data:`HEARTBEAT_MS` (every state change writes it too); bookkeeping and the daily report
    at their fixed times (hourly, daily)."""
    return EngineSettings(mode="paper", scan_interval_ms=SCAN_MS, risk_interval_ms=RISK_MS,
                          equity_interval_ms=EQUITY_MS, heartbeat_ms=HEARTBEAT_MS,
                          scan_delay_ms=5 * MINUTE_MS)


@dataclass
class Carry:
    """One position as the store holds it at the end, with everything booked to it."""

    record: PositionRecord
    fills: list[Fill]
    funding: list[FundingPayment]
    earn: list[EarnEvent]
    borrow: list[BorrowEvent]
    pnl: CarryPnl  # decomposed at the end, at the venue's index and mark

    @property
    def open_ms(self) -> int:
        return int(self.record.open_timestamp.timestamp() * 1000)

    @property
    def close_ms(self) -> int | None:
        ts = self.record.close_timestamp
        return None if ts is None else int(ts.timestamp() * 1000)


@dataclass
class PaperRun:
    setup: ScenarioSetup
    ex: SimExchange
    events: list[BotEvent]
    carries: dict[int, Carry]
    db_path: Path
    min_apr: Decimal
    start_ms: int
    end_ms: int
    equity_start: Decimal
    equity_end: Decimal
    final_state: BotState
    wall_s: float
    forced_closes: list[tuple[int, int, Decimal]] = field(default_factory=list)  # ms, id, pnl
    tripped_ms: int | None = None
    state_after_trip: BotState | None = None
    resumed_ms: int | None = None
    states_while_paused: set[BotState] = field(default_factory=set)
    offered_while_paused: list[Opportunity] = field(default_factory=list)
    marks_pushed: int = 0
    requests: int = 0  # REST requests the simulator answered
    jobs: dict[str, int] = field(default_factory=dict)
    job_s: dict[str, float] = field(default_factory=dict)
    running_books: PnlBreakdown | None = None
    direct_books: PnlBreakdown | None = None

    @property
    def acct(self) -> Account:
        return self.ex.accounts["main"]

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def ms(self, event: BotEvent) -> int:
        return int(event.ts.timestamp() * 1000)

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the bot's database as it was left (read-only)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as db:
            return list(db.execute(query, args))


def build_exchange(setup: ScenarioSetup) -> SimExchange:
    return SimExchange(clock=ManualClock(setup.start_ms), plan=setup.plan,
                       instruments=setup.instruments,
                       accounts=[a.to_setup() for a in setup.accounts], seed=setup.seed)


class Driver:
    """Moves simulated time with ``run_simulated``, pushing held swaps' marks on the way."""

    def __init__(self, engine: Engine, ex: SimExchange) -> None:
        self.engine = engine
        self.ex = ex
        self.pushed = 0
        self.jobs: dict[str, int] = {}
        self.job_s: dict[str, float] = {}
        run_job = engine.run_job

        async def counted(name: str) -> None:  # how often each job ran, and how long
            started = time.perf_counter()
            try:
                await run_job(name)
            finally:
                self.jobs[name] = self.jobs.get(name, 0) + 1
                self.job_s[name] = self.job_s.get(name, 0.0) + time.perf_counter() - started

        engine.run_job = counted  # type: ignore[method-assign]

    def advance_to(self, ts_ms: int) -> None:
        clock = self.ex.clock
        assert isinstance(clock, ManualClock)
        if ts_ms > clock.now_ms():
            clock.set(ts_ms)
        self.ex.sync()

    async def until(self, end_ms: int) -> None:
        engine = self.engine
        t = engine.now_ms()
        while t < end_ms:
            t = min(t - t % PUSH_MS + PUSH_MS, end_ms)
            await run_simulated(engine, t, self.advance_to)
            for inst_id in sorted({v.symbol for v in engine.last_views.values()}):
                await engine.on_mark(inst_id, self.ex.mark_px(inst_id))
                self.pushed += 1


async def open_carry(store: Any, inst_id: str) -> PositionRecord | None:
    return next((p for p in await store.list_open_positions() if p.swap_inst_id == inst_id),
                None)


async def collect(store: Any, ex: SimExchange) -> dict[int, Carry]:
    """Every position the bot created, with its fills and bills, decomposed at the venue's
    current index (coin) and mark (perp); a closed carry's Earn and borrow interest at its
    exit price (the split only: the total does not depend on it)."""
    rows = await store.list_open_positions()
    rows += await store.list_closed_positions(limit=10_000)
    out: dict[int, Carry] = {}
    for pos in sorted(rows, key=lambda p: p.id):
        fills: list[Fill] = []
        for order in await store.list_orders(pos.id):
            fills.extend(await store.list_fills(order.client_order_id))
        funding = await store.list_funding_payments(pos.id)
        earn = await store.list_earn_events(pos.id)
        borrow = await store.list_borrow_events(pos.id)
        coin = pos.spot_inst_id.split("-")[0]
        closed = pos.status is PositionStatus.CLOSED
        valuation = Valuation(ex.index_px(coin), ex.mark_px(pos.swap_inst_id),
                              pos.exit_spot_price if closed else None)
        pnl = carry_pnl(pos, fills, funding,
                        contract_value=ex.instruments[pos.swap_inst_id].ct_val,
                        valuation=valuation, earn=earn, borrow=borrow)
        out[pos.id] = Carry(pos, fills, funding, earn, borrow, pnl)
    return out


async def direct_books(store: Any, engine: Engine, positions: list[PositionRecord],
                       account: AccountState) -> PnlBreakdown:
    """What :meth:`Engine.books` sums, computed the slow way: every carry decomposed from
    everything the store holds for it."""
    parts = [await breakdown_of(store, p, engine.instruments)
             for p in await store.list_closed_positions(limit=10_000)
             if p.status is PositionStatus.CLOSED]
    for p in positions:
        perp = account.positions.get(p.swap_inst_id)
        parts.append(await breakdown_of(store, p, engine.instruments,
                                        spot_px=account.price(p.symbol) or None,
                                        mark_px=perp.mark_px if perp else None))
    return sum_breakdowns(parts)


async def paper_run(workdir: Path) -> PaperRun:
    wall = time.perf_counter()
    setup = load_scenario(SCENARIO).build()
    assert setup.duration_ms is not None
    ex = build_exchange(setup)
    acct = ex.accounts["main"]
    settings = settings_for()
    db_path = workdir / "paper.db"
    store = await open_store(DatabaseConfig(path=db_path), None)
    try:
        async with SimServer(ex, rate_limits=False) as srv, create_exchange(
                OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
                CREDS) as okx:
            bot = await build_bot(settings, venue=okx, store=store, clock=SimTimeClock(ex),
                                  ws_prices=False, engine_settings=engine_settings())
            engine = bot.engine
            events: list[BotEvent] = []
            bot.bus.listen(events.append)
            equity_start = total_equity_usdt(ex, acct)
            await engine.start()
            drive = Driver(engine, ex)
            start = setup.start_ms
            run = PaperRun(setup, ex, events, {}, db_path,
                           settings.strategy.min_annualized_return, start,
                           start + setup.duration_ms, equity_start, equity_start,
                           engine.state, 0.0)

            # 1. sixteen days of business as usual
            await drive.until(start + BREAKER_AT)

            # 2. forced losses: close the TRX carry each time the bot has reopened it
            for _ in range(MAX_FORCED_CLOSES):
                pos = await open_carry(store, TRX_SWAP)
                if pos is not None:
                    await engine.operator_close(pos.id, "paper-run test")
                    closed = await store.get_position(pos.id)
                    assert closed is not None and closed.pnl_usd is not None
                    run.forced_closes.append((engine.now_ms(), pos.id, closed.pnl_usd))
                await drive.until(engine.now_ms() + HOUR_MS)
                if any(isinstance(e, BreakerTripped) for e in events):
                    break
            trips = [e for e in events if isinstance(e, BreakerTripped)]
            if trips:
                run.tripped_ms = run.ms(trips[0])
                run.state_after_trip = engine.state

                # 3. two days paused; halfway, look at what the market offers
                paused_until = engine.now_ms() + PAUSED_FOR
                while engine.now_ms() < paused_until:
                    await drive.until(min(engine.now_ms() + 6 * HOUR_MS, paused_until))
                    run.states_while_paused.add(engine.state)
                    if not run.offered_while_paused and \
                            engine.now_ms() >= paused_until - PAUSED_FOR // 2:
                        report = await scan_once(okx, engine.scan_params)
                        run.offered_while_paused = list(report.result.accepted)

                # 4. the operator resumes
                await engine.resume("paper-run test")
                run.resumed_ms = engine.now_ms()

            await drive.until(run.end_ms)
            await engine.book()  # the last hour's bills
            run.final_state = engine.state
            # the equity snapshots' running books against every carry decomposed afresh
            positions = await store.list_open_positions()
            account = engine.last_account
            assert account is not None
            run.running_books = await engine.books(positions, account)
            run.direct_books = await direct_books(store, engine, positions, account)
            run.carries = await collect(store, ex)
            run.equity_end = total_equity_usdt(ex, acct)
            run.marks_pushed = drive.pushed
            run.requests = srv.request_count
            run.jobs = dict(drive.jobs)
            run.job_s = dict(drive.job_s)
            await engine.stop("paper run over")
    finally:
        await store.close()
        gc.collect()
    run.wall_s = time.perf_counter() - wall
    return run


def run_paper(workdir: Path) -> PaperRun:
    """The run, in its own event loop (a module-scoped fixture shares it between tests)."""
    return asyncio.run(paper_run(workdir))
