"""The Operator's views as the texts Telegram commands answer with, in Chinese or English.

Plain text, one fact per line, the icon of the first line saying whether anything needs the
operator's attention (✅ healthy, ⚠️ look at it, 🚨 act now).
"""

from __future__ import annotations

from datetime import datetime

from laicai.engine.operator import (
    CommandResult,
    FundingView,
    PnlView,
    PositionView,
    StatusView,
)
from laicai.notify import numbers as n
from laicai.notify.event_messages import breakdown_lines
from laicai.notify.language import Tr
from laicai.notify.message import Level

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("status", "机器人状态与健康", "bot state and health"),
    ("positions", "持仓、保证金率与盈亏", "positions, margin ratios and PnL"),
    ("pnl", "盈亏分解（累计与今日）", "PnL by source (total and today)"),
    ("funding", "资金费率（持仓与最新扫描）", "funding rates (held and latest scan)"),
    ("pause", "暂停新开仓：/pause [原因]", "pause new entries: /pause [reason]"),
    ("resume", "恢复新开仓", "resume new entries"),
    ("close", "平掉一个仓位：/close <编号>", "close one position: /close <id>"),
    ("closeall", "全部平仓（需确认）", "close every position (asks for confirmation)"),
    ("help", "命令列表", "this list"),
)


def _ago(then: datetime | None, now: datetime, tr: Tr) -> str:
    if then is None:
        return n.NONE_TEXT
    seconds = max((now - then).total_seconds(), 0.0)
    if seconds < 120:
        age = tr(f"{seconds:.0f} 秒前", f"{seconds:.0f} s ago")
    elif seconds < 7200:
        age = tr(f"{seconds / 60:.0f} 分钟前", f"{seconds / 60:.0f} min ago")
    else:
        age = tr(f"{seconds / 3600:.1f} 小时前", f"{seconds / 3600:.1f} h ago")
    return f"{n.utc_time(then)} ({age})"


def status_text(v: StatusView, tr: Tr) -> str:
    worry = Level.INFO
    if v.entries_paused or v.breaker != "ok" or not v.health.exchange_ok or v.health.problems:
        worry = Level.WARN
    if v.naked_usdt > 0 or v.state in ("EMERGENCY", "STOPPED"):
        worry = Level.ERROR
    breaker = {"ok": tr("正常", "ok"), "tripped": tr("已触发", "tripped"),
               "cooling_down": tr("冷却中", "cooling down")}.get(v.breaker, v.breaker)
    if v.breaker_reason:
        breaker += f" ({v.breaker_reason})"
    equity = n.usdt(v.equity_usdt) + " USDT"
    if v.peak_equity_usdt is not None:
        equity += tr(f"（峰值 {n.usdt(v.peak_equity_usdt)}）",
                     f" (peak {n.usdt(v.peak_equity_usdt)})")
    h = v.health
    lines = [
        f"{worry.icon} " + tr.field("状态", "State", f"{v.state} · {tr.mode(v.mode, v.dry_run)}"),
        tr.field("权益", "Equity", equity),
        tr.field("持仓", "Open positions", str(v.open_positions)),
        tr.field("熔断", "Circuit breaker", breaker),
        tr.field("新开仓", "New entries",
                 tr("已暂停", "paused") + f" ({v.entries_paused})" if v.entries_paused
                 else tr("允许", "allowed")),
        tr.field("裸露敞口", "Naked exposure", n.usdt(v.naked_usdt) + " USDT"),
        tr.field("最近扫描", "Last scan", _ago(v.last_scan_at, v.now, tr)),
        tr.field("启动于", "Started", _ago(v.started_at, v.now, tr)),
        tr.field("交易所", "Exchange", tr("正常", "ok") if h.exchange_ok else tr("异常", "DOWN")),
        tr.field("API", "API", tr(f"{h.api_requests} 次请求，{h.api_errors} 次错误",
                                  f"{h.api_requests} requests, {h.api_errors} errors")
                 + tr(f"；循环延迟 {h.loop_latency_ms:.1f} ms",
                      f"; loop latency {h.loop_latency_ms:.1f} ms")),
    ]
    lines.extend(f"⚠️ {p}" for p in h.problems)
    return "\n".join(lines)


