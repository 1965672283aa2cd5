"""``laicai run`` (the bot, live or paper, optionally dry) and ``laicai demo`` (the bot in paper
mode against an in-process simulator on an accelerated clock, with a live view)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from laicai.cli.common import ConfigOption, fail, load_or_exit, resolve_config_path, stdout
from laicai.cli.live_view import render
from laicai.config.schema import Settings
from laicai.config.sections import DatabaseConfig
from laicai.engine.bot import Bot, build_bot
from laicai.engine.clocks import AcceleratedClock
from laicai.engine.faces import Stop, attach_faces, services
from laicai.errors import LaicaiError
from laicai.execution.orders import WallClock
from laicai.logging_setup import setup_logging
from laicai.store import open_store
from laicai.venues.connect import open_venue
from laicai.venues.okx import OkxCredentials, create_exchange


async def _show(bot: Bot, live: Live, title: str) -> None:
    op = bot.operator
    live.update(render(await op.status(), await op.positions(), await op.pnl(),
                       await op.alerts(6), title=title))


async def _serve_until_stopped(bot: Bot, *, title: str, view: bool,
                               until_ms: int | None = None) -> None:
    """Run the bot, refreshing the live view, until a signal, a close-all or ``until_ms``."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, bot.runner.request_stop)
    services = await _start_services(bot)
    task = asyncio.create_task(bot.runner.run(), name="laicai-bot")
    live = Live(console=stdout(), refresh_per_second=4, screen=False) if view else None
    try:
        with bot.capture_logs(), live or contextlib.nullcontext():
            while not task.done():
                if bot.engine.schedule is not None:
                    if live is not None:
                        await _show(bot, live, title)
                    if until_ms is not None and bot.engine.now_ms() >= until_ms:
                        bot.runner.request_stop()
                await asyncio.sleep(0.5)
            if live is not None:
                await _show(bot, live, title)
        await task
    finally:
        for stop in reversed(services):
            with contextlib.suppress(Exception):
                await stop()


async def _start_services(bot: Bot) -> list[Stop]:
    """Notifications and the dashboard, when configured (see laicai.engine.faces)."""
    return [await start() for start in services(bot)]


def run(
    ctx: typer.Context,
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Decide and journal, but send no order.")] = False,
    skip_check: Annotated[bool, typer.Option(
        "--skip-check", help="Start even if the self-check fails (not recommended).")] = False,
    view: Annotated[bool, typer.Option(
        help="Show the live view in this terminal (off: log lines only).")] = False,
) -> None:
    """Start the bot (mode from the config: live or paper). Runs the self-check first and
    refuses to start if it fails. Stop with Ctrl-C (open carries stay open, hedged)."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    setup_logging(settings.logging, secrets=settings.secrets.plain_values(), console=not view)
    try:
        asyncio.run(_run(settings, dry_run=dry_run, skip_check=skip_check, view=view,
                         config_path=resolve_config_path(ctx, config)))
    except LaicaiError as e:
        fail(str(e))


async def _run(settings: Settings, *, dry_run: bool, skip_check: bool, view: bool,
               config_path: Path | None) -> None:
    from laicai.cli.check_cmd import print_report
    from laicai.engine.selfcheck import run_self_check

    password = settings.secrets.db_password
    store = await open_store(settings.database, password)
    try:
        async with open_venue(settings) as venue:
            report = await run_self_check(settings, config_path=config_path, venue=venue,
                                          store=store)
            if not report.ok:
                print_report(report, stdout())
                if not skip_check:
                    fail("the self-check failed: fix the items above, then start again "
                         "(`laicai check` re-runs it)")
            bot = await build_bot(settings, venue=venue, store=store, clock=WallClock(),
                                  dry_run=dry_run)
            attach_faces(bot, settings)
            await _serve_until_stopped(bot, title=f"laicai {settings.mode}", view=view)
    finally:
        await store.close()


def demo(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Option(
        help="Simulator scenario: calm (a real week of funding), squeeze (the margin ladder "
             "at work), crash, funding-flip, thin-book.")] = "calm",
    speed: Annotated[float, typer.Option(
        help="Simulated seconds per real second.", min=1.0)] = 600.0,
    hours: Annotated[float, typer.Option(
        help="Simulated hours to run before stopping (0: until Ctrl-C).", min=0.0)] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed of the simulator.")] = 7,
    db: Annotated[Path | None, typer.Option(
        help="SQLite file to keep the run in (default: a temporary file).")] = None,
    web: Annotated[bool, typer.Option(help="Serve the dashboard too (web.host:web.port)."
                                      )] = False,
    view: Annotated[bool, typer.Option(help="Show the live view.")] = True,
    config: ConfigOption = None,
) -> None:
    """Run the whole bot in paper mode against an in-process simulator: no keys, no server.
    Real funding history (calm) on an accelerated clock; watch it open, earn, reset."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    settings = settings.model_copy(update={"mode": "paper"})
    setup_logging(settings.logging, secrets=settings.secrets.plain_values(), console=not view)
    try:
        asyncio.run(_demo(settings, scenario=scenario, speed=speed, hours=hours, seed=seed,
                          db=db, web=web, view=view))
    except LaicaiError as e:
        fail(str(e))


async def _demo(settings: Settings, *, scenario: str, speed: float, hours: float, seed: int,
                db: Path | None, web: bool, view: bool) -> None:
    from laicai.sim.server.app import build_exchange, running

    ex, setup = build_exchange(scenario, seed, speed, False)
    acct = setup.accounts[0]
    creds = OkxCredentials.plain(acct.api_key, acct.secret_key, acct.passphrase)
    with tempfile.TemporaryDirectory(prefix="laicai-demo-") as tmp:
        path = db or Path(tmp) / "demo.db"
        store = await open_store(DatabaseConfig(path=path), None)
        try:
            async with running(ex, host="127.0.0.1", port=0) as srv:
                okx = settings.okx.model_copy(update={"rest_url": srv.rest_url,
                                                      "ws_url": srv.ws_url,
                                                      "sandbox_mode": False})
                async with create_exchange(okx, creds) as venue:
                    clock = AcceleratedClock(ex.clock, speed)
                    bot = await build_bot(settings, venue=venue, store=store, clock=clock)
                    if web:
                        attach_faces(bot, settings)
                    until = None if hours <= 0 else ex.clock.now_ms() + int(hours * 3_600_000)
                    started = time.monotonic()
                    await _serve_until_stopped(
                        bot, title=f"laicai demo — {scenario} x{speed:g}", view=view,
                        until_ms=until)
                    if not view:
                        await _print_summary(bot, time.monotonic() - started)
        finally:
            await store.close()


async def _print_summary(bot: Bot, seconds: float) -> None:
    op = bot.operator
    pnl = await op.pnl()
    status = await op.status()
    out = stdout()
    out.print(f"demo stopped in state {status.state} after {seconds:.0f} s; equity "
              f"{pnl.equity_usdt} USDT (started {pnl.start_equity_usdt}); funding "
              f"{pnl.total.funding:.2f}, Earn {pnl.total.earn:.2f}, fees {pnl.total.fees:.2f}; "
              f"{pnl.closed_positions} closed, {status.open_positions} open")
