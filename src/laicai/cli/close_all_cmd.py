"""``laicai close-all``: the one-key emergency close, from the exchange's own state."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from laicai.cli.common import ConfigOption, fail, load_or_exit, resolve_config_path, stdout
from laicai.config.schema import Settings
from laicai.errors import LaicaiError
from laicai.execution.close_all import CloseAllParams, CloseAllReport, close_all
from laicai.execution.orders import WallClock
from laicai.logging_setup import setup_logging
from laicai.venues.connect import open_venue, venue_target

NOT_FLAT_EXIT = 3  # something is left on the exchange (errors exit 1, usage errors 2)


def _num(x: Decimal | None) -> str:
    return "" if x is None else f"{x.normalize():f}"


def render(report: CloseAllReport, where: str, database: str) -> Group:
    """What the run did, coin by coin, and whether the account is flat."""
    lines: list[Text | Table] = [Text(f"laicai close-all — {where} — {database}", style="bold")]
    if not report.did_something:
        lines.append(Text("Nothing to do: no order, position, Earn holding or loan to close."))
    for o in report.canceled:
        lines.append(Text(f"canceled order {o}"))
    for ccy, amount in sorted(report.redeemed.items()):
        lines.append(Text(f"redeemed {_num(amount)} {ccy} from Simple Earn"))
    for ccy, amount in sorted(report.moved_to_trading.items()):
        lines.append(Text(f"moved {_num(amount)} {ccy} from the funding to the trading account"))
    if report.coins:
        table = Table(title="legs closed", title_justify="left", header_style="bold")
        for col in ("coin", "spot before", "spot after", "perp before (ct)", "perp after (ct)",
                    "steps", "orders", "spot exit px", "perp exit px", "fees USDT", "result"):
            table.add_column(col, justify="left" if col in ("coin", "result") else "right")
        for c in report.coins:
            table.add_row(c.ccy, _num(c.spot_before), _num(c.spot_after), _num(c.perp_before),
                          _num(c.perp_after), str(c.steps), str(c.orders), _num(c.spot_px),
                          _num(c.perp_px), f"{c.fees_usdt:.2f}",
                          "[green]flat[/]" if not c.left else f"[red]{escape(c.left)}[/]")
        lines.append(table)
    for ccy, amount in sorted(report.repaid.items()):
        lines.append(Text(f"repaid {_num(amount)} {ccy}"))
    if report.positions_closed:
        lines.append(Text("database: position(s) " + ", ".join(map(str, report.positions_closed))
                          + " closed (close-all)"))
    for ccy, amount in sorted(report.dust.items()):
        lines.append(Text(f"dust left (below the minimum order size): {_num(amount)} {ccy}"))
    for ccy, amount in sorted(report.untouched.items()):
        lines.append(Text(f"untouched (no USDT perpetual: not a carry's coin): "
                          f"{_num(amount)} {ccy}"))
    if report.flat:
        lines.append(Text("FLAT: nothing of laicai's is left open on the exchange.",
                          style="bold green"))
    else:
        lines.append(Text("NOT FLAT — left on the exchange:", style="bold red"))
        lines.extend(Text(f"  - {why}", style="red") for why in report.left)
    return Group(*lines)


async def _run(settings: Settings, use_db: bool) -> tuple[CloseAllReport, str]:
    venue = open_venue(settings)
    store = None
    database = "no database (--no-db): the exchange alone"
    try:
        if use_db:
            from laicai.store import open_store

            try:
                store = await open_store(settings.database, settings.secrets.db_password)
                database = f"database {store.masked_url}"
            except LaicaiError as e:  # lost or broken: flatten the exchange all the same
                database = f"database not usable ({e}): the exchange alone"
        instruments = {i.inst_id: i for i in await venue.instruments()}
        fees = await venue.fee_rates()
        report = await close_all(venue, store=store, clock=WallClock(),
                                 instruments=instruments, spot_fee_rate=fees.spot_taker,
                                 params=CloseAllParams.from_settings(settings))
        return report, database
    finally:
        await venue.close()
        if store is not None:
            await store.close()


def close_all_cmd(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
    = False,
    no_db: Annotated[bool, typer.Option(
        "--no-db", help="Do not open the database: work from the exchange alone and leave "
                        "the positions' records as they are.")] = False,
    config: ConfigOption = None,
) -> None:
    """EMERGENCY: close everything on the exchange — cancel every open order, redeem Simple
    Earn, close every hedge (perp and spot together, in steps), repay every loan — working
    from the exchange's own state, so it works with an empty or lost database. Stop the bot
    first. Safe to repeat. Exit code 0 when the account is flat, 3 when something is left."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    setup_logging(settings.logging, secrets=settings.secrets.plain_values(), console=False)
    where, _ = venue_target(settings)
    if not yes:
        typer.confirm(f"Close EVERYTHING on {where} ({settings.mode} mode): cancel all orders, "
                      "redeem Simple Earn, close every position, repay every loan?", abort=True)
    try:
        report, database = asyncio.run(_run(settings, use_db=not no_db))
    except LaicaiError as e:
        fail(str(e))
    stdout().print(render(report, where, database))
    raise typer.Exit(0 if report.flat else NOT_FLAT_EXIT)
