"""Validation: every bad value is rejected at load with the full dotted key, the value and what
is allowed, and consistent values are accepted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from laicai.config import Settings, validate_config
from laicai.config.problems import model_at
from laicai.errors import ConfigError

SECRETS_FOR_ALL = {
    "LAICAI_OKX_API_KEY": "k-123456",
    "LAICAI_OKX_SECRET_KEY": "s-123456",
    "LAICAI_OKX_PASSPHRASE": "p-123456",
    "LAICAI_TELEGRAM_BOT_TOKEN": "123:abcdef",
    "LAICAI_DINGTALK_ACCESS_TOKEN": "d-123456",
    "LAICAI_WEB_TOKEN": "w-123456",
}


def problems(data: dict[str, Any], env: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        validate_config(data, env or {})
    return info.value.problems


def only_problem(data: dict[str, Any], env: dict[str, str] | None = None) -> str:
    found = problems(data, env)
    assert len(found) == 1, found
    return found[0]


# --- leverage ---------------------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(
    st.decimals(min_value=Decimal("3.0001"), max_value=Decimal("1000"), places=4, allow_nan=False)
)
def test_any_leverage_above_3_is_rejected_naming_the_key(leverage: Decimal) -> None:
    line = only_problem({"risk": {"leverage": str(leverage)}})
    assert line.startswith("risk.leverage: ")
    assert str(leverage) in line
    assert "1 ≤ value ≤ 3" in line


@settings(deadline=None, max_examples=60)
@given(st.decimals(min_value=1, max_value=3, places=2, allow_nan=False))
def test_any_leverage_from_1_to_3_loads_with_a_consistent_ladder(leverage: Decimal) -> None:
    risk = validate_config({"risk": {"leverage": str(leverage)}}, {}).risk
    assert risk.leverage == leverage
    assert (
        risk.margin_sweep_ratio
        > risk.initial_margin_ratio
        > risk.margin_topup_ratio
        > risk.margin_reset_threshold
        > risk.margin_emergency_ratio
    )


def test_leverage_below_1_is_rejected() -> None:
    assert only_problem({"risk": {"leverage": 0.5}}).startswith("risk.leverage: ")


# --- the margin ladder ------------------------------------------------------------------------

ladder_value = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2)


@settings(deadline=None, max_examples=200)
@given(topup=ladder_value, reset=ladder_value, emergency=ladder_value)
def test_ladder_out_of_order_is_rejected_naming_both_keys(
    topup: Decimal, reset: Decimal, emergency: Decimal
) -> None:
    data = {
        "risk": {
            "leverage": 2,
            "margin_sweep_ratio": "0.9",
            "margin_topup_ratio": str(topup),
            "margin_reset_threshold": str(reset),
            "margin_emergency_ratio": str(emergency),
        }
    }
    expected: list[tuple[str, str]] = []
    if topup >= Decimal("0.5"):
        expected.append(("risk.margin_topup_ratio", "risk.leverage"))
    if topup <= reset:
        expected.append(("risk.margin_topup_ratio", "risk.margin_reset_threshold"))
    if reset <= emergency:
        expected.append(("risk.margin_reset_threshold", "risk.margin_emergency_ratio"))
    if not expected:
        risk = validate_config(data, {}).risk
        assert risk.margin_topup_ratio == topup
        return
    found = problems(data)
    assert len(found) == len(expected), found
    for line, (first, second) in zip(found, expected, strict=True):
        assert line.startswith(first), line
        assert second in line, line


def test_sweep_must_be_above_the_initial_margin_ratio() -> None:
    line = only_problem({"risk": {"leverage": 2, "margin_sweep_ratio": "0.5"}})
    assert line.startswith("risk.margin_sweep_ratio (0.5) must be above")
    assert "1/risk.leverage = 0.5000" in line


def test_ladder_error_shows_both_values() -> None:
    line = only_problem(
        {"risk": {"margin_reset_threshold": "0.1", "margin_emergency_ratio": "0.2"}}
    )
    assert line == (
        "risk.margin_reset_threshold (0.1) must be greater than risk.margin_emergency_ratio (0.2): "
        "the ladder runs sweep > top-up > reset > emergency"
    )


# --- ratios and ranges ------------------------------------------------------------------------

RATIO_KEYS = [
    ("account", "spot_ratio"),
    ("account", "futures_ratio"),
    ("strategy", "capital_per_trade_ratio"),
    ("strategy", "funding_rate_min"),
    ("strategy", "funding_rate_max"),
    ("risk", "max_allowed_slippage"),
    ("risk", "take_profit"),
    ("risk", "spike_pct"),
    ("risk", "hedge_deviation_ratio"),
    ("risk", "margin_reset_threshold"),
]
outside_unit_interval = st.one_of(
    st.decimals(min_value=Decimal("1.0001"), max_value=Decimal("100"), places=4),
    st.decimals(min_value=Decimal("-100"), max_value=Decimal("-0.0001"), places=4),
)


@settings(deadline=None, max_examples=150)
@given(key=st.sampled_from(RATIO_KEYS), value=outside_unit_interval)
def test_ratios_outside_0_1_are_rejected(key: tuple[str, str], value: Decimal) -> None:
    section, name = key
    found = problems({section: {name: str(value)}})
    assert any(line.startswith(f"{section}.{name}: ") and str(value) in line for line in found)


def test_drawdown_in_nested_section_names_the_full_path() -> None:
    line = only_problem({"risk": {"circuit_breaker": {"max_drawdown": 1.5}}})
    assert line.startswith("risk.circuit_breaker.max_drawdown: ")
    assert "0 < value ≤ 1" in line


def test_spot_plus_futures_above_one_names_both_keys() -> None:
    line = only_problem({"account": {"spot_ratio": 0.7, "futures_ratio": 0.4}})
    assert "account.spot_ratio" in line and "account.futures_ratio" in line
    assert "1.1" in line


def test_funding_band_must_be_ordered() -> None:
    line = only_problem({"strategy": {"funding_rate_min": 0.02, "funding_rate_max": 0.01}})
    assert line.startswith(
        "strategy.funding_rate_min (0.02) must be below strategy.funding_rate_max"
    )


@pytest.mark.parametrize(
    ("data", "key", "allowed"),
    [
        ({"mode": "production"}, "mode", "one of live, paper"),
        ({"dry_run": "maybe"}, "dry_run", "true or false"),
        ({"strategy": {"max_open_positions": 2.5}}, "strategy.max_open_positions", "whole number"),
        ({"strategy": {"max_open_positions": 0}}, "strategy.max_open_positions", "1 ≤ value"),
        ({"execution": {"order_style": "limit"}}, "execution.order_style", "taker, maker_first"),
        ({"telegram": {"language": "fr"}}, "telegram.language", "one of zh, en"),
        ({"telegram": {"chat_ids": 12345}}, "telegram.chat_ids", "a list of whole numbers"),
        ({"web": {"port": 70000}}, "web.port", "1 ≤ value ≤ 65535"),
        ({"logging": {"level": "LOUD"}}, "logging.level", "DEBUG, INFO, WARNING"),
        ({"okx": {"timeout_ms": 10}}, "okx.timeout_ms", "1000 ≤ value ≤ 120000"),
        ({"okx": {"rest_url": "localhost:18080"}}, "okx.rest_url", "http or https"),
        ({"risk": {"stop_loss": 0.02}}, "risk.stop_loss", "-1 ≤ value < 0"),
        ({"risk": {"min_okx_mgn_ratio": 1}}, "risk.min_okx_mgn_ratio", "value ≤ 1000"),
        ({"account": {"total_capital": 0}}, "account.total_capital", "(or null)"),
        ({"risk": "high"}, "risk", "a mapping with keys leverage"),
    ],
)
def test_wrong_types_and_ranges_name_key_value_and_allowed(
    data: dict[str, Any], key: str, allowed: str
) -> None:
    line = only_problem(data)
    assert line.startswith(f"{key}: "), line
    assert "(got " in line
    assert allowed in line, line


def test_bad_currency_code_is_explained() -> None:
    line = only_problem({"account": {"instruments_deny": ["BTC-USDT-SWAP"]}})
    assert line.startswith("account.instruments_deny: ")
    assert "base currency" in line


def test_currency_in_allow_and_deny_is_rejected() -> None:
    line = only_problem({"account": {"instruments_allow": ["BTC"], "instruments_deny": ["btc"]}})
    assert "BTC listed in both account.instruments_allow and account.instruments_deny" in line


def test_all_problems_are_reported_at_once() -> None:
    found = problems({"mode": "x", "risk": {"leverage": 9}, "web": {"port": 0}})
    assert [line.split(":")[0] for line in found] == ["mode", "risk.leverage", "web.port"]


# --- unknown keys -----------------------------------------------------------------------------

SECTIONS = [name for name, f in Settings.model_fields.items() if not f.exclude]
identifier = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True).filter(
    lambda k: not any(w in k for w in ("password", "secret", "token", "apikey", "passphrase"))
)


@settings(deadline=None, max_examples=80)
@given(
    section=st.sampled_from(["okx", "database", "account", "strategy", "risk", "web"]),
    key=identifier,
)
def test_unknown_keys_are_rejected_with_their_path(section: str, key: str) -> None:
    assume(key not in model_at(Settings, [section]).model_fields)
    line = only_problem({section: {key: 1}})
    assert line.startswith(f"{section}.{key}: unknown key")


def test_unknown_key_suggests_the_closest_name() -> None:
    line = only_problem({"telegram": {"chat_id": 42}})
    assert line.startswith("telegram.chat_id: unknown key (did you mean 'chat_ids'?)")
    assert "keys allowed here: enabled, chat_ids, language" in line


def test_unknown_top_level_key_lists_the_sections() -> None:
    line = only_problem({"strategies": {}})
    assert "did you mean 'strategy'?" in line
    assert "secrets" not in line  # never offered as a file key
    assert all(section in line for section in SECTIONS)


# --- database ---------------------------------------------------------------------------------


def test_database_url_with_password_is_rejected_without_echoing_it() -> None:
    line = only_problem({"database": {"url": "postgresql://laicai:hunter2@db:5432/laicai"}})
    assert line.startswith("database.url: ")
    assert "LAICAI_DB_PASSWORD" in line
    assert "hunter2" not in line


def test_database_url_and_parts_conflict() -> None:
    line = only_problem({"database": {"url": "postgresql://laicai@db/laicai", "port": 5433}})
    assert line.startswith("database.url cannot be combined with database.port")


def test_postgresql_parts_load() -> None:
    db = validate_config(
        {"database": {"type": "postgresql", "host": "db", "user": "u", "dbname": "d"}},
        {"LAICAI_DB_PASSWORD": "pw"},
    ).database
    assert (db.type, db.host, db.port, db.user, db.dbname) == ("postgresql", "db", 5432, "u", "d")


# --- secrets required by enabled features -----------------------------------------------------


def test_enabled_telegram_without_token_env_var_is_rejected() -> None:
    found = problems({"telegram": {"enabled": True, "chat_ids": [1]}})
    assert found == ("telegram.enabled is true but LAICAI_TELEGRAM_BOT_TOKEN is not set",)


def test_enabled_telegram_without_chat_ids_is_rejected() -> None:
    found = problems({"telegram": {"enabled": True}}, {"LAICAI_TELEGRAM_BOT_TOKEN": "1:x"})
    assert found == ("telegram.enabled is true but telegram.chat_ids is empty",)


def test_enabled_dingtalk_needs_its_access_token() -> None:
    line = only_problem({"dingtalk": {"enabled": True}})
    assert line == "dingtalk.enabled is true but LAICAI_DINGTALK_ACCESS_TOKEN is not set"


def test_live_mode_needs_okx_keys() -> None:
    line = only_problem({"mode": "live"}, {"LAICAI_OKX_API_KEY": "k"})
    assert line == "mode is 'live' but LAICAI_OKX_SECRET_KEY, LAICAI_OKX_PASSPHRASE are not set"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "dashboard.example"])
def test_dashboard_off_loopback_needs_a_token(host: str) -> None:
    line = only_problem({"web": {"host": host}})
    assert line.startswith(f"web.host is '{host}'")
    assert "LAICAI_WEB_TOKEN" in line


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_dashboard_on_loopback_needs_no_token(host: str) -> None:
    assert validate_config({"web": {"host": host}}, {}).web.host == host


def test_everything_enabled_with_all_secrets_loads() -> None:
    s = validate_config(
        {
            "mode": "live",
            "telegram": {"enabled": True, "chat_ids": [-100123]},
            "dingtalk": {"enabled": True},
            "web": {"host": "0.0.0.0"},
        },
        SECRETS_FOR_ALL,
    )
    assert s.mode == "live" and s.telegram.chat_ids == [-100123]
    assert s.secrets.okx_api_key is not None
    assert s.secrets.okx_api_key.get_secret_value() == "k-123456"
