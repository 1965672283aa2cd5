"""The :class:`~laicai.engine.operator.Operator` of a running bot.

Reads come from the store and the engine's latest snapshot (safe from any task of the bot's
event loop: they only read); every control is queued on the :class:`BotRunner` and runs on
the engine's own task, after whatever the engine is doing now.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

from laicai.engine import ledger
from laicai.engine.bus import Subscription
from laicai.engine.core import Engine
from laicai.engine.events import PnlBreakdown
from laicai.engine.operator import (
    AlertView,
    CommandResult,
    EquityPoint,
    FundingView,
    HealthView,
    PnlView,
    PositionView,
    ResetView,
    StatusView,
)
from laicai.engine.runner import BotRunner
from laicai.risk.state import MarginLevel
from laicai.store.states import PositionStatus

ZERO = Decimal(0)
COMMAND_TIMEOUT_S = 600.0


def add(a: PnlBreakdown, b: PnlBreakdown) -> PnlBreakdown:
    return PnlBreakdown(a.funding + b.funding, a.earn + b.earn, a.basis + b.basis,
                        a.fees + b.fees, a.borrow + b.borrow, a.slippage + b.slippage)


class LogTail(logging.Handler):
    """The last lines the bot logged, for the dashboard (already redacted by the root
    logger's filters when installed after :func:`laicai.logging_setup.setup_logging`)."""

    def __init__(self, lines: int = 500) -> None:
        super().__init__(logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=lines)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # never let the dashboard's tail break logging
            self.handleError(record)


class EngineOperator:
    def __init__(self, engine: Engine, runner: BotRunner, tail: LogTail | None = None) -> None:
        self.engine = engine
        self.runner = runner
        self.tail = tail
        self._closed: dict[int, PnlBreakdown] = {}  # a closed carry's books never change

    # ------------------------------------------------------------------ reads
    async def status(self) -> StatusView:
        e = self.engine
        acct = e.last_account
        naked = sum((v.naked_usdt for v in e.last_views.values()), ZERO)
        pause = e.entry_pause
        if pause is not None and pause.until_ms is not None and pause.until_ms <= e.now_ms():
            pause = None  # expired: entries are allowed again
        problems: tuple[str, ...] = () if pause is None else (pause.reason,)
        health = HealthView(
            exchange_ok=e.guard.failures_in_a_row == 0, problems=problems,
            api_requests=e.health.requests, api_errors=e.health.errors,
            last_ws_message=(None if e.health.last_ws_ms is None
                             else datetime.fromtimestamp(e.health.last_ws_ms / 1000, UTC)),
            loop_latency_ms=self.runner.loop_latency_ms)
        positions = await e.store.list_open_positions()
        scan = e.last_scan
        return StatusView(
            state=e.state.value, mode=e.settings.mode, dry_run=e.settings.dry_run,
            started_at=e.started_at, now=e.now(),
            equity_usdt=acct.equity_usdt if acct else None,
            peak_equity_usdt=e.memory.peak_equity if acct else None,
            open_positions=len(positions),
            breaker="tripped" if e.memory.breaker.tripped else "ok",
            breaker_reason=e.memory.breaker.reason or None,
            entries_paused=e.memory.operator_pause or (pause.reason if pause else None),
            naked_usdt=naked,
            last_scan_at=(datetime.fromtimestamp(scan.venue_time_ms / 1000, UTC)
                          if scan else None),
            health=health)

    async def positions(self) -> list[PositionView]:
        e = self.engine
        acct = e.last_account
        out = []
        for pos in await e.store.list_open_positions():
            view = e.last_views.get(pos.id)
            mem = e.memory.carries.get(pos.id)
            perp = acct.positions.get(pos.swap_inst_id) if acct else None
            spot_px = acct.price(pos.symbol) if acct else None
            mark = perp.mark_px if perp else None
            liq = perp.liq_px if perp else None
            rate = acct.funding_rates.get(pos.swap_inst_id) if acct else None
            out.append(PositionView(
                id=pos.id, symbol=pos.symbol, swap_inst_id=pos.swap_inst_id,
                direction=pos.direction.value, status=pos.status.value,
                base_qty=pos.position_amount, notional_usdt=pos.notional_usdt,
                entry_spot_px=pos.entry_spot_price, entry_perp_px=pos.entry_swap_price,
                mark_px=mark, margin_ratio=view.margin_ratio if view else pos.margin_ratio,
                margin_level=(mem.level if mem else MarginLevel.OK).name,
                topup_ratio=e.risk.margin_topup_ratio,
                reset_ratio=e.risk.margin_reset_threshold,
                emergency_ratio=e.risk.margin_emergency_ratio,
                okx_mgn_ratio=perp.okx_mgn_ratio if perp else pos.okx_mgn_ratio,
                liq_px=liq if liq is not None else pos.liq_px,
                liq_distance=(abs(mark - liq) / mark if mark and liq else None),
                funding_rate=rate.rate if rate else None,
                breakdown=await ledger.breakdown_of(e.store, pos, e.instruments,
                                                    spot_px=spot_px or None, mark_px=mark),
                earn_amount=pos.earn_amount, borrowed_amount=pos.borrowed_amount,
                resets_count=pos.resets_count, reset_cost_usdt=pos.reset_cost,
                opened_at=pos.open_timestamp, naked_usdt=view.naked_usdt if view else ZERO))
        return out

    async def pnl(self) -> PnlView:
        e = self.engine
        day_start_ms = e.now_ms() - e.now_ms() % 86_400_000
        day_start = datetime.fromtimestamp(day_start_ms / 1000, UTC)
        closed = [p for p in await e.store.list_closed_positions(limit=10_000)
                  if p.status is PositionStatus.CLOSED]
        total = today = PnlBreakdown()
        realized = ZERO
        for p in closed:
            b = self._closed.get(p.id)
            if b is None:
                b = self._closed[p.id] = await ledger.breakdown_of(e.store, p, e.instruments)
            total = add(total, b)
            realized += b.total
            if p.close_timestamp is not None and p.close_timestamp >= day_start:
                today = add(today, b)
        unrealized = ZERO
        for view in await self.positions():
            total = add(total, view.breakdown)
            unrealized += view.breakdown.total
        acct = e.last_account
        return PnlView(total=total, today=today, realized_usdt=realized,
                       unrealized_usdt=unrealized,
                       equity_usdt=acct.equity_usdt if acct else None,
                       start_equity_usdt=e.memory.start_equity, closed_positions=len(closed))

    async def funding(self, limit: int = 20) -> list[FundingView]:
        e = self.engine
        acct = e.last_account
        held = {p.swap_inst_id: p for p in await e.store.list_open_positions()}
        rates = dict(acct.funding_rates) if acct else {}
        if e.last_scan is not None:
            rates = {**e.last_scan.snapshot.funding_rates, **rates}
        rows = []
        for inst_id, r in rates.items():
            pos = held.get(inst_id)
            rows.append(FundingView(
                symbol=inst_id.split("-")[0], swap_inst_id=inst_id, rate=r.rate,
                interval_hours=r.interval_hours,
                next_funding_time=datetime.fromtimestamp(r.next_funding_ms / 1000, UTC),
                apr=r.apr, held=pos is not None,
                earned_usdt=pos.total_funding_fee if pos else ZERO))
        rows.sort(key=lambda v: (not v.held, -abs(v.apr)))
        return rows[:limit]

    async def equity_curve(self, limit: int = 500) -> list[EquityPoint]:
        snaps = await self.engine.store.list_equity_snapshots(limit=limit)
        out = []
        for s in snaps:
            d = s.details or {}
            out.append(EquityPoint(s.ts, s.equity_usdt, Decimal(str(d.get("income", "0"))),
                                   Decimal(str(d.get("costs", "0")))))
        return out

    async def resets(self, limit: int = 50) -> list[ResetView]:
        events = await self.engine.store.list_events(limit=1000)
        out = [ResetView(ev.position_id or 0, str((ev.payload or {}).get("symbol", "")),
                         ev.ts, Decimal(str((ev.payload or {}).get("cost_usdt", "0"))),
                         int(str((ev.payload or {}).get("resets_count", "0"))))
               for ev in events if ev.kind == "reset"]
        return out[:limit]

    async def latest_scan(self) -> dict[str, object] | None:
        scan = await self.engine.store.latest_scan()
        if scan is None:
            return None
        return {
            "started_at": scan.run.started_at.isoformat(),
            "candidates": scan.run.candidates, "accepted": scan.run.accepted,
            "rows": [{"inst_id": r.inst_id, "direction": r.direction.value,
                      "funding_rate": str(r.funding_rate),
                      "interval_hours": r.interval_hours,
                      "funding_apr": str(r.funding_apr),
                      "net_apr": None if r.net_apr is None else str(r.net_apr),
                      "accepted": r.accepted, "reason": r.reject_reason}
                     for r in scan.rows[:50]],
        }

    async def alerts(self, limit: int = 50) -> list[AlertView]:
        return [AlertView(ev.ts, ev.level.value, ev.kind, ev.message, ev.position_id)
                for ev in await self.engine.store.list_events(limit=limit)]

    def log_tail(self, lines: int = 100) -> list[str]:
        if self.tail is None:
            return []
        return list(self.tail.lines)[-lines:]

    def subscribe(self) -> Subscription:
        return self.engine.bus.subscribe()

    # ------------------------------------------------------------------ controls
    async def _run(self, what: str, fn: Callable[[], Awaitable[str]]) -> CommandResult:
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                message = await self.runner.submit(fn)
        except Exception as e:
            return CommandResult(False, f"{what} failed: {e}")
        return CommandResult(True, str(message))

    async def pause(self, by: str, reason: str = "") -> CommandResult:
        return await self._run("pause", lambda: self.engine.pause(by, reason))

    async def resume(self, by: str) -> CommandResult:
        return await self._run("resume", lambda: self.engine.resume(by))

    async def close_position(self, position_id: int, by: str) -> CommandResult:
        return await self._run(f"close {position_id}",
                               lambda: self.engine.operator_close(position_id, by))

    async def close_all(self, by: str) -> CommandResult:
        return await self._run("close-all", lambda: self.engine.close_all(by))
