"""Operators for the dashboard's tests.

- :class:`ScriptedOperator`: an in-test :class:`~laicai.engine.operator.Operator` over fixed,
  realistic views and a real :class:`~laicai.engine.bus.EventBus`; its controls change its
  state and publish events the way the engine's do.
- :class:`RecordingOperator`: wraps ANY Operator (the scripted one now, the engine's later)
  and records every control call, so the same tests can run against the real engine.
- :func:`leak_secrets`: puts known secret strings into every free-text field of the views.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from starlette.types import ASGIApp

from laicai.domain.enums import Direction
from laicai.engine.bus import EventBus, Subscription
from laicai.engine.events import (
    BotEvent,
    BotStateChanged,
    EntriesPaused,
    EntriesResumed,
    PnlBreakdown,
    PositionClosed,
)
from laicai.engine.operator import (
    AlertView,
    CommandResult,
    EquityPoint,
    FundingView,
    HealthView,
    Operator,
    PnlView,
    PositionView,
    ResetView,
    StatusView,
)

TOKEN = "web-token-3f9a1c0d7e5b42a8b6c1d2e3f4a5b6c7"
NOW = datetime.now(UTC).replace(microsecond=0)  # fixed for the run: views compare equal
START = NOW.replace(minute=0, second=0) - timedelta(days=8)
TOPUP, RESET, EMERGENCY = Decimal("0.2667"), Decimal("0.15"), Decimal("0.1")
PRECISE_RATE = Decimal("0.000123456789012345678901")  # a float would not keep these digits


def _position(pid: int, symbol: str, direction: str, base: str, px: str, margin: str,
              level: str, okx: str, liq: str, funding: str, earn: str, basis: str, fees: str,
              borrow: str = "0", resets: int = 0, reset_cost: str = "0", earn_amount: str = "0",
              borrowed: str = "0", rate: Decimal = Decimal("0.0001")) -> PositionView:
    mark = Decimal(px)
    liq_px = Decimal(liq)
    return PositionView(
        id=pid, symbol=f"{symbol}-USDT", swap_inst_id=f"{symbol}-USDT-SWAP",
        direction=direction, status="OPEN", base_qty=Decimal(base),
        notional_usdt=Decimal(base) * mark, entry_spot_px=mark * Decimal("0.99"),
        entry_perp_px=mark * Decimal("0.9912"), mark_px=mark, margin_ratio=Decimal(margin),
        margin_level=level, topup_ratio=TOPUP, reset_ratio=RESET, emergency_ratio=EMERGENCY,
        okx_mgn_ratio=Decimal(okx), liq_px=liq_px, liq_distance=abs(mark - liq_px) / mark,
        funding_rate=rate,
        breakdown=PnlBreakdown(funding=Decimal(funding), earn=Decimal(earn),
                               basis=Decimal(basis), fees=Decimal(fees), borrow=Decimal(borrow),
                               slippage=Decimal("0.42")),
        earn_amount=Decimal(earn_amount), borrowed_amount=Decimal(borrowed),
        resets_count=resets, reset_cost_usdt=Decimal(reset_cost),
        opened_at=START + timedelta(days=pid), naked_usdt=Decimal("0"),
    )


def sample_positions() -> list[PositionView]:
    return [
        _position(1, "BTC", "SHORT", "0.08", "61250.5", "0.3125", "OK", "14.2", "81200",
                  "38.12", "2.05", "-3.10", "5.76", earn_amount="0.0795", rate=PRECISE_RATE),
        _position(2, "ETH", "SHORT", "1.5", "3120.25", "0.2211", "TOPUP", "6.8", "3890",
                  "21.40", "0.88", "-9.75", "4.70", resets=1, reset_cost="5.10",
                  earn_amount="1.49", rate=Decimal("0.0003")),
        _position(3, "DOGE", "LONG", "12000", "0.20315", "0.3502", "OK", "11.5", "0.1402",
                  "9.33", "0", "1.02", "1.46", borrow="0.61", borrowed="12000",
                  rate=Decimal("-0.0005")),
    ]


def sample_curve(points: int = 192) -> list[EquityPoint]:
    """Hourly equity over eight days: funding accrues, fees at each open, a reset's cost."""
    out = []
    funding = costs = Decimal(0)
    for i in range(points):
        funding += Decimal("0.36") + Decimal(i % 8 == 0) * Decimal("0.9")
        if i in (0, 24, 48, 110):
            costs += Decimal("4.10") if i != 110 else Decimal("5.10")
        wobble = Decimal((i * 37) % 23 - 11) / Decimal(4)
        out.append(EquityPoint(ts=START + timedelta(hours=i),
                               equity_usdt=Decimal(10000) + funding - costs + wobble,
                               funding_usdt=funding, costs_usdt=costs))
    return out


def sample_scan() -> dict[str, object]:
    return {
        "ts": NOW - timedelta(minutes=1), "candidates": 42, "accepted": 2,
        "rows": [
            {"symbol": "SOL-USDT-SWAP", "direction": Direction.SHORT,
             "funding_apr": Decimal("0.2190"), "net_apr": Decimal("0.1874"),
             "verdict": "accepted", "reason": None},
            {"symbol": "XRP-USDT-SWAP", "direction": Direction.LONG,
             "funding_apr": Decimal("-0.1642"), "net_apr": Decimal("0.1211"),
             "verdict": "rejected", "reason": "below min APR"},
        ],
    }


