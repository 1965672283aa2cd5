"""``laicai scan``: the read-only analyzer — every carry opportunity, honestly priced."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import fields
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

from laicai.cli.common import ConfigOption, fail, load_or_exit, resolve_config_path, stdout
from laicai.config.schema import Settings
from laicai.engine.scan import ScanReport, scan_once
from laicai.engine.watch import LiveScan
from laicai.errors import LaicaiError
from laicai.logging_setup import setup_logging
from laicai.strategy import Opportunity, ScanParams, ScanResult
from laicai.venues.connect import open_venue, venue_target


def _pct(x: Decimal | None, places: int = 2) -> str:
    return "" if x is None else f"{x * 100:.{places}f}%"


def _bps(x: Decimal | None) -> str:
    return "" if x is None else f"{x * 10000:.1f}"


def _countdown(ms: int) -> str:
    if ms < 0:
        return "due"
    minutes = ms // 60_000
    return f"{minutes // 60}h{minutes % 60:02d}m"


def render(report: ScanReport, top: int, show_rejected: bool, where: str) -> Group:
    result = report.result
    title = (f"laicai scan — {where} — {len(result.accepted)} accepted of "
             f"{len(result.opportunities)} candidates ({report.books_fetched} books, "
             f"{report.seconds:.1f} s)")
    table = Table(title=title, title_justify="left", header_style="bold")
    for col, justify in (("instrument", "left"), ("dir", "left"), ("funding", "right"),
                         ("every", "right"), ("next in", "right"), ("funding APR", "right"),
                         ("Earn APR", "right"), ("borrow APR", "right"),
                         ("slip spot/perp bps", "right"), ("fees USDT", "right"),
                         ("net APR", "right"), ("break-even d", "right"), ("size", "right"),
                         ("notional USDT", "right"), ("verdict", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    rows = [o for o in result.opportunities if show_rejected or o.accepted][:top]
    for o in rows:
        verdict = "[green]open[/]" if o.accepted else (
            f"[yellow]{o.reject_reason.value if o.reject_reason else ''}[/]")
        table.add_row(
            o.swap_inst_id, o.direction.value, _pct(o.funding_rate, 4), f"{o.interval_hours}h",
            _countdown(o.ms_to_next_funding), _pct(o.funding_apr), _pct(o.earn_apr),
            _pct(o.borrow_apr),
            f"{_bps(o.spot_entry_slippage)}/{_bps(o.perp_entry_slippage)}"
            if o.spot_entry_slippage is not None else "",
            f"{o.fees_usdt:.2f}" if o.fees_usdt is not None else "",
            f"[bold]{_pct(o.net_apr)}[/]" if o.accepted else _pct(o.net_apr),
            f"{o.break_even_days:.1f}" if o.break_even_days is not None else "",
            f"{o.base_qty.normalize():f} {o.base}" if o.base_qty is not None else "",
            f"{o.notional_usdt:,.0f}" if o.notional_usdt is not None else "", verdict)
    reasons = Table(title="rejections by reason", title_justify="left", header_style="bold")
    reasons.add_column("reason")
    reasons.add_column("count", justify="right")
    for reason, count in sorted(result.reasons().items(), key=lambda kv: -kv[1]):
        reasons.add_row(reason.value, str(count))
    return Group(table, reasons)


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if hasattr(v, "value"):
        return v.value
    return v


def as_json(result: ScanResult, report: ScanReport) -> str:
    ops = [{f.name: _jsonable(getattr(o, f.name)) for f in fields(Opportunity)}
           for o in result.opportunities]
    return json.dumps({
        "ts_ms": result.ts_ms, "venue_time_ms": report.venue_time_ms,
        "scan_id": report.scan_id, "seconds": round(report.seconds, 3),
        "accepted": len(result.accepted), "candidates": len(result.opportunities),
        "rejections": {r.value: n for r, n in result.reasons().items()},
        "opportunities": ops,
    }, indent=2)


async def _run(settings: Settings, top: int, as_machine: bool, save: bool, watch: bool,
               show_rejected: bool) -> None:
    params = ScanParams.from_settings(settings)
    where, _ = venue_target(settings)
    store = None
    if save:
        from laicai.store import open_store

        store = await open_store(settings.database, settings.secrets.db_password)
    venue = open_venue(settings)
    try:
        if not watch:
            report = await scan_once(venue, params, store)
            if as_machine:
                print(as_json(report.result, report))
            else:
                stdout().print(render(report, top, show_rejected, where))
            return
        live = LiveScan(venue, params, store=store,
                        rescan_seconds=settings.strategy.scan_interval_seconds)
        with Live(console=stdout(), auto_refresh=False) as screen:
            async for report in live.reports():
                screen.update(render(report, top, show_rejected,
                                     f"{where} · live · {time.strftime('%H:%M:%S')}"),
                              refresh=True)
    finally:
        await venue.close()
        if store is not None:
            await store.close()


def scan(
    ctx: typer.Context,
    top: Annotated[int, typer.Option(help="How many rows to show.", min=1)] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    save: Annotated[bool, typer.Option(help="Save the results to the database.")] = True,
    watch: Annotated[bool, typer.Option(
        help="Keep the table live: books and funding from WebSocket pushes, a full rescan "
             "every strategy.scan_interval_seconds.")] = False,
    all_rows: Annotated[bool, typer.Option("--all", help="Show rejected candidates too.")] = False,
    config: ConfigOption = None,
) -> None:
    """Scan every OKX perpetual for carry opportunities (both funding signs) and price each by
    its net APR after fees, slippage, spread, borrow cost and Earn yield. Read-only."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    setup_logging(settings.logging, secrets=settings.secrets.plain_values(), console=False)
    if json_out and watch:
        fail("--json and --watch do not go together")
    try:
        asyncio.run(_run(settings, top, json_out, save, watch, all_rows))
    except LaicaiError as e:
        fail(str(e))
    except KeyboardInterrupt:
        pass
