"""``laicai check``: the bootstrap self-check (seed 000, 启动前自检) as a checklist.

Exit code 0 when nothing failed (warnings allowed), 1 when a check failed — the same verdict
``laicai run`` acts on before it starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from laicai.cli.common import ConfigOption, fail, resolve_config_path, stdout
from laicai.config import load_config
from laicai.engine.selfcheck import (
    CheckStatus,
    SelfCheckReport,
    config_failure_report,
    run_self_check,
)
from laicai.errors import ConfigError, LaicaiError
from laicai.logging_setup import setup_logging

MARKS: dict[CheckStatus, tuple[str, str]] = {
    CheckStatus.OK: ("✓", "green"),
    CheckStatus.WARN: ("!", "yellow"),
    CheckStatus.FAIL: ("✗", "bold red"),
    CheckStatus.SKIP: ("–", "dim"),
}


def quiet_console() -> None:
    """Keep log records off the terminal when the log has nowhere to go (``logging.file``
    null): Python would otherwise print warnings (retries, say) over the checklist."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def _verdict(report: SelfCheckReport) -> Text:
    counts = {s: sum(1 for c in report.checks if c.status is s) for s in CheckStatus}
    parts = [f"{counts[CheckStatus.OK]} ok", f"{counts[CheckStatus.WARN]} warning(s)",
             f"{counts[CheckStatus.FAIL]} failed"]
    if counts[CheckStatus.SKIP]:
        parts.append(f"{counts[CheckStatus.SKIP]} not checked")
    summary = ", ".join(parts)
    if report.ok:
        return Text.from_markup(f"[bold green]ready[/]: {summary}")
    return Text.from_markup(f"[bold red]not ready[/]: {summary}; `laicai run` would refuse to "
                            "start")


def render_report(report: SelfCheckReport) -> Group:
    """The checklist: one mark per check (✓ ok, ! warning, ✗ failed, – not checked), the
    detail beside it and the fix under every warning and failure."""
    mode = f"{report.mode}{' (dry run)' if report.dry_run else ''}"
    title = (f"laicai check — {escape(mode)} — {escape(report.venue)} — "
             f"{report.checked_at:%Y-%m-%d %H:%M:%S} UTC")
    table = Table(title=title, title_justify="left", show_header=False, box=None,
                  pad_edge=False, padding=(0, 1))
    table.add_column("mark", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for c in report.checks:
        mark, style = MARKS[c.status]
        table.add_row(f"[{style}]{mark}[/]", f"[{style}]{escape(c.title)}[/]",
                      escape(c.detail))
        if c.fix is not None:
            table.add_row("", "", f"[{style}]fix:[/] {escape(c.fix)}")
    return Group(table, Text(""), _verdict(report))


def print_report(report: SelfCheckReport, console: Console) -> None:
    """Print the checklist (for ``laicai run`` when it refuses to start, too)."""
    console.print(render_report(report))


def check(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    config: ConfigOption = None,
) -> None:
    """Check that everything is in place to trade: configuration, API keys (present,
    accepted, no withdrawal permission), account and position mode, leverage, database, clock,
    last exit, leftovers on the exchange, funds. Exit code 1 if any check fails."""
    path = resolve_config_path(ctx, config)
    try:
        settings = load_config(path)
    except ConfigError as e:
        report = config_failure_report(e, path)
    else:
        setup_logging(settings.logging, secrets=settings.secrets.plain_values(), console=False)
        quiet_console()
        try:
            report = asyncio.run(run_self_check(settings, settings.secrets, config_path=path))
        except LaicaiError as e:
            fail(f"the self-check could not run: {e}")
    if json_out:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_report(report, stdout())
    raise typer.Exit(0 if report.ok else 1)