@dataclass
class ScriptedOperator:
    """Fixed views; controls act on them and publish what the engine would."""

    bus: EventBus = field(default_factory=EventBus)
    state: str = "IDLE"
    entries_paused: str | None = None
    breaker: str = "ok"
    breaker_reason: str | None = None
    problems: tuple[str, ...] = ()
    open_positions: dict[int, PositionView] = field(default_factory=dict)
    curve: list[EquityPoint] = field(default_factory=sample_curve)
    reset_history: list[ResetView] = field(default_factory=list)
    alert_list: list[AlertView] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    scan: dict[str, object] | None = field(default_factory=sample_scan)
    funding_rows: list[FundingView] = field(default_factory=list)
    pnl_view: PnlView | None = None
    command_prefix: str = ""

    @classmethod
    def sample(cls) -> ScriptedOperator:
        positions = sample_positions()
        op = cls(open_positions={p.id: p for p in positions})
        op.reset_history = [ResetView(position_id=2, symbol="ETH-USDT",
                                      ts=START + timedelta(hours=110),
                                      cost_usdt=Decimal("5.10"), resets_count=1)]
        op.alert_list = [
            AlertView(ts=START + timedelta(hours=110), level="WARN", kind="reset",
                      message="ETH-USDT reset at margin ratio 14.8% (cost 5.10 USDT)",
                      position_id=2),
            AlertView(ts=START + timedelta(hours=150), level="INFO", kind="topup",
                      message="topped up ETH-USDT with 120 USDT from funding", position_id=2),
        ]
        op.log_lines = [f"{NOW - timedelta(seconds=45 * (30 - i)):%Y-%m-%d %H:%M:%S} INFO "
                        f"laicai.engine: tick {i}: 3 carries managed, margin ok"
                        for i in range(30)]
        op.funding_rows = [
            FundingView(symbol=p.symbol, swap_inst_id=p.swap_inst_id,
                        rate=p.funding_rate or Decimal(0),
                        interval_hours=8 if p.id == 1 else 4 if p.id == 2 else 1,
                        next_funding_time=NOW + timedelta(hours=2),
                        apr=(p.funding_rate or Decimal(0)) * 1095, held=True,
                        earned_usdt=p.breakdown.funding)
            for p in positions
        ]
        return op

    # ---- views ----
    async def status(self) -> StatusView:
        return StatusView(
            state=self.state, mode="paper", dry_run=False, started_at=START, now=NOW,
            equity_usdt=self.curve[-1].equity_usdt if self.curve else None,
            peak_equity_usdt=max((p.equity_usdt for p in self.curve), default=None),
            open_positions=len(self.open_positions), breaker=self.breaker,
            breaker_reason=self.breaker_reason, entries_paused=self.entries_paused,
            naked_usdt=sum((p.naked_usdt for p in self.open_positions.values()), Decimal(0)),
            last_scan_at=NOW - timedelta(minutes=1),
            health=HealthView(exchange_ok=not self.problems, problems=self.problems,
                              api_requests=5120, api_errors=3,
                              last_ws_message=NOW - timedelta(seconds=2), loop_latency_ms=12.5),
        )

    async def positions(self) -> list[PositionView]:
        return list(self.open_positions.values())

    async def pnl(self) -> PnlView:
        if self.pnl_view is not None:
            return self.pnl_view
        parts = [p.breakdown for p in self.open_positions.values()]

        def total(name: str) -> Decimal:
            return sum((getattr(b, name) for b in parts), Decimal(0))

        names = [f.name for f in dataclasses.fields(PnlBreakdown)]
        breakdown = PnlBreakdown(**{name: total(name) for name in names})
        return PnlView(total=breakdown, today=PnlBreakdown(funding=Decimal("4.21")),
                       realized_usdt=Decimal("12.5"), unrealized_usdt=breakdown.total,
                       equity_usdt=self.curve[-1].equity_usdt, start_equity_usdt=Decimal(10000),
                       closed_positions=4)

    async def funding(self, limit: int = 20) -> list[FundingView]:
        return self.funding_rows[:limit]

    async def equity_curve(self, limit: int = 500) -> list[EquityPoint]:
        return self.curve[-limit:]

    async def resets(self, limit: int = 50) -> list[ResetView]:
        return self.reset_history[:limit]

    async def latest_scan(self) -> dict[str, object] | None:
        return self.scan

    async def alerts(self, limit: int = 50) -> list[AlertView]:
        return self.alert_list[:limit]

    def log_tail(self, lines: int = 100) -> list[str]:
        return self.log_lines[-lines:]

    def subscribe(self) -> Subscription:
        return self.bus.subscribe()

    # ---- controls ----
    def _publish(self, event: BotEvent) -> None:
        self.bus.publish(event)

    def _move(self, new: str, reason: str) -> None:
        old, self.state = self.state, new
        self._publish(BotStateChanged(ts=NOW, old=old, new=new, reason=reason))

    async def pause(self, by: str, reason: str = "") -> CommandResult:
        if self.state == "PAUSED":
            return CommandResult(False, f"{self.command_prefix}already paused")
        self.entries_paused = f"paused by {by}" + (f": {reason}" if reason else "")
        self._move("PAUSED", reason)
        self._publish(EntriesPaused(ts=NOW, reason=reason, by_operator=True))
        return CommandResult(True, f"{self.command_prefix}paused: no new entries; open carries "
                                   "are still managed")

    async def resume(self, by: str) -> CommandResult:
        if self.state != "PAUSED":
            return CommandResult(False, f"{self.command_prefix}not paused (state {self.state})")
        self.entries_paused = None
        self._move("IDLE", f"resumed by {by}")
        self._publish(EntriesResumed(ts=NOW, by_operator=True))
        return CommandResult(True, f"{self.command_prefix}resumed")

    async def close_position(self, position_id: int, by: str) -> CommandResult:
        p = self.open_positions.pop(position_id, None)
        if p is None:
            return CommandResult(False, f"{self.command_prefix}no open position #{position_id}")
        self._publish(PositionClosed(ts=NOW, position_id=p.id, symbol=p.symbol,
                                     direction=Direction(p.direction), reason=f"operator ({by})",
                                     base_qty=p.base_qty, breakdown=p.breakdown,
                                     resets_count=p.resets_count))
        return CommandResult(True, f"{self.command_prefix}closing #{p.id} {p.symbol}")

    async def close_all(self, by: str) -> CommandResult:
        n = len(self.open_positions)
        self.open_positions = {k: replace(p, status="CLOSING")
                               for k, p in self.open_positions.items()}
        self._move("EMERGENCY", f"close-all by {by}")
        return CommandResult(True, f"{self.command_prefix}closing all {n} carries; the bot "
                                   "stops when they are closed")


