"""Secrets never come from the YAML file and never show up in repr, str, dumps or errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from laicai.config import SECRET_ENV_VARS, load_config, validate_config
from laicai.errors import ConfigError

WriteYaml = Callable[..., Path]
SECRET = "s3cr3t-Val!ue-9f2"


@pytest.mark.parametrize(
    ("section", "key", "env_var"),
    [
        ("okx", "apiKey", "LAICAI_OKX_API_KEY"),
        ("okx", "api_key", "LAICAI_OKX_API_KEY"),
        ("okx", "secret", "LAICAI_OKX_SECRET_KEY"),
        ("okx", "secret_key", "LAICAI_OKX_SECRET_KEY"),
        ("okx", "password", "LAICAI_OKX_PASSPHRASE"),
        ("okx", "passphrase", "LAICAI_OKX_PASSPHRASE"),
        ("database", "password", "LAICAI_DB_PASSWORD"),
        ("telegram", "bot_token", "LAICAI_TELEGRAM_BOT_TOKEN"),
        ("dingtalk", "secret", "LAICAI_DINGTALK_SECRET"),
        ("dingtalk", "access_token", "LAICAI_DINGTALK_ACCESS_TOKEN"),
        ("dingtalk", "webhook", "LAICAI_DINGTALK_ACCESS_TOKEN"),
        ("web", "token", "LAICAI_WEB_TOKEN"),
    ],
)
def test_secret_in_yaml_is_rejected_naming_the_env_var(
    write_yaml: WriteYaml, section: str, key: str, env_var: str
) -> None:
    path = write_yaml(f"{section}:\n  {key}: '{SECRET}'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems == (
        f"{section}.{key}: secrets are never read from the config file; remove this key and "
        f"set {env_var} in the environment or in .env (see .env.example)",
    )
    assert SECRET not in str(info.value)


def test_secret_looking_key_anywhere_is_rejected(write_yaml: WriteYaml) -> None:
    path = write_yaml(f"risk:\n  circuit_breaker:\n    admin_password: '{SECRET}'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (line,) = info.value.problems
    assert line.startswith("risk.circuit_breaker.admin_password: secrets are never read")
    assert SECRET not in str(info.value)


def test_secrets_section_in_yaml_is_rejected(write_yaml: WriteYaml) -> None:
    path = write_yaml(f"secrets:\n  okx_api_key: '{SECRET}'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems[0].startswith("secrets: secrets are never read")
    assert SECRET not in str(info.value)


def test_secret_errors_and_other_errors_are_reported_together(write_yaml: WriteYaml) -> None:
    path = write_yaml(f"okx:\n  apiKey: '{SECRET}'\nrisk:\n  leverage: 10\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    keys = [line.split(":")[0] for line in info.value.problems]
    assert keys == ["okx.apiKey", "risk.leverage"]


def all_secrets_env() -> dict[str, str]:
    return {env_var: f"{SECRET}-{i}" for i, env_var in enumerate(SECRET_ENV_VARS.values())}


def test_every_secret_env_var_is_read() -> None:
    env = all_secrets_env()
    s = validate_config({}, env)
    revealed = dict((k, v.get_secret_value() if v else None) for k, v in s.secrets.items())
    assert revealed == env
    assert set(s.secrets.plain_values()) == set(env.values())


def test_secrets_never_appear_in_repr_str_or_dumps() -> None:
    s = validate_config({}, all_secrets_env())
    for text in (repr(s), str(s), repr(s.secrets), s.model_dump_json(), str(s.model_dump())):
        assert SECRET not in text
    assert "secrets" not in s.model_dump()  # excluded from dumps altogether


def test_secrets_never_appear_in_validation_errors() -> None:
    with pytest.raises(ConfigError) as info:
        validate_config({"risk": {"leverage": 7}, "web": {"host": "0.0.0.0"}}, all_secrets_env())
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
