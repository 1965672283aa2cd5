"""RiskParams: a frozen copy of the settings, validated so the ladder and the stop exist."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from laicai.config.schema import Settings
from laicai.risk import RiskParams

D = Decimal


def test_from_default_settings() -> None:
    p = RiskParams.from_settings(Settings())
    assert p.leverage == D(2) and p.target_margin_ratio == D("0.5")
    assert (p.margin_sweep_ratio, p.margin_topup_ratio) == (D("0.625"), D("0.4"))
    assert (p.margin_reset_threshold, p.margin_emergency_ratio) == (D("0.15"), D("0.1"))
    assert p.max_naked_ms == 10_000 and p.spike_window_ms == 60_000
    assert (p.take_profit, p.stop_loss) == (D("0.05"), D("-0.02"))
    assert (p.max_consecutive_losses, p.daily_loss_limit_usdt, p.max_drawdown) == (
        3, D(500), D("0.15"))
    assert p.max_open_positions == 5 and p.max_position_value == D(10_000)
    assert p.exit_horizon_days == D(7) and p.max_trade_multiple == D(1)


def test_from_settings_follows_the_file() -> None:
    settings = Settings.model_validate({
        "risk": {"leverage": 3, "spike_seconds": 1.5, "circuit_breaker": {
            "max_consecutive_losses": 4}},
        "strategy": {"dynamic_sizing": True, "max_open_positions": 2},
        "account": {"total_capital": 50_000},
    })
    p = RiskParams.from_settings(settings, breaker_cooldown_ms=3_600_000)
    assert p.leverage == D(3) and p.margin_topup_ratio == D("0.2667")
    assert p.spike_window_ms == 1_500 and p.max_consecutive_losses == 4
    assert p.max_trade_multiple == D(2) and p.max_open_positions == 2
    assert p.total_capital == D(50_000) and p.breaker_cooldown_ms == 3_600_000


@pytest.mark.parametrize(("change", "message"), [
    ({"leverage": D(4)}, "leverage"),
    ({"margin_topup_ratio": D("0.1")}, "margin_topup_ratio"),
    ({"margin_sweep_ratio": D("0.5")}, "margin_sweep_ratio"),
    ({"margin_emergency_ratio": D(0)}, "margin_emergency_ratio"),
    ({"stop_loss": D("0.01")}, "stop_loss"),
    ({"margin_hysteresis": D(1)}, "margin_hysteresis"),
    ({"min_okx_mgn_ratio": D(1)}, "min_okx_mgn_ratio"),
    ({"funding_ema_alpha": D(0)}, "funding_ema_alpha"),
    ({"breaker_cooldown_ms": 0}, "breaker_cooldown_ms"),
])
def test_invalid_params_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(RiskParams(), **change)  # type: ignore[arg-type]