@dataclass(frozen=True)
class ControlCall:
    name: str
    args: tuple[object, ...]


class RecordingOperator:
    """Delegates to ``inner`` and records every control call (name and arguments)."""

    def __init__(self, inner: Operator) -> None:
        self.inner = inner
        self.calls: list[ControlCall] = []

    async def status(self) -> StatusView:
        return await self.inner.status()

    async def positions(self) -> list[PositionView]:
        return await self.inner.positions()

    async def pnl(self) -> PnlView:
        return await self.inner.pnl()

    async def funding(self, limit: int = 20) -> list[FundingView]:
        return await self.inner.funding(limit)

    async def equity_curve(self, limit: int = 500) -> list[EquityPoint]:
        return await self.inner.equity_curve(limit)

    async def resets(self, limit: int = 50) -> list[ResetView]:
        return await self.inner.resets(limit)

    async def latest_scan(self) -> dict[str, object] | None:
        return await self.inner.latest_scan()

    async def alerts(self, limit: int = 50) -> list[AlertView]:
        return await self.inner.alerts(limit)

    def log_tail(self, lines: int = 100) -> list[str]:
        return self.inner.log_tail(lines)

    def subscribe(self) -> Subscription:
        return self.inner.subscribe()

    async def pause(self, by: str, reason: str = "") -> CommandResult:
        self.calls.append(ControlCall("pause", (by, reason)))
        return await self.inner.pause(by, reason)

    async def resume(self, by: str) -> CommandResult:
        self.calls.append(ControlCall("resume", (by,)))
        return await self.inner.resume(by)

    async def close_position(self, position_id: int, by: str) -> CommandResult:
        self.calls.append(ControlCall("close_position", (position_id, by)))
        return await self.inner.close_position(position_id, by)

    async def close_all(self, by: str) -> CommandResult:
        self.calls.append(ControlCall("close_all", (by,)))
        return await self.inner.close_all(by)

    def names(self) -> list[str]:
        return [c.name for c in self.calls]


def leak_secrets(op: ScriptedOperator, secrets: list[str]) -> None:
    """Quote every secret in every free-text field the views carry (as a careless exception
    message or log line would)."""
    text = " / ".join(secrets)
    op.problems = (f"ccxt error: apiKey={text}",)
    op.breaker = "tripped"
    op.breaker_reason = f"auth failed for {text}"
    op.entries_paused = f"paused: {text}"
    op.alert_list = [*op.alert_list, AlertView(ts=NOW, level="ERROR", kind="exchange",
                                               message=f"request signed with {text} failed")]
    op.log_lines = [*op.log_lines, f"ERROR okx: headers OK-ACCESS-KEY={text}",
                    f'json {{"secret": "{text}"}}']
    op.scan = {**(op.scan or {}), "note": f"token {text}", "rows": [{"reason": text}]}
    op.open_positions = {k: replace(p, status=f"OPEN {text}") for k, p in op.open_positions.items()}
    op.command_prefix = f"[{text}] "


def api_client(app: ASGIApp, host: str = "127.0.0.1:8080") -> httpx.AsyncClient:
    """An httpx client calling ``app`` in process, addressed as ``http://<host>``."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")
