"""The engine: one object that owns all trading state and is driven one call at a time.

A driver (the live runner's queue consumer, or a simulated-time driver in tests and
backtests) calls :meth:`Engine.run_job` when a timer is due, :meth:`Engine.on_mark` when a
mark price is pushed, and the operator methods when a person asks. Each call runs to the end
before the next starts, so the engine needs no locks and never sees a half-finished operation
(seed 000 step 11: no new signal while an operation is in flight).

The cycle (ARCHITECTURE.md): scan -> strategy -> risk approval -> execution.open; every
minute and on every pushed mark price: account snapshot -> guards -> commands -> execution.
Nothing here knows whether orders reach OKX, the simulator, or nobody (dry run).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from laicai.domain.instrument import Instrument
from laicai.domain.market import MarkPrice
from laicai.engine import context as ctx
from laicai.engine import ledger
from laicai.engine.actions import CarryActions
from laicai.engine.bus import EventBus
from laicai.engine.events import (
    BotEvent,
    BotStarted,
    BotStateChanged,
    BotStopped,
    BreakerTripped,
    DailyReport,
    EntriesPaused,
    EntriesResumed,
    HedgeRebalanced,
    MarginLevelChanged,
    MarginToppedUp,
    PnlBreakdown,
    PositionClosed,
    ProfitSwept,
    RiskAlert,
)
from laicai.engine.pnl import sum_breakdowns
from laicai.engine.scan import ScanReport, ScanVenue, scan_once
from laicai.engine.schedule import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, Job, Schedule
from laicai.engine.states import BotState, check_bot_transition
from laicai.errors import LaicaiError
from laicai.execution.carry import RedemptionPending
from laicai.execution.events import (
    CarryClosed,
    CarryOpened,
    CarryOpenFailed,
    CarryReset,
    ExecutionError,
    ExecutionEvent,
    LegRepaired,
    NakedExposureAlert,
    RedemptionDelayed,
)
from laicai.execution.orders import Clock
from laicai.risk import (
    Alert,
    Approval,
    BreakerState,
    BreakerStatus,
    CarryView,
    CloseCarry,
    ClosedCarry,
    Command,
    ExchangeGuardState,
    ExchangeStats,
    MarginLevel,
    PauseEntries,
    PriceSample,
    Rebalance,
    ResetCarry,
    RiskParams,
    SweepProfit,
    TopUpMargin,
    TripBreaker,
    Veto,
    approve_entry,
    assess_position,
    circuit_breaker,
    exchange_guard,
    liquidity_guard,
)
from laicai.risk.commands import AlertLevel as RiskAlertLevel
from laicai.risk.priority import sort_commands
from laicai.store.records import AlertEvent, EquitySnapshot, PositionChanges, PositionRecord
from laicai.store.repository import Repository
from laicai.store.states import AlertLevel, PositionStatus
from laicai.strategy import Opportunity, ScanParams
from laicai.strategy.sizing import plan_size
from laicai.venues.port import TradingExchange

log = logging.getLogger(__name__)
ZERO = Decimal(0)
ENGINE_KEY = "engine"
ALERT_LEVELS = {RiskAlertLevel.INFO: "INFO", RiskAlertLevel.WARNING: "WARN",
                RiskAlertLevel.ERROR: "ERROR", RiskAlertLevel.CRITICAL: "ERROR"}
"""A guard's alert level -> the operator's three (a critical one is never softened)."""
FORCED_CHECK_MS = 10_000  # pushed prices bring the risk check forward at most this often
MEMORY_KEY = "engine_memory"
RECENT_CLOSES = 50  # the newest closed carries the circuit breaker looks at
MARGIN_WRITE_STEP = Decimal("0.005")  # a stored margin ratio follows moves this large ...
MARGIN_WRITE_MS = HOUR_MS  # ... and is rewritten at least this often

Bookkeeper = Callable[[Sequence[PositionRecord]], Awaitable[Any]]


class EngineVenue(TradingExchange, ScanVenue, Protocol):
    """The port the engine needs: reads (with batched books), writes, and bills."""

    async def watch_mark_price(self, inst_id: str) -> MarkPrice: ...


@dataclass(frozen=True, slots=True)
class EngineSettings:
    mode: str  # live | paper | backtest
    dry_run: bool = False
    scan_interval_ms: int = 45 * SECOND_MS
    risk_interval_ms: int = MINUTE_MS
    equity_interval_ms: int = HOUR_MS
    bookkeeping_offset_ms: int = MINUTE_MS  # after each hour, where settlements fall
    heartbeat_ms: int = 10 * SECOND_MS
    scan_delay_ms: int = 5 * SECOND_MS  # first scan after the first risk check
    ws_prices: bool = False  # a mark-price watcher feeds on_mark (exchange guard checks it)

    def jobs(self) -> list[Job]:
        return [
            Job("heartbeat", self.heartbeat_ms),
            Job("risk", self.risk_interval_ms),
            Job("bookkeeping", HOUR_MS, aligned=True, offset_ms=self.bookkeeping_offset_ms),
            Job("equity", self.equity_interval_ms, aligned=True),
            Job("daily", DAY_MS, aligned=True, offset_ms=2 * MINUTE_MS),
            Job("scan", self.scan_interval_ms, offset_ms=self.scan_delay_ms),
        ]


@dataclass(slots=True)
class Memory:
    """What survives a restart besides the store's positions (kept in bot_state)."""

    breaker: BreakerState = field(default_factory=BreakerState)
    operator_pause: str | None = None
    peak_equity: Decimal = ZERO
    start_equity: Decimal | None = None
    carries: dict[int, ctx.CarryMemory] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        b = self.breaker
        return {
            "breaker": {"status": b.status.value, "since_ms": b.since_ms,
                        "tripped_ms": b.tripped_ms, "reason": b.reason,
                        "peak": None if b.peak_equity_usdt is None else str(b.peak_equity_usdt)},
            "operator_pause": self.operator_pause,
            "peak_equity": str(self.peak_equity),
            "start_equity": None if self.start_equity is None else str(self.start_equity),
            "carries": {str(k): {"budget": str(v.margin_budget), "level": v.level.name,
                                 "naked_since_ms": v.naked_since_ms, "resets": v.resets}
                        for k, v in self.carries.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Memory:
        if not data:
            return cls()
        b = data.get("breaker") or {}
        breaker = BreakerState(
            status=BreakerStatus(b.get("status", "armed")), since_ms=b.get("since_ms"),
            tripped_ms=b.get("tripped_ms"), reason=b.get("reason", ""),
            peak_equity_usdt=None if b.get("peak") is None else Decimal(b["peak"]))
        carries = {int(k): ctx.CarryMemory(Decimal(v["budget"]), MarginLevel[v["level"]],
                                           v.get("naked_since_ms"), v.get("resets"))
                   for k, v in (data.get("carries") or {}).items()}
        start = data.get("start_equity")
        return cls(breaker, data.get("operator_pause"), Decimal(data.get("peak_equity", "0")),
                   None if start is None else Decimal(start), carries)


class Engine:
    """See the module docstring. Construct, then ``await start()``; drive with ``run_job``,
    ``on_mark`` and the operator methods; ``await stop()`` at the end."""

    def __init__(self, *, venue: EngineVenue, store: Repository, clock: Clock,
                 actions: CarryActions, bus: EventBus, settings: EngineSettings,
                 scan_params: ScanParams, risk: RiskParams,
                 instruments: Mapping[str, Instrument], spot_fee_rate: Decimal,
                 bookkeeper: Bookkeeper | None = None) -> None:
        self.venue = venue
        self.store = store
        self.clock = clock
        self.actions = actions
        self.bus = bus
        self.settings = settings
        self.scan_params = scan_params
        self.risk = risk
        self.instruments = instruments
        self.spot_fee_rate = spot_fee_rate
        self.bookkeeper = bookkeeper
        self.state = BotState.STARTING
        self.memory = Memory()
        self.health = ctx.Health()
        self.guard = ExchangeGuardState()
        self.entry_pause: PauseEntries | None = None
        self.prices: dict[str, deque[PriceSample]] = {}
        self.last_account: ctx.AccountState | None = None
        self.last_views: dict[int, CarryView] = {}
        self.last_scan: ScanReport | None = None
        self.started_at: datetime | None = None
        self.schedule: Schedule | None = None
        self.loop_latency_ms = 0.0
        self.counters: dict[str, int] = {"opened": 0, "closed": 0, "resets": 0, "alerts": 0}
        self._to_record: list[ExecutionEvent] = []
        self._forced_check_ms = -FORCED_CHECK_MS
        self._books = ledger.RunningBooks(instruments)
        self._saved_memory: dict[str, Any] | None = None  # the memory as last written
        # position id -> (when, margin ratio) its margin figures were last stored
        self._margin_written: dict[int, tuple[int, Decimal | None]] = {}

    # ------------------------------------------------------------------ plumbing
    def now(self) -> datetime:
        return self.clock.now()

    def now_ms(self) -> int:
        return ctx.ms(self.clock.now())

    def publish(self, event: BotEvent) -> None:
        self.bus.publish(event)

    def on_execution_event(self, event: ExecutionEvent) -> None:
        """The executor's event sink: everything execution reports goes on the bus, and the
        operator-relevant ones into the store's events (written after the operation)."""
        self.publish(event)
        if isinstance(event, RECORDED):
            self._to_record.append(event)

    async def _flush_records(self) -> None:
        while self._to_record:
            ev = self._to_record.pop(0)
            kind, level, message, payload = describe(ev)
            if level != "INFO":
                self.counters["alerts"] += 1
            await self.store.add_event(AlertEvent(ev.ts, AlertLevel(level), kind, message,
                                                  ev.position_id, payload))

    async def _set_state(self, to: BotState, reason: str = "") -> None:
        if to is self.state:
            return
        check_bot_transition(self.state, to)
        old, self.state = self.state, to
        quiet = to.busy or (old.busy and to is BotState.IDLE and not reason)
        log.log(logging.DEBUG if quiet else logging.INFO, "bot state %s -> %s%s", old, to,
                f" ({reason})" if reason else "")
        await self._save_engine_row(clean_exit=to is BotState.STOPPED)
        if to in (BotState.PAUSED, BotState.EMERGENCY, BotState.STOPPED, BotState.IDLE) or \
                old in (BotState.PAUSED, BotState.STARTING):
            self.publish(BotStateChanged(self.now(), old.value, to.value, reason))

    async def _save_engine_row(self, *, clean_exit: bool = False) -> None:
        now = self.now()
        await self.store.set_bot_state(ENGINE_KEY, {
            "state": self.state.value, "mode": self.settings.mode,
            "dry_run": self.settings.dry_run, "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "heartbeat": now.isoformat(), "clean_exit": clean_exit}, ts=now)

    async def _save_memory(self) -> None:
        """Persist the memory when it changed since it was last written (every risk cycle
        asks; most cycles change nothing)."""
        data = self.memory.to_json()
        if data == self._saved_memory:
            return
        await self.store.set_bot_state(MEMORY_KEY, data, ts=self.now())
        self._saved_memory = data

    async def _alert(self, level: str, message: str, position_id: int | None = None,
                     kind: str = "risk") -> None:
        self.counters["alerts"] += 1
        self.publish(RiskAlert(self.now(), level, message, position_id))
        await self.store.add_event(AlertEvent(self.now(), AlertLevel(level), kind, message,
                                              position_id))

    def in_state(self, state: BotState) -> bool:
        """``self.state is state``, re-read after an await (mypy narrows attributes)."""
        return self.state is state

    @property
    def idle_state(self) -> BotState:
        """Where the bot rests between operations: PAUSED while entries are stopped by the
        breaker or an operator, IDLE otherwise."""
        if self.memory.breaker.tripped or self.memory.operator_pause:
            return BotState.PAUSED
        return BotState.IDLE

    # ------------------------------------------------------------------ start / stop
    async def start(self) -> None:
        """Reconcile with the exchange and bring every position in flight to rest before
        anything new is traded; then rest in IDLE (or PAUSED if it was paused)."""
        self.started_at = self.now()
        await self._save_engine_row()
        self.memory = Memory.from_json(await self.store.get_bot_state(MEMORY_KEY))
        recovered = await self.actions.recover()
        if recovered.positions:
            await self._alert("WARN", "crash recovery brought positions to rest: " + ", ".join(
                f"#{k} -> {v}" for k, v in recovered.positions.items()), kind="recovery")
        positions = await self.store.list_open_positions()
        account = await ctx.fetch_account(self.venue, positions, self.now_ms(), self.health)
        self.last_account = account
        known = {p.swap_inst_id for p in positions}
        unknown = sorted(i for i in account.positions if i not in known)
        if unknown:
            await self._alert("WARN", "exchange positions the database does not know (not "
                              "touched; close them by hand or with `laicai close-all`): "
                              + ", ".join(unknown), kind="unknown_position")
        for pos in positions:
            mem = self.memory.carries.get(pos.id)
            if (mem is None or pos.id in recovered.positions
                    or mem.resets not in (None, pos.resets_count)):
                # a reset that recovery finished, or that a crash kept from being remembered,
                # rebuilt the carry at today's prices: the margin budget from before it is
                # stale (it would read as a surplus to sweep, or a shortfall to top up)
                self.memory.carries[pos.id] = ctx.carry_memory(pos)
        equity = account.equity_usdt
        if self.memory.start_equity is None:
            self.memory.start_equity = equity
        self.memory.peak_equity = max(self.memory.peak_equity, equity)
        await self._save_memory()
        self.schedule = Schedule(self.settings.jobs(), self.now_ms())
        await self._set_state(self.idle_state, "started")
        self.publish(BotStarted(self.now(), self.settings.mode, self.settings.dry_run, equity,
                                len(positions), len(recovered.positions)))

    async def stop(self, reason: str = "stopped", *, manual: bool = False) -> None:
        if self.state is BotState.STOPPED:
            return
        if self.state.busy and self.state is not BotState.EMERGENCY:
            self.state = self.idle_state  # an interrupted operation: recovery finishes it
        await self._set_state(BotState.STOPPED, reason)
        self.publish(BotStopped(self.now(), reason, manual))

    # ------------------------------------------------------------------ timers
    async def run_due(self) -> list[str]:
        """Run every job due now (the drivers call this when the next one falls due)."""
        assert self.schedule is not None, "start() first"
        ran = self.schedule.pop_due(self.now_ms())
        for name in ran:
            await self.run_job(name)
        return ran

    async def run_job(self, name: str) -> None:
        if self.state is BotState.STOPPED:
            return
        jobs: dict[str, Callable[[], Awaitable[None]]] = {
            "heartbeat": self._save_engine_row, "risk": self.manage, "scan": self.scan,
            "bookkeeping": self.book, "equity": self.snapshot_equity,
            "daily": self.daily_report}
        try:
            await jobs[name]()
            await self._flush_records()
        except LaicaiError as e:
            log.error("%s failed: %s", name, e)
            await self._alert("ERROR", f"{name} failed: {e}", kind="job_error")
            if self.state.busy and self.state is not BotState.EMERGENCY:
                self.state = self.idle_state

    # ------------------------------------------------------------------ scanning and entry
    async def scan(self) -> None:
        """Scan, ask risk about each accepted carry (best first), open what is approved."""
        if self.state is not BotState.IDLE:
            return
        await self._set_state(BotState.SCANNING)
        try:
            report = await scan_once(self.venue, self.scan_params, self.store, now=self.now())
            self.last_scan = report
            for opp in report.result.accepted:
                if not self.in_state(BotState.SCANNING):
                    break
                await self._consider(opp)
        finally:
            if self.state in (BotState.SCANNING, BotState.OPENING):
                await self._set_state(self.idle_state)

    async def _consider(self, opp: Opportunity) -> None:
        positions = await self.store.list_open_positions()
        account = await ctx.fetch_account(self.venue, positions, self.now_ms(), self.health)
        self._sample_prices(account)
        view = ctx.account_view(account, positions, peak_equity=self.memory.peak_equity,
                                realized_today=await self._realized_today())
        books = self.last_scan.snapshot.order_books if self.last_scan is not None else {}
        depth = (ctx.entry_depth(opp, books, self.instruments, self.risk.max_allowed_slippage)
                 if books else None)
        verdict = approve_entry(opp, view, self.risk, self.now_ms(), self.memory.breaker,
                                tuple(self.prices.get(opp.swap_inst_id, ())),
                                pause=self.entry_pause, depth=depth)
        if isinstance(verdict, Veto):
            log.info("entry %s %s vetoed: %s", opp.direction.value, opp.swap_inst_id,
                     verdict.reason)
            return
        sized = self._sized(opp, verdict)
        if sized is None:
            log.info("entry %s: approved size %s is below the minimum", opp.swap_inst_id,
                     verdict.base_qty)
            return
        await self._set_state(BotState.OPENING, f"{opp.direction.value} {opp.swap_inst_id}")
        try:
            pos = await self.actions.open(sized)
        except LaicaiError as e:
            await self._alert("ERROR", f"open {opp.swap_inst_id} failed: {e}", kind="open")
            pos = None
        if pos is not None and pos.status is PositionStatus.OPEN:
            self.counters["opened"] += 1
            self.memory.carries[pos.id] = ctx.carry_memory(pos)
            await self._save_memory()
        await self._set_state(BotState.SCANNING)

    def _sized(self, opp: Opportunity, approval: Approval) -> Opportunity | None:
        if approval.scale >= 1 or opp.base_qty is None or opp.spot_inst_id is None:
            return opp
        spot = self.instruments.get(opp.spot_inst_id)
        swap = self.instruments.get(opp.swap_inst_id)
        if spot is None or swap is None:
            return None
        plan = plan_size(approval.base_qty, spot, swap, opp.direction, self.spot_fee_rate)
        if plan is None:
            return None
        ratio = plan.base_qty / opp.base_qty
        return replace(opp, base_qty=plan.base_qty, swap_contracts=plan.swap_contracts,
                       spot_entry_qty=plan.spot_entry_qty, spot_exit_qty=plan.spot_exit_qty,
                       notional_usdt=(opp.notional_usdt or ZERO) * ratio,
                       capital_usdt=(opp.capital_usdt or ZERO) * ratio)

    def _sample_prices(self, account: ctx.AccountState) -> None:
        window = self.risk.spike_window_ms * 2
        for inst_id, perp in account.positions.items():
            self._sample(inst_id, account.ts_ms, perp.mark_px, window)
        for rate in account.funding_rates.values():
            px = account.prices.get(rate.inst_id.split("-")[0])
            if px is not None:
                self._sample(rate.inst_id, account.ts_ms, px, window)

    def _sample(self, inst_id: str, ts_ms: int, px: Decimal, window: int) -> None:
        dq = self.prices.setdefault(inst_id, deque())
        if dq and dq[-1].ts_ms > ts_ms:
            return
        dq.append(PriceSample(ts_ms, px))
        while dq and ts_ms - dq[0].ts_ms > window:
            dq.popleft()

    async def _realized_today(self, recent: Sequence[PositionRecord] | None = None
                              ) -> Decimal:
        """The PnL of the carries closed today (UTC). ``recent``: the newest closed carries
        (newest first, at most :data:`RECENT_CLOSES`) when the caller has them already; they
        hold every close of today unless all of them are from today."""
        day_start = self.now_ms() - self.now_ms() % DAY_MS
        since = datetime.fromtimestamp(day_start / 1000, UTC)
        if recent is not None and (len(recent) < RECENT_CLOSES or any(
                p.close_timestamp is None or p.close_timestamp < since for p in recent)):
            closed = [p for p in recent
                      if p.close_timestamp is not None and p.close_timestamp >= since]
        else:
            closed = await self.store.list_closed_positions(since=since)
        return sum((p.pnl_usd or ZERO for p in closed if p.status is PositionStatus.CLOSED),
                   ZERO)

    # ------------------------------------------------------------------ managing
    async def manage(self) -> None:
        """The risk cycle over every open carry, the breaker and the exchange guard."""
        if self.state not in (BotState.IDLE, BotState.PAUSED):
            return
        await self._set_state(BotState.MANAGING)
        try:
            await self._manage_once()
        finally:
            if self.in_state(BotState.MANAGING):
                await self._set_state(self.idle_state)

    async def _manage_once(self) -> None:
        now_ms = self.now_ms()
        positions = await self.store.list_open_positions()
        if await self._settle_in_flight(positions):
            positions = await self.store.list_open_positions()
        account = await ctx.fetch_account(self.venue, positions, now_ms, self.health)
        self.last_account = account
        self._sample_prices(account)
        equity = account.equity_usdt
        self.memory.peak_equity = max(self.memory.peak_equity, equity)
        recent = await self.store.list_closed_positions(limit=RECENT_CLOSES)
        view_acct = ctx.account_view(account, positions, peak_equity=self.memory.peak_equity,
                                     realized_today=await self._realized_today(recent))
        commands: list[Command] = []
        views: dict[int, CarryView] = {}
        for pos in positions:
            mem = self.memory.carries.setdefault(
                pos.id, ctx.carry_memory(pos))
            view = ctx.carry_view(pos, account, mem, self.instruments)
            if view is None:
                continue
            if view.naked_usdt > self.risk.max_naked_usd:
                if mem.naked_since_ms is None:
                    mem.naked_since_ms = now_ms
                    view = replace(view, naked_since_ms=now_ms)
            else:
                mem.naked_since_ms = None
            views[pos.id] = view
            await self._persist_margin(pos, view)
        self.last_views = views
        self._margin_written = {k: v for k, v in self._margin_written.items() if k in views}
        funds = view_acct.funds
        for view in sorted(views.values(), key=lambda v: (v.margin_ratio is None,
                                                          v.margin_ratio or ZERO)):
            verdict = assess_position(view, view_acct, self.risk, now_ms, funds=funds)
            funds = verdict.funds_left
            await self._note_level(view, verdict.margin_level)
            commands.extend(verdict.commands)
        breaker, b_cmds = circuit_breaker.evaluate(
            self.memory.breaker, self._closed_carries(recent), view_acct, self.risk, now_ms)
        self.memory.breaker = breaker
        commands.extend(b_cmds)
        stats = ExchangeStats(
            window_ms=self.health.window_ms, requests=self.health.requests,
            errors=self.health.errors,
            latencies_ms=tuple(s[1] for s in self.health.samples),
            last_ws_message_ms=self._last_ws_ms(now_ms))
        self.guard, g_cmds = exchange_guard.evaluate(self.guard, stats, self.risk, now_ms)
        commands.extend(g_cmds)
        for inst_id, samples in self.prices.items():
            spike = liquidity_guard.detect_spike(samples, self.risk, now_ms)
            if spike is not None:
                commands.append(replace(spike, reason=f"{inst_id}: {spike.reason}"))
                break
        await self.dispatch(sort_commands(commands))
        await self._save_memory()

    async def _settle_in_flight(self, positions: Sequence[PositionRecord]) -> bool:
        """Carries left between two states by an operation that failed half-way (legs
        apart after an open, a reset or close that raised) are finished or unwound now, not
        only at the next restart: a naked leg must not wait. True if any was touched."""
        stuck = [p for p in positions if p.status in IN_FLIGHT]
        for pos in stuck:
            try:
                await self.actions.resume(pos.id)
            except RedemptionPending as e:
                await self._alert("WARN", str(e), pos.id, kind="redemption")
            except LaicaiError as e:
                await self._alert("ERROR", f"carry #{pos.id} ({pos.swap_inst_id}) is stuck in "
                                  f"{pos.status.value}: {e}", pos.id, kind="stuck")
        return bool(stuck)

    def _last_ws_ms(self, now_ms: int) -> int:
        """When the last WebSocket message arrived, for the exchange guard. Before the first
        one, the start counts as one: the mark-price subscriptions open only after the first
        check, so "none yet" must not pause entries until ``max_ws_stale_ms`` has passed."""
        if not self.settings.ws_prices or not self.last_views:
            return now_ms  # nothing is watched: no carry is held (or prices are polled)
        if self.health.last_ws_ms is not None:
            return self.health.last_ws_ms
        return ctx.ms(self.started_at) if self.started_at is not None else now_ms

    async def _persist_margin(self, pos: PositionRecord, view: CarryView) -> None:
        """Store a carry's margin figures for readers outside the engine (``laicai status``)
        when its margin ratio moved by :data:`MARGIN_WRITE_STEP` since they were written, or
        they are :data:`MARGIN_WRITE_MS` old. The guards judge the live view; rewriting every
        carry's row at every risk check (each minute, and at each pushed price) would cost a
        write per carry per check for figures that mostly did not move."""
        now_ms = self.now_ms()
        last = self._margin_written.get(pos.id)
        if last is not None:
            written_ms, ratio = last
            if (now_ms - written_ms < MARGIN_WRITE_MS and ratio is not None
                    and view.margin_ratio is not None
                    and abs(view.margin_ratio - ratio) < MARGIN_WRITE_STEP):
                return
        await self.store.update_position(pos.id, PositionChanges(
            margin_ratio=view.margin_ratio, okx_mgn_ratio=view.okx_mgn_ratio,
            liq_px=view.liq_px, unrealized_pnl_usd=view.total_pnl_usdt), ts=self.now())
        self._margin_written[pos.id] = (now_ms, view.margin_ratio)

    async def _note_level(self, view: CarryView, level: MarginLevel) -> None:
        mem = self.memory.carries.get(view.position_id)
        if mem is None or mem.level is level:
            return
        old, mem.level = mem.level, level
        self.publish(MarginLevelChanged(self.now(), view.position_id, view.symbol, old.name,
                                        level.name, view.margin_ratio, view.okx_mgn_ratio))

    @staticmethod
    def _closed_carries(closed: Sequence[PositionRecord]) -> list[ClosedCarry]:
        """The circuit breaker's view of the newest closed carries."""
        return [ClosedCarry(p.id, p.pnl_usd or ZERO,
                            ctx.ms(p.close_timestamp or p.open_timestamp))
                for p in closed if p.status is PositionStatus.CLOSED]

    async def on_mark(self, inst_id: str, mark: Decimal) -> None:
        """A pushed mark price: re-judge the carry on that swap at once with the account as
        last read; a reset or close goes out now, milder rungs wait for the next full check
        (which is brought forward). Timed on the engine's clock when it arrives, not by the
        push's own timestamp: the venue's clock may be another one (``laicai sim`` plays a
        scenario's time, at its own speed)."""
        now_ms = self.now_ms()
        self.health.last_ws_ms = now_ms
        self._sample(inst_id, now_ms, mark, self.risk.spike_window_ms * 2)
        if self.state not in (BotState.IDLE, BotState.PAUSED) or self.last_account is None:
            return
        for pid, view in list(self.last_views.items()):
            if view.symbol != inst_id:
                continue
            mem = self.memory.carries.get(pid)
            if mem is None:
                continue
            perp = self.last_account.positions.get(inst_id)
            fresh = ctx.with_mark(view, perp, mark, mem.margin_budget)
            acct = ctx.account_view(self.last_account, [], peak_equity=self.memory.peak_equity,
                                    realized_today=ZERO)
            verdict = assess_position(fresh, acct, self.risk, self.now_ms())
            urgent = [c for c in verdict.commands if isinstance(c, ResetCarry | CloseCarry)]
            # a worse rung, or a top-up still wanted at the same rung (a second one after the
            # price kept going): the full check comes forward, at most every FORCED_CHECK_MS
            wants_topup = any(isinstance(c, TopUpMargin) for c in verdict.commands)
            now_ms = self.now_ms()
            if ((verdict.margin_level > mem.level or urgent
                 or (wants_topup and now_ms - self._forced_check_ms >= FORCED_CHECK_MS))
                    and self.schedule is not None):
                self._forced_check_ms = now_ms
                self.schedule.run_soon("risk", now_ms)
            if urgent:
                await self._set_state(BotState.MANAGING, f"mark {mark} on {inst_id}")
                try:
                    await self._note_level(fresh, verdict.margin_level)
                    await self.dispatch(urgent)
                finally:
                    if self.in_state(BotState.MANAGING):
                        await self._set_state(self.idle_state)

    # ------------------------------------------------------------------ commands
    async def dispatch(self, commands: Sequence[Command]) -> None:
        done: set[int] = set()  # carries closed or reset in this batch: later ones are stale
        for cmd in commands:
            pid = getattr(cmd, "position_id", None)
            if pid is not None and pid in done:
                continue
            try:
                await self._do(cmd)
            except RedemptionPending as e:
                await self._alert("WARN", str(e), pid, kind="redemption")
            except LaicaiError as e:
                log.error("%s failed: %s", type(cmd).__name__, e)
                await self._alert("ERROR", f"{type(cmd).__name__} failed: {e}", pid,
                                  kind="execution")
            if isinstance(cmd, CloseCarry | ResetCarry):
                done.add(cmd.position_id)
        await self._flush_records()

    async def _do(self, cmd: Command) -> None:
        if isinstance(cmd, TopUpMargin):
            added = await self.actions.top_up(cmd.position_id, cmd.amount_usdt,
                                              cmd.source.value)
            mem = self.memory.carries.get(cmd.position_id)
            if mem is not None and added > 0:
                mem.margin_budget += added
            self.publish(MarginToppedUp(self.now(), cmd.position_id,
                                        self._symbol(cmd.position_id), added or ZERO,
                                        cmd.source.value, self._ratio(cmd.position_id)))
        elif isinstance(cmd, SweepProfit):
            moved = await self.actions.sweep(cmd.position_id, cmd.amount_usdt)
            mem = self.memory.carries.get(cmd.position_id)
            if mem is not None and moved > 0:
                mem.margin_budget -= moved
            self.publish(ProfitSwept(self.now(), cmd.position_id, self._symbol(cmd.position_id),
                                     moved, self._ratio(cmd.position_id)))
        elif isinstance(cmd, ResetCarry):
            pos = await self.actions.reset(cmd.position_id, cmd.reason)
            if pos is not None:
                self.counters["resets"] += 1
                self.memory.carries[pos.id] = ctx.carry_memory(pos)
                self.last_views.pop(pos.id, None)
        elif isinstance(cmd, CloseCarry):
            await self.close_position(cmd.position_id, cmd.reason)
        elif isinstance(cmd, Rebalance):
            await self.actions.rebalance(cmd.position_id, cmd.leg.value, cmd.base_qty)
            self.publish(HedgeRebalanced(self.now(), cmd.position_id,
                                         self._symbol(cmd.position_id), cmd.leg.value,
                                         cmd.base_qty, cmd.reason))
        elif isinstance(cmd, PauseEntries):
            if self.entry_pause is None or self.entry_pause.reason != cmd.reason:
                until = (None if cmd.until_ms is None
                         else datetime.fromtimestamp(cmd.until_ms / 1000, UTC))
                self.publish(EntriesPaused(self.now(), cmd.reason, until))
            self.entry_pause = cmd
        elif isinstance(cmd, TripBreaker):
            self.publish(BreakerTripped(self.now(), cmd.reason))
            await self.store.add_event(AlertEvent(self.now(), AlertLevel.CRITICAL, "breaker",
                                                  cmd.reason))
            await self._save_memory()
        elif isinstance(cmd, Alert):
            await self._alert(ALERT_LEVELS[cmd.level], cmd.message, cmd.position_id)

    def _symbol(self, position_id: int) -> str:
        view = self.last_views.get(position_id)
        return view.symbol if view else ""

    def _ratio(self, position_id: int) -> Decimal | None:
        view = self.last_views.get(position_id)
        return view.margin_ratio if view else None

    async def close_position(self, position_id: int, reason: str) -> PositionRecord | None:
        pos = await self.actions.close(position_id, reason)
        if pos is None or pos.status is not PositionStatus.CLOSED:
            return pos
        self.counters["closed"] += 1
        self.memory.carries.pop(pos.id, None)
        self.last_views.pop(pos.id, None)
        if self.bookkeeper is not None:
            await self.bookkeeper([pos])
        # the carry's whole PnL (funding, Earn, basis, fees, borrow) from the exchange's
        # records replaces execution's basis-only figure: the breaker and reports use it
        breakdown = await ledger.breakdown_of(self.store, pos, self.instruments)
        pos = await self.store.update_position(pos.id, PositionChanges(
            pnl_usd=breakdown.total), ts=self.now())
        held = (pos.close_timestamp or self.now()) - pos.open_timestamp
        self.publish(PositionClosed(self.now(), pos.id, pos.swap_inst_id, pos.direction,
                                    reason, pos.position_amount, breakdown,
                                    pos.resets_count, held / timedelta(hours=1)))
        await self._judge_breaker()
        return pos

    async def _judge_breaker(self) -> None:
        """Re-judge the circuit breaker right after a close: the loss that trips it must stop
        the very next entry, not wait for the next risk cycle (a scan may come first)."""
        if self.memory.breaker.tripped or self.last_account is None:
            return
        recent = await self.store.list_closed_positions(limit=RECENT_CLOSES)
        acct = ctx.account_view(self.last_account, await self.store.list_open_positions(),
                                peak_equity=self.memory.peak_equity,
                                realized_today=await self._realized_today(recent))
        self.memory.breaker, cmds = circuit_breaker.evaluate(
            self.memory.breaker, self._closed_carries(recent), acct, self.risk, self.now_ms())
        for cmd in cmds:
            await self._do(cmd)

    # ------------------------------------------------------------------ bookkeeping
    async def book(self) -> None:
        """Book the exchange's bills (funding, Earn and borrow interest) to the carries."""
        if self.bookkeeper is None:
            return
        await self.bookkeeper(())  # it reads the open carries itself, once there are bills

    async def snapshot_equity(self) -> None:
        positions = await self.store.list_open_positions()
        account = await ctx.fetch_account(self.venue, positions, self.now_ms(), self.health)
        self.last_account = account
        upl = sum((p.upl for p in account.positions.values()), ZERO)
        books = await self.books(positions, account)
        await self.store.add_equity_snapshot(EquitySnapshot(
            self.now(), account.equity_usdt, account.usdt_available("trading"), upl,
            len(positions), {"state": self.state.value,
                             "income": str(books.funding + books.earn),
                             "costs": str(books.fees + books.borrow),
                             "basis": str(books.basis)}))

    async def books(self, positions: Sequence[PositionRecord],
                    account: ctx.AccountState) -> PnlBreakdown:
        """Every carry's decomposition so far, summed: the closed ones at their exit prices
        (kept once computed: a closed carry's books never change), the open ones now."""
        def prices(p: PositionRecord) -> tuple[Decimal | None, Decimal | None]:
            perp = account.positions.get(p.swap_inst_id)
            return account.price(p.symbol) or None, perp.mark_px if perp else None

        # incrementally: re-decomposing every carry from the store each hour re-read its
        # whole history (see ledger.RunningBooks)
        return await self._books.total(self.store, positions, prices)

    async def daily_report(self) -> None:
        now = self.now()
        day_end = datetime.fromtimestamp((self.now_ms() - self.now_ms() % DAY_MS) / 1000, UTC)
        day_start = day_end - timedelta(days=1)
        snaps = await self.store.list_equity_snapshots(since=day_start, limit=100)
        positions = await self.store.list_open_positions()
        account = await ctx.fetch_account(self.venue, positions, self.now_ms(), self.health)
        equity = account.equity_usdt
        first = snaps[0].equity_usdt if snaps else equity
        closed = [p for p in await self.store.list_closed_positions(since=day_start)
                  if p.close_timestamp is not None and p.close_timestamp < day_end]
        total = sum_breakdowns([await ledger.breakdown_of(self.store, p, self.instruments)
                                for p in closed if p.status is PositionStatus.CLOSED])
        self.publish(DailyReport(now, day_start.date().isoformat(), equity, equity - first,
                                 total, len(positions), self.counters["opened"],
                                 self.counters["closed"], self.counters["resets"],
                                 self.counters["alerts"]))
        self.counters = dict.fromkeys(self.counters, 0)

    # ------------------------------------------------------------------ operator
    async def pause(self, by: str, reason: str = "") -> str:
        why = reason or f"paused by {by}"
        self.memory.operator_pause = why
        await self._save_memory()
        if self.state is BotState.IDLE:
            await self._set_state(BotState.PAUSED, why)
        self.publish(EntriesPaused(self.now(), why, None, by_operator=True))
        return f"entries paused ({why}); open carries are still managed"

    async def resume(self, by: str) -> str:
        if self.state in (BotState.EMERGENCY, BotState.STOPPED):
            return f"cannot resume from {self.state.value}"
        self.memory.operator_pause = None
        if self.memory.breaker.tripped and self.last_account is not None:
            positions = await self.store.list_open_positions()
            acct = ctx.account_view(self.last_account, positions,
                                    peak_equity=self.memory.peak_equity, realized_today=ZERO)
            self.memory.breaker = circuit_breaker.resume(acct, self.now_ms())
        self.entry_pause = None
        await self._save_memory()
        if self.state is BotState.PAUSED:
            await self._set_state(BotState.IDLE, f"resumed by {by}")
        self.publish(EntriesResumed(self.now(), by_operator=True))
        return "resumed: new entries allowed"

    async def operator_close(self, position_id: int, by: str) -> str:
        pos = await self.store.get_position(position_id)
        if pos is None or pos.status.is_final:
            return f"no open position {position_id}"
        back = self.state
        if back not in (BotState.IDLE, BotState.PAUSED):
            return f"busy ({back.value}); try again in a moment"
        await self._set_state(BotState.MANAGING, f"close #{position_id} by {by}")
        try:
            done = await self.close_position(position_id, f"closed by {by}")
        finally:
            if self.in_state(BotState.MANAGING):
                await self._set_state(self.idle_state)
        status = done.status.value if done is not None else "not sent (dry run)"
        return f"position {position_id}: {status}"

    async def close_all(self, by: str) -> str:
        """The emergency: stop trading, flatten everything on the exchange, stop."""
        if self.state is BotState.STOPPED:
            return "already stopped"
        if self.state.busy and self.state is not BotState.EMERGENCY:
            self.state = self.idle_state
        await self._set_state(BotState.EMERGENCY, f"close-all by {by}")
        await self._alert("ERROR", f"emergency close-all requested by {by}", kind="close_all")
        summary = await self.actions.close_all()
        if self.bookkeeper is not None:
            await self.bookkeeper(await self.store.list_closed_positions(limit=20))
        self.memory.carries.clear()
        await self._save_memory()
        await self.stop(f"close-all by {by}: {summary}", manual=True)
        return summary


IN_FLIGHT = (PositionStatus.OPENING, PositionStatus.RESETTING, PositionStatus.REDEEMING,
             PositionStatus.CLOSING)

RECORDED = (CarryOpened, CarryOpenFailed, CarryReset, CarryClosed, NakedExposureAlert,
            LegRepaired, RedemptionDelayed, ExecutionError)


def describe(ev: ExecutionEvent) -> tuple[str, str, str, dict[str, Any]]:
    """(kind, level, one-line message, JSON payload) of an execution event for the store."""
    payload: dict[str, Any] = {"symbol": ev.symbol}
    if isinstance(ev, CarryOpened):
        payload.update(direction=ev.direction.value, base_qty=str(ev.base_qty),
                       spot_px=str(ev.spot_px), perp_px=str(ev.perp_px))
        return ("open", "INFO", f"opened {ev.direction.value} {ev.base_qty} {ev.symbol}",
                payload)
    if isinstance(ev, CarryOpenFailed):
        return ("open_failed", "WARN", f"open of {ev.symbol} failed: {ev.reason}", payload)
    if isinstance(ev, CarryReset):
        payload.update(cost_usdt=str(ev.cost_usdt), resets_count=ev.resets_count,
                       base_qty=str(ev.base_qty))
        return ("reset", "WARN", f"reset {ev.symbol} (#{ev.resets_count}, cost "
                                 f"{ev.cost_usdt:.2f} USDT)", payload)
    if isinstance(ev, CarryClosed):
        payload.update(reason=ev.reason, pnl_usdt=str(ev.pnl_usdt))
        return ("close", "INFO", f"closed {ev.symbol}: {ev.reason}", payload)
    if isinstance(ev, NakedExposureAlert):
        payload.update(naked_usdt=str(ev.naked_usdt))
        return ("naked", "ERROR", f"naked exposure {ev.naked_usdt:.2f} USDT on {ev.symbol}: "
                                  f"{ev.detail}", payload)
    if isinstance(ev, LegRepaired):
        payload.update(leg=ev.leg, action=ev.action, base_qty=str(ev.base_qty))
        return ("leg_repaired", "WARN", f"{ev.symbol}: {ev.leg} leg {ev.action} "
                                        f"{ev.base_qty}", payload)
    if isinstance(ev, RedemptionDelayed):
        return ("redemption", "WARN", f"{ev.ccy} redemption delayed {ev.waited_s:.0f} s "
                                      f"({ev.policy})", payload)
    assert isinstance(ev, ExecutionError)
    return ("execution_error", "ERROR", f"{ev.operation} {ev.symbol}: {ev.message}", payload)
