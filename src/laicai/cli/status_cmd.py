"""``laicai status``: is the bot running, what does it hold, how is it doing.

Read from the database the engine writes (its run record in ``bot_state`` "engine", the open
positions, the latest equity snapshot), so it works beside a running bot and after it stopped;
``--live`` adds what the exchange reports now. Nothing is written anywhere, and no secret is
ever part of the output (the database URL is shown masked).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from laicai.cli.check_cmd import quiet_console
from laicai.cli.common import ConfigOption, fail, load_or_exit, resolve_config_path, stdout
from laicai.config.schema import Settings
from laicai.domain.account import Balance, PerpPosition
from laicai.engine.selfcheck import ENGINE_STATE_KEY, HEARTBEAT_STALE_SECONDS, EngineRecord
from laicai.errors import ExchangeError, LaicaiError
from laicai.logging_setup import setup_logging
from laicai.risk.margin_guard import okx_level, ratio_level
from laicai.risk.params import RiskParams
from laicai.risk.state import MarginLevel
from laicai.store.db import database_url, masked, sqlite_file
from laicai.store.records import EquitySnapshot, PositionRecord
from laicai.store.store import open_store
from laicai.venues.connect import open_venue, venue_target

ZERO = Decimal(0)
LEVEL_STYLES = {MarginLevel.SWEEP: "cyan", MarginLevel.OK: "green", MarginLevel.TOPUP: "yellow",
                MarginLevel.RESET: "bold yellow", MarginLevel.EMERGENCY: "bold red"}


@dataclass(frozen=True, slots=True)
class LiveView:
    """What the exchange reports now (``error`` set when it could not be read)."""

    venue: str
    balances: tuple[Balance, ...] = ()
    funding: tuple[Balance, ...] = ()
    positions: tuple[PerpPosition, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    now: datetime
    database: str  # masked URL
    database_note: str | None  # e.g. no database yet
    engine: EngineRecord | None
    engine_error: str | None
    positions: tuple[PositionRecord, ...]
    equity: EquitySnapshot | None
    live: LiveView | None = None

    @property
    def running(self) -> bool:
        return self.engine is not None and self.engine.running(self.now)


async def _read_live(settings: Settings) -> LiveView:
    where, _ = venue_target(settings)
    venue = open_venue(settings)
    try:
        trading = await venue.balances("trading")
        funding = await venue.balances("funding")
        positions = await venue.positions()
    except ExchangeError as e:
        return LiveView(where, error=str(e))
    finally:
        await venue.close()
    return LiveView(where, tuple(b for b in trading if b.total or b.liability),
                    tuple(b for b in funding if b.total), tuple(positions))


async def gather_status(settings: Settings, *, live: bool, now: datetime) -> StatusSnapshot:
    """Everything ``laicai status`` shows. A database that does not exist yet is a bot that
    never ran; one that cannot be opened or is not migrated raises its store error."""
    password = settings.secrets.db_password
    url = database_url(settings.database, password)
    engine: EngineRecord | None = None
    engine_error: str | None = None
    positions: tuple[PositionRecord, ...] = ()
    equity: EquitySnapshot | None = None
    note: str | None = None
    path = sqlite_file(url)
    if path is not None and not path.exists():
        note = f"no database at {path} yet: the bot has not run with this configuration"
    else:
        store = await open_store(settings.database, password, upgrade=False)
        try:
            raw = await store.get_bot_state(ENGINE_STATE_KEY)
            positions = tuple(await store.list_open_positions())
            equity = await store.latest_equity_snapshot()
        finally:
            await store.close()
        if raw is not None:
            try:
                engine = EngineRecord.parse(raw)
            except ValueError as e:
                engine_error = f"the engine's run record is unreadable ({e})"
    live_view = await _read_live(settings) if live else None
    return StatusSnapshot(now, masked(url), note, engine, engine_error, positions, equity,
                          live_view)


# ---------------------------------------------------------------------- formatting
def _num(x: Decimal | None, places: int = 2, sign: bool = False) -> str:
    if x is None:
        return ""
    return f"{x:+,.{places}f}" if sign else f"{x:,.{places}f}"


def _qty(x: Decimal) -> str:
    text = format(x.normalize(), "f")
    return text if text != "-0" else "0"


def _pct(x: Decimal | None) -> str:
    return "" if x is None else f"{x * 100:,.1f}%"


def _duration(seconds: float) -> str:
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172_800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _time(ts: datetime, now: datetime) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S} UTC ({_duration((now - ts).total_seconds())} ago)"


def bot_line(snap: StatusSnapshot) -> Text:
    """Running or not, by the heartbeat: stale or missing means not running."""
    rec, now = snap.engine, snap.now
    if snap.engine_error is not None:
        return Text.from_markup(f"[bold red]unknown[/]: {escape(snap.engine_error)}")
    if rec is None:
        return Text.from_markup("[yellow]not running[/]: no engine run recorded (never started "
                                "with this database)")
    age = rec.heartbeat_age_s(now)
    if age is None:
        beat = "no heartbeat"
    elif age >= 0:
        beat = f"heartbeat {_duration(age)} ago"
    else:
        beat = f"heartbeat {_duration(-age)} in the future (written on another clock)"
    mode = f"{rec.mode or '?'}{' · dry run' if rec.dry_run else ''}"
    if snap.running:
        up = f" · up {_duration((now - rec.started_at).total_seconds())}" if rec.started_at else ""
        return Text.from_markup(f"[bold green]running[/] · {escape(rec.state or '?')} · "
                                f"{escape(mode)} · pid {rec.pid or '?'} · {beat}{up}")
    if rec.clean_exit is True:
        how = "[green]stopped cleanly[/]"
    elif age is not None and age > HEARTBEAT_STALE_SECONDS:
        how = f"[bold red]heartbeat stale (> {int(HEARTBEAT_STALE_SECONDS)} s): not a clean exit[/]"
    else:
        how = "[bold red]not a clean exit[/]"
    return Text.from_markup(f"[yellow]not running[/] · last state {escape(rec.state or '?')} · "
                            f"{escape(mode)} · {beat} · {how}")


def equity_line(snap: StatusSnapshot) -> Text:
    eq = snap.equity
    if eq is None:
        return Text("equity: no snapshot recorded yet")
    extra = []
    if eq.available_usdt is not None:
        extra.append(f"available {_num(eq.available_usdt)}")
    if eq.unrealized_pnl_usdt is not None:
        extra.append(f"unrealized {_num(eq.unrealized_pnl_usdt, sign=True)}")
    extra.append(f"{eq.open_positions} open")
    return Text(f"equity {_num(eq.equity_usdt)} USDT ({', '.join(extra)}) at "
                f"{_time(eq.ts, snap.now)}")


def margin_level(p: PositionRecord, params: RiskParams) -> MarginLevel | None:
    """Where the position sits on the margin ladder now (no hysteresis memory here)."""
    if p.margin_ratio is None and p.okx_mgn_ratio is None:
        return None
    ours = ratio_level(p.margin_ratio, params) if p.margin_ratio is not None else MarginLevel.OK
    return max(ours, okx_level(p.okx_mgn_ratio, params))


def _pnl(p: PositionRecord) -> Decimal | None:
    return p.unrealized_pnl_usd if p.unrealized_pnl_usd is not None else p.pnl_usd


def positions_table(snap: StatusSnapshot, params: RiskParams) -> RenderableType:
    if not snap.positions:
        return Text("open positions: none")
    table = Table(title=f"open positions ({len(snap.positions)})", title_justify="left",
                  header_style="bold")
    cols = ("#", "symbol", "dir", "status", "size", "notional USDT", "lev", "margin",
            "OKX mgnRatio", "liq px", "funding USDT", "Earn / borrow", "resets (cost)",
            "fees USDT", "PnL USDT", "opened")
    for col in cols:
        table.add_column(col, justify="left" if col in ("symbol", "dir", "status", "margin",
                                                        "Earn / borrow", "opened") else "right")
    funding = pnl = ZERO
    for p in snap.positions:
        level = margin_level(p, params)
        margin = _pct(p.margin_ratio)
        if level is not None:
            margin = f"{margin} [{LEVEL_STYLES[level]}]{level.name}[/]".strip()
        if p.borrow_ccy:
            carry = f"borrowed {_qty(p.borrowed_amount)} {p.borrow_ccy}, interest " \
                    f"{_num(p.total_borrow_interest, 4)}"
        elif p.earn_amount or p.total_spot_earning_yield:
            carry = f"{_qty(p.earn_amount)} {p.symbol} in Earn, +{_qty(p.total_spot_earning_yield)}"
        else:
            carry = p.spot_earning_status.value.lower()
        funding += p.total_funding_fee
        pnl += _pnl(p) or ZERO
        table.add_row(
            str(p.id), p.symbol, p.direction.value, p.status.value,
            f"{_qty(p.position_amount)} {p.symbol}", _num(p.notional_usdt), _qty(p.leverage),
            margin, _pct(p.okx_mgn_ratio), _num(p.liq_px, 4),
            _num(p.total_funding_fee, 4, sign=True), escape(carry),
            f"{p.resets_count} ({_num(p.reset_cost)})", _num(p.total_trade_fee, 4),
            _num(_pnl(p), sign=True), _time(p.open_timestamp, snap.now))
    table.add_section()
    table.add_row("", "total", "", "", "", "", "", "", "", "", _num(funding, 4, sign=True), "",
                  "", "", _num(pnl, sign=True), "")
    return table


def live_tables(live: LiveView) -> RenderableType:
    if live.error is not None:
        return Text.from_markup(f"[bold red]live ({escape(live.venue)}):[/] "
                                f"{escape(live.error)}")
    bal = Table(title=f"live balances ({live.venue})", title_justify="left",
                header_style="bold")
    for col in ("account", "ccy", "equity", "available", "borrowed"):
        bal.add_column(col, justify="left" if col in ("account", "ccy") else "right")
    for account, rows in (("trading", live.balances), ("funding", live.funding)):
        for b in rows:
            bal.add_row(account, b.ccy, _qty(b.total), _qty(b.available),
                        _qty(b.liability) if b.liability else "")
    if not live.positions:
        return Group(bal, Text("live perp positions: none"))
    pos = Table(title="live perp positions", title_justify="left", header_style="bold")
    for col in ("instrument", "contracts", "base", "avg px", "mark px", "uPnL USDT", "lev",
                "mode", "OKX mgnRatio", "liq px"):
        pos.add_column(col, justify="left" if col in ("instrument", "mode") else "right")
    for p in live.positions:
        pos.add_row(p.inst_id, _qty(p.contracts), _qty(p.base_qty), _qty(p.avg_px),
                    _qty(p.mark_px), _num(p.upl, sign=True), _qty(p.leverage), p.margin_mode,
                    _pct(p.okx_mgn_ratio), _num(p.liq_px, 4))
    return Group(bal, pos)


def render(snap: StatusSnapshot, params: RiskParams) -> Group:
    parts: list[RenderableType] = [
        Text(f"laicai status — {snap.now:%Y-%m-%d %H:%M:%S} UTC — database {snap.database}",
             style="bold"),
        Text.assemble("bot: ", bot_line(snap)),
    ]
    if snap.database_note is not None:
        parts.append(Text(snap.database_note, style="yellow"))
    parts += [equity_line(snap), positions_table(snap, params)]
    if snap.live is not None:
        parts.append(live_tables(snap.live))
    return Group(*parts)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def as_json(snap: StatusSnapshot, params: RiskParams) -> str:
    rec = snap.engine
    bot: dict[str, Any] = {"running": snap.running, "record": _jsonable(rec),
                           "error": snap.engine_error,
                           "heartbeat_age_s": None if rec is None else rec.heartbeat_age_s(
                               snap.now)}
    positions = []
    for p in snap.positions:
        row = _jsonable(p)
        level = margin_level(p, params)
        row["margin_level"] = None if level is None else level.name
        positions.append(row)
    return json.dumps({
        "now": snap.now.isoformat(), "database": snap.database,
        "database_note": snap.database_note, "bot": bot, "positions": positions,
        "equity": _jsonable(snap.equity), "live": _jsonable(snap.live),
    }, indent=2, ensure_ascii=False)


def status(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    live: Annotated[bool, typer.Option(
        "--live", help="Also read balances and positions from the exchange now.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the bot's state (running or not, by its heartbeat), its open positions with margin
    ratios, funding, Earn, resets and PnL, and the latest equity. Read-only."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    setup_logging(settings.logging, secrets=settings.secrets.plain_values(), console=False)
    quiet_console()
    try:
        snap = asyncio.run(gather_status(settings, live=live, now=datetime.now(UTC)))
    except LaicaiError as e:
        fail(str(e))
    params = RiskParams.from_settings(settings)
    if json_out:
        print(as_json(snap, params))
    else:
        stdout().print(render(snap, params))
    if snap.live is not None and snap.live.error is not None:
        raise typer.Exit(1)
