"""Builders for the risk tests: a healthy SHORT BTC carry at 60 000, an account, a candidate."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from laicai.domain.enums import Direction
from laicai.risk import AccountView, CarryView, RiskParams
from laicai.strategy.opportunity import Opportunity

D = Decimal
NOW_MS = 1_750_000_000_000  # 2025-06-15T15:06:40Z
PX = D(60_000)
PARAMS = RiskParams()  # leverage 2: target 0.5, sweep 0.625, top-up 0.4, reset 0.15, emergency 0.1


def carry(**overrides: Any) -> CarryView:
    """1 BTC hedged at 60 000, perp margin 30 000 (ratio 0.5 = 1/L), capital 90 000."""
    base = CarryView(
        position_id=7,
        symbol="BTC-USDT-SWAP",
        direction=Direction.SHORT,
        base_qty=D(1),
        spot_base=D(1),
        perp_base=D(1),
        spot_entry_px=PX,
        perp_entry_px=PX,
        mark_px=PX,
        index_px=PX,
        perp_notional_usdt=D(60_000),
        perp_equity_usdt=D(30_000),
        okx_mgn_ratio=D(50),
        total_pnl_usdt=D(0),
        capital_usdt=D(90_000),
        opened_ms=NOW_MS - 86_400_000,
        funding_rate=D("0.0001"),
        recent_funding_rates=(D("0.0001"), D("0.0001"), D("0.0001")),
    )
    return replace(base, **overrides)


def with_ratio(view: CarryView, ratio: Decimal) -> CarryView:
    return replace(view, perp_equity_usdt=view.perp_notional_usdt * ratio)


def account(**overrides: Any) -> AccountView:
    base = AccountView(
        trading_available_usdt=D(10_000),
        funding_available_usdt=D(5_000),
        total_equity_usdt=D(200_000),
        peak_equity_usdt=D(200_000),
    )
    return replace(base, **overrides)


def opportunity(**overrides: Any) -> Opportunity:
    """An accepted SHORT BTC carry of 0.1 BTC: 6 000 notional, 9 000 capital."""
    base = Opportunity(
        swap_inst_id="BTC-USDT-SWAP",
        spot_inst_id="BTC-USDT",
        base="BTC",
        direction=Direction.SHORT,
        funding_rate=D("0.0003"),
        interval_hours=8,
        next_funding_ms=NOW_MS + 3_600_000,
        ms_to_next_funding=3_600_000,
        funding_apr=D("0.3285"),
        accepted=True,
        base_qty=D("0.1"),
        swap_contracts=D(10),
        spot_entry_qty=D("0.1001"),
        notional_usdt=D(6_000),
        capital_usdt=D(9_000),
        spot_entry_slippage=D("0.0005"),
        perp_entry_slippage=D("0.0004"),
        net_apr=D("0.25"),
    )
    return replace(base, **overrides)
