"""The Operator's views as command answers, in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

from laicai.engine.events import PnlBreakdown
from laicai.engine.operator import (
    CommandResult,
    FundingView,
    HealthView,
    PnlView,
    PositionView,
    StatusView,
)
from laicai.notify import operator_texts as t
from laicai.notify.language import Tr

NOW = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
EN, ZH = Tr("en"), Tr("zh")

STATUS = StatusView(state="IDLE", mode="live", dry_run=True, started_at=NOW.replace(hour=7),
                    now=NOW, equity_usdt=D("20123.456"), peak_equity_usdt=D("20500"),
                    open_positions=2, breaker="ok",
                    last_scan_at=NOW.replace(hour=8, minute=59),
                    health=HealthView(api_requests=10, api_errors=1, loop_latency_ms=2.25))

POSITION = PositionView(
    id=7, symbol="ETH", swap_inst_id="ETH-USDT-SWAP", direction="LONG", status="OPEN",
    base_qty=D("2.5"), notional_usdt=D("8750"), entry_spot_px=D("3500.5"),
    entry_perp_px=D("3498"), mark_px=D("3300.25"), margin_ratio=D("0.18"),
    margin_level="TOPUP", topup_ratio=D("0.2"), reset_ratio=D("0.15"),
    emergency_ratio=D("0.08"), okx_mgn_ratio=D("4.2"), liq_px=D("2900"),
    liq_distance=D("0.1213"), funding_rate=D("-0.0003"),
    breakdown=PnlBreakdown(funding=D("12"), basis=D("-3"), fees=D("4.5"), borrow=D("1.25")),
    earn_amount=D("0"), borrowed_amount=D("2.5"), resets_count=2, reset_cost_usdt=D("21.7"),
    opened_at=NOW.replace(hour=1))


def test_status_healthy_in_english() -> None:
    text = t.status_text(STATUS, EN)
    lines = text.splitlines()
    assert lines[0] == "✅ State: IDLE · live (dry run: no orders sent)"
    assert "Equity: 20,123.46 USDT (peak 20,500.00)" in lines
    assert "Circuit breaker: ok" in lines
    assert "New entries: allowed" in lines
    assert "Last scan: 2026-01-02 08:59 UTC (60 s ago)" in lines
    assert "Started: 2026-01-02 07:00 UTC (2.0 h ago)" in lines
    assert "API: 10 requests, 1 errors; loop latency 2.2 ms" in lines  # 2.25, float format


def test_status_flags_what_needs_attention() -> None:
    paused = replace(STATUS, breaker="tripped", breaker_reason="3 losses",
                     entries_paused="breaker")
    text = t.status_text(paused, ZH)
    assert text.startswith("⚠️ 状态：IDLE · 实盘（空跑：不下单）")
    assert "熔断：已触发 (3 losses)" in text
    assert "新开仓：已暂停 (breaker)" in text
    naked = replace(STATUS, naked_usdt=D("250"),
                    health=HealthView(exchange_ok=False, problems=("ws stale 40 s",)))
    text = t.status_text(naked, EN)
    assert text.startswith("🚨 ")
    assert "Exchange: DOWN" in text and "⚠️ ws stale 40 s" in text


def test_position_shows_margin_against_thresholds_and_pnl_by_source() -> None:
    text = t.position_text(POSITION, EN)
    assert text.splitlines()[0] == ("⚠️ #7 ETH · LONG (long perp + borrowed short spot) · OPEN")
    assert "Size: 2.5 (≈ 8,750.00 USDT)" in text
    assert "Entry: spot 3,500.50 / perp 3,498.00" in text
    assert "Margin ratio: 18.00% [top-up] (top-up 20.00% / reset 15.00% / emergency 8.00%)" \
        in text
    assert "OKX mgnRatio: 420.00%" in text
    assert "Liq. price: 2,900.00 (12.13% away)" in text
    assert "Funding rate: -0.0300%" in text
    assert ("PnL: +3.25 USDT (funding +12.00, Earn 0.00, basis -3.00, fees -4.50, "
            "borrow -1.25)") in text
    assert "Resets: 2, cost 21.70 USDT" in text


def test_positions_list_and_empty_in_chinese() -> None:
    assert t.positions_text([], ZH) == "✅ 当前没有持仓"
    text = t.positions_text([POSITION, replace(POSITION, id=8, margin_level="OK")], ZH)
    assert text.startswith("持仓 2 个")
    assert "#7 ETH · 反向（多永续 + 借币空现货）" in text and "#8 ETH" in text
    assert "保证金率：18.00% [需补保证金]（补 20.00% / 重置 15.00% / 紧急 8.00%）" in text
    assert ("盈亏：+3.25 USDT（资金费 +12.00，Earn 0.00，基差 -3.00，手续费 -4.50，"
            "借币 -1.25）") in text


def test_naked_position_is_red() -> None:
    text = t.position_text(replace(POSITION, naked_usdt=D("99.5")), EN)
    assert text.startswith("🚨 #7")
    assert "🚨 Naked exposure: 99.50 USDT" in text


def test_pnl_view() -> None:
    view = PnlView(total=PnlBreakdown(funding=D("100"), fees=D("130")),
                   today=PnlBreakdown(funding=D("5")), realized_usdt=D("-40"),
                   unrealized_usdt=D("10"), equity_usdt=D("9970"),
                   start_equity_usdt=D("10000"), closed_positions=3)
    text = t.pnl_text(view, EN)
    assert text.startswith("⚠️ Total PnL: -30.00 USDT")
    assert "Equity: 9,970.00 (start 10,000.00)" in text
    today = text.split("— Today (UTC) —")[1]
    assert "Funding: +5.00" in today and "Total: +5.00 USDT" in today
    assert "总盈亏：-30.00 USDT" in t.pnl_text(view, ZH)


def test_funding_list() -> None:
    views = [FundingView("BTC", "BTC-USDT-SWAP", D("0.0001"), 8, NOW, D("0.1095"), True,
                         D("3.5")),
             FundingView("XRP", "XRP-USDT-SWAP", D("-0.0002"), 1, None, D("-1.752"), False)]
    lines = t.funding_text(views, EN).splitlines()
    assert lines[1] == ("📌 BTC-USDT-SWAP 0.0100%/8h · APR 10.95% · next 2026-01-02 09:00 UTC"
                        " · held, earned +3.50")
    assert lines[2] == "• XRP-USDT-SWAP -0.0200%/1h · APR -175.20% · next —"
    assert t.funding_text([], ZH).startswith("✅ 暂无资金费率数据")


def test_results_and_help() -> None:
    assert t.result_text(CommandResult(True, "paused")) == "✅ paused"
    assert t.result_text(CommandResult(False, "no such position")) == "⚠️ no such position"
    help_zh = t.help_text(ZH)
    assert "/closeall — 全部平仓（需确认）" in help_zh
    assert "/close — close one position: /close <id>" in t.help_text(EN)
