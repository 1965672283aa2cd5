"""Defaults: what laicai runs with when the file leaves a key out (or there is no file)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from laicai.config import Settings, load_config
from laicai.config.risk import derived_sweep_ratio, derived_topup_ratio

WriteYaml = Callable[[str], Path]


def test_no_file_gives_the_documented_defaults() -> None:
    s = load_config(None, env={})
    assert s.mode == "paper"
    assert s.dry_run is False
    assert s.database.type == "sqlite"
    assert s.database.path == Path("data/laicai.db")
    assert s.strategy.min_annualized_return == Decimal("0.15")
    assert s.strategy.capital_per_trade_ratio == Decimal("0.1")
    assert s.strategy.max_open_positions == 5
    assert s.strategy.scan_interval_seconds == 45
    assert s.strategy.expected_holding_days == Decimal("7")
    assert (s.strategy.funding_rate_min, s.strategy.funding_rate_max) == (
        Decimal("0.0001"),
        Decimal("0.01"),
    )
    assert s.risk.leverage == Decimal("2")
    assert s.risk.margin_reset_threshold == Decimal("0.15")
    assert s.risk.profit_close_threshold == Decimal("-0.0001")
    assert s.risk.max_allowed_slippage == Decimal("0.002")
    assert s.risk.take_profit == Decimal("0.05")
    assert s.risk.stop_loss == Decimal("-0.02")
    assert s.risk.circuit_breaker.max_consecutive_losses == 3
    assert s.risk.circuit_breaker.daily_loss_limit_usdt == Decimal("500")
    assert s.risk.hedge_deviation_ratio == Decimal("0.01")
    assert s.execution.redeem_timeout_seconds == 60
    assert s.telegram.language == "zh"
    assert (s.web.host, s.web.port) == ("127.0.0.1", 8080)
    assert s.logging.file == Path("data/logs/laicai.log")


def test_topup_defaults_to_80_percent_of_initial_margin() -> None:
    s = load_config(None, env={})
    assert s.risk.margin_topup_ratio == Decimal("0.4")  # 0.8 x 1/2
    assert s.risk.margin_sweep_ratio == Decimal("0.625")  # 1.25 x 1/2


def test_derived_ladder_follows_the_configured_leverage(write_yaml: WriteYaml) -> None:
    s = load_config(write_yaml("risk:\n  leverage: 3\n"), env={})
    assert s.risk.margin_topup_ratio == derived_topup_ratio(Decimal(3)) == Decimal("0.2667")
    assert s.risk.margin_sweep_ratio == derived_sweep_ratio(Decimal(3)) == Decimal("0.4167")


def test_explicit_null_also_means_derive(write_yaml: WriteYaml) -> None:
    s = load_config(write_yaml("risk:\n  leverage: 2.5\n  margin_topup_ratio: null\n"), env={})
    assert s.risk.margin_topup_ratio == Decimal("0.32")


def test_explicit_ladder_values_win_over_derived(write_yaml: WriteYaml) -> None:
    path = write_yaml("risk:\n  margin_topup_ratio: 0.3\n  margin_sweep_ratio: 0.7\n")
    s = load_config(path, env={})
    assert (s.risk.margin_topup_ratio, s.risk.margin_sweep_ratio) == (
        Decimal("0.3"),
        Decimal("0.7"),
    )


def test_yaml_floats_become_exact_decimals(write_yaml: WriteYaml) -> None:
    s = load_config(write_yaml("account:\n  spot_ratio: 0.1\n  futures_ratio: 0.2\n"), env={})
    assert s.account.spot_ratio + s.account.futures_ratio == Decimal("0.3")


def test_partial_sections_keep_other_defaults(write_yaml: WriteYaml) -> None:
    s = load_config(write_yaml("strategy:\n  max_open_positions: 2\n"), env={})
    assert s.strategy.max_open_positions == 2
    assert s.strategy.scan_interval_seconds == 45
    assert s.risk == Settings().risk


def test_settings_are_immutable() -> None:
    s = load_config(None, env={})
    with pytest.raises(ValidationError, match="frozen"):
        s.risk.leverage = Decimal(3)  # type: ignore[misc]


def test_currency_lists_are_normalised(write_yaml: WriteYaml) -> None:
    s = load_config(write_yaml("account:\n  instruments_allow: [btc, ' eth ']\n"), env={})
    assert s.account.instruments_allow == ["BTC", "ETH"]