def position_text(p: PositionView, tr: Tr) -> str:
    worry = {"SWEEP": Level.INFO, "OK": Level.INFO, "TOPUP": Level.WARN,
             "RESET": Level.WARN, "EMERGENCY": Level.ERROR}.get(p.margin_level.upper(),
                                                                Level.WARN)
    if p.naked_usdt > 0:
        worry = Level.ERROR
    b = p.breakdown
    lines = [
        f"{worry.icon} #{p.id} {p.symbol} · {tr.direction(p.direction)} · {p.status}",
        tr.field("数量", "Size", n.qty(p.base_qty)
                 + (f" (≈ {n.usdt(p.notional_usdt)} USDT)" if p.notional_usdt is not None
                    else "")),
        tr.field("开仓价", "Entry", tr(f"现货 {n.price(p.entry_spot_px)} / 永续 "
                                       f"{n.price(p.entry_perp_px)}",
                                       f"spot {n.price(p.entry_spot_px)} / perp "
                                       f"{n.price(p.entry_perp_px)}")),
        tr.field("标记价", "Mark", n.price(p.mark_px)),
        tr.field("保证金率", "Margin ratio",
                 f"{n.ratio_pct(p.margin_ratio)} [{tr.margin_level(p.margin_level)}]"
                 + tr(f"（补 {n.ratio_pct(p.topup_ratio)} / 重置 {n.ratio_pct(p.reset_ratio)}"
                      f" / 紧急 {n.ratio_pct(p.emergency_ratio)}）",
                      f" (top-up {n.ratio_pct(p.topup_ratio)} / reset "
                      f"{n.ratio_pct(p.reset_ratio)} / emergency "
                      f"{n.ratio_pct(p.emergency_ratio)})")),
        tr.field("OKX 保证金率", "OKX mgnRatio", n.ratio_pct(p.okx_mgn_ratio)),
        tr.field("强平价", "Liq. price", n.price(p.liq_px)
                 + (tr(f"（距离 {n.pct(p.liq_distance)}）", f" ({n.pct(p.liq_distance)} away)")
                    if p.liq_distance is not None else "")),
        tr.field("资金费率", "Funding rate", n.funding_rate(p.funding_rate)),
        tr.field("Earn / 借币", "Earn / borrowed",
                 f"{n.qty(p.earn_amount)} / {n.qty(p.borrowed_amount)}"),
        tr.field("盈亏", "PnL", n.usdt(p.pnl_usdt, signed=True) + " USDT"
                 + tr(f"（资金费 {n.usdt(b.funding, signed=True)}，Earn "
                      f"{n.usdt(b.earn, signed=True)}，基差 {n.usdt(b.basis, signed=True)}，"
                      f"手续费 {n.usdt(-b.fees, signed=True)}，借币 "
                      f"{n.usdt(-b.borrow, signed=True)}）",
                      f" (funding {n.usdt(b.funding, signed=True)}, Earn "
                      f"{n.usdt(b.earn, signed=True)}, basis {n.usdt(b.basis, signed=True)}, "
                      f"fees {n.usdt(-b.fees, signed=True)}, borrow "
                      f"{n.usdt(-b.borrow, signed=True)})")),
        tr.field("重置", "Resets", tr(f"{p.resets_count} 次，成本 {n.usdt(p.reset_cost_usdt)} USDT",
                                      f"{p.resets_count}, cost {n.usdt(p.reset_cost_usdt)} USDT")),
        tr.field("开仓时间", "Opened", n.utc_time(p.opened_at)),
    ]
    if p.naked_usdt > 0:
        lines.append("🚨 " + tr.field("裸露敞口", "Naked exposure", n.usdt(p.naked_usdt) + " USDT"))
    return "\n".join(lines)


def positions_text(views: list[PositionView], tr: Tr) -> str:
    if not views:
        return "✅ " + tr("当前没有持仓", "No open positions")
    head = tr(f"持仓 {len(views)} 个", f"{len(views)} position(s)")
    return "\n\n".join([head, *(position_text(p, tr) for p in views)])


def pnl_text(v: PnlView, tr: Tr) -> str:
    icon = Level.INFO.icon if v.total.total >= 0 else Level.WARN.icon
    lines = [
        f"{icon} " + tr.field("总盈亏", "Total PnL", n.usdt(v.total.total, signed=True) + " USDT"),
        tr.field("已实现", "Realized", n.usdt(v.realized_usdt, signed=True)),
        tr.field("未实现", "Unrealized", n.usdt(v.unrealized_usdt, signed=True)),
        tr.field("权益", "Equity", n.usdt(v.equity_usdt)
                 + tr(f"（起始 {n.usdt(v.start_equity_usdt)}）",
                      f" (start {n.usdt(v.start_equity_usdt)})")),
        tr.field("已平仓", "Closed positions", str(v.closed_positions)),
        tr("— 累计 —", "— Total —"),
        *breakdown_lines(v.total, tr),
        tr("— 今日 (UTC) —", "— Today (UTC) —"),
        *breakdown_lines(v.today, tr),
    ]
    return "\n".join(lines)


def funding_text(views: list[FundingView], tr: Tr) -> str:
    if not views:
        return "✅ " + tr("暂无资金费率数据（尚未扫描）", "No funding rates yet (no scan so far)")
    lines = [tr("资金费率（持仓在前）", "Funding rates (held first)")]
    for f in views:
        held = (tr(f" · 持仓，已赚 {n.usdt(f.earned_usdt, signed=True)}",
                   f" · held, earned {n.usdt(f.earned_usdt, signed=True)}") if f.held else "")
        mark = "📌" if f.held else "•"
        lines.append(
            f"{mark} {f.swap_inst_id} {n.funding_rate(f.rate)}/{f.interval_hours}h"
            + tr(f" · 年化 {n.pct(f.apr)} · 下次 {n.utc_time(f.next_funding_time)}",
                 f" · APR {n.pct(f.apr)} · next {n.utc_time(f.next_funding_time)}")
            + held
        )
    return "\n".join(lines)


def result_text(r: CommandResult) -> str:
    return f"{(Level.INFO if r.ok else Level.WARN).icon} {r.message}"


def help_text(tr: Tr) -> str:
    lines = [tr("来财 · 命令", "laicai · commands")]
    lines.extend(f"/{name} — {tr(zh, en)}" for name, zh, en in COMMANDS)
    return "\n".join(lines)
