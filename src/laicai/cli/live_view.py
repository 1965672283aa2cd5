"""The terminal's live view of a running bot (``laicai demo``, ``laicai run`` in a terminal):
state and equity, the carries with their margin against the ladder, what they earned, the
resets, and the latest alerts — drawn from the same Operator views as the dashboard."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from laicai.engine.operator import AlertView, PnlView, PositionView, StatusView

LEVEL_STYLE = {"SWEEP": "cyan", "OK": "green", "TOPUP": "yellow", "RESET": "bold red",
               "EMERGENCY": "bold white on red"}
STATE_STYLE = {"IDLE": "green", "SCANNING": "cyan", "OPENING": "bold cyan",
               "MANAGING": "magenta", "PAUSED": "yellow", "EMERGENCY": "bold red",
               "STOPPED": "red", "STARTING": "white"}


def usdt(x: Decimal | None, places: int = 2) -> str:
    return "-" if x is None else f"{x:,.{places}f}"


def pct(x: Decimal | None, places: int = 2) -> str:
    return "-" if x is None else f"{x * 100:.{places}f}%"


def signed(x: Decimal) -> Text:
    return Text(f"{x:+,.2f}", style="green" if x >= 0 else "red")


def render(status: StatusView, positions: list[PositionView], pnl: PnlView,
           alerts: list[AlertView], *, title: str = "laicai") -> Group:
    head = Table.grid(padding=(0, 2))
    for _ in range(4):
        head.add_column()
    change = (pnl.equity_usdt - pnl.start_equity_usdt
              if pnl.equity_usdt is not None and pnl.start_equity_usdt is not None else None)
    head.add_row(
        Text.assemble("state ", (status.state, STATE_STYLE.get(status.state, "white"))),
        f"mode {status.mode}{' (dry run)' if status.dry_run else ''}",
        f"time {status.now:%Y-%m-%d %H:%M} UTC",
        f"open carries {status.open_positions}")
    head.add_row(
        f"equity {usdt(status.equity_usdt)} USDT",
        Text.assemble("change ", signed(change) if change is not None else Text("-")),
        f"breaker {status.breaker}" + (f": {status.breaker_reason}"
                                       if status.breaker_reason else ""),
        f"entries {'paused: ' + status.entries_paused if status.entries_paused else 'open'}")
    t = pnl.total
    head.add_row(
        Text.assemble("funding ", signed(t.funding)), Text.assemble("Earn ", signed(t.earn)),
        Text.assemble("fees ", signed(-t.fees)), Text.assemble("basis ", signed(t.basis)))

    table = Table(header_style="bold", expand=True)
    for col in ("#", "swap", "dir", "size", "margin ratio", "rung", "OKX mgnRatio",
                "to liq.", "funding", "Earn", "PnL", "resets"):
        table.add_column(col, justify="left" if col in ("swap", "dir", "rung") else "right")
    for p in positions:
        level = p.margin_level
        table.add_row(
            str(p.id), p.swap_inst_id, p.direction, f"{p.base_qty.normalize():f}",
            f"{pct(p.margin_ratio, 1)} (top-up {pct(p.topup_ratio, 0)}, reset "
            f"{pct(p.reset_ratio, 0)})",
            Text(level, style=LEVEL_STYLE.get(level, "white")),
            "-" if p.okx_mgn_ratio is None else f"{p.okx_mgn_ratio:.1f}",
            pct(p.liq_distance, 1), usdt(p.breakdown.funding), usdt(p.breakdown.earn),
            signed(p.breakdown.total),
            f"{p.resets_count} ({usdt(p.reset_cost_usdt)})" if p.resets_count else "0")
    if not positions:
        table.add_row("", "no open carries", *[""] * 10)

    log = Table.grid(padding=(0, 1))
    log.add_column(style="dim")
    log.add_column()
    for a in alerts[:6]:
        style = {"INFO": "white", "WARN": "yellow", "ERROR": "red",
                 "CRITICAL": "bold red"}.get(a.level, "white")
        log.add_row(f"{a.ts:%m-%d %H:%M}", Text(f"{a.level:<5} {a.message}", style=style))
    return Group(Panel(head, title=title, title_align="left"), table,
                 Panel(log, title="latest events", title_align="left"))
