"""Secrets: read only from environment variables (or a ``.env`` file), never from YAML.

Each secret is a :class:`pydantic.SecretStr`, whose ``repr``/``str`` print ``**********``, so a
settings object can be logged or put in an exception message without leaking anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

ENV_PREFIX = "LAICAI_"

SECRET_ENV_VARS: dict[str, str] = {
    "okx_api_key": "LAICAI_OKX_API_KEY",
    "okx_secret_key": "LAICAI_OKX_SECRET_KEY",
    "okx_passphrase": "LAICAI_OKX_PASSPHRASE",
    "db_password": "LAICAI_DB_PASSWORD",
    "telegram_bot_token": "LAICAI_TELEGRAM_BOT_TOKEN",
    "dingtalk_secret": "LAICAI_DINGTALK_SECRET",
    "dingtalk_access_token": "LAICAI_DINGTALK_ACCESS_TOKEN",
    "web_token": "LAICAI_WEB_TOKEN",
}
"""Field of :class:`Secrets` -> the environment variable it is read from."""


class Secrets(BaseModel):
    """Credentials of every external service; ``None`` when the variable is unset or empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    okx_api_key: SecretStr | None = None
    okx_secret_key: SecretStr | None = None
    okx_passphrase: SecretStr | None = None
    db_password: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    dingtalk_secret: SecretStr | None = None
    dingtalk_access_token: SecretStr | None = None
    web_token: SecretStr | None = None

    def items(self) -> Iterator[tuple[str, SecretStr | None]]:
        """(environment variable, value) for every secret, set or not."""
        for field, env_var in SECRET_ENV_VARS.items():
            value = getattr(self, field)
            yield env_var, value

    def plain_values(self) -> tuple[str, ...]:
        """The revealed values that are set: for log redaction, never for display."""
        return tuple(value.get_secret_value() for _, value in self.items() if value is not None)


def secrets_from_env(env: Mapping[str, str]) -> Secrets:
    """Build :class:`Secrets` from an environment mapping; blank values count as unset."""
    values: dict[str, Any] = {}
    for field, env_var in SECRET_ENV_VARS.items():
        raw = env.get(env_var)
        if raw is not None and raw.strip():
            values[field] = SecretStr(raw.strip())
    return Secrets(**values)


# Keys that look like a secret in the YAML file, per section, and the variable to use instead.
# Keys are compared after lower-casing and dropping "_" and "-", so "apiKey" matches "api_key".
_SECRET_KEYS_BY_SECTION: dict[str, dict[str, str]] = {
    "okx": {
        "apikey": "LAICAI_OKX_API_KEY",
        "key": "LAICAI_OKX_API_KEY",
        "secret": "LAICAI_OKX_SECRET_KEY",
        "secretkey": "LAICAI_OKX_SECRET_KEY",
        "apisecret": "LAICAI_OKX_SECRET_KEY",
        "password": "LAICAI_OKX_PASSPHRASE",
        "passphrase": "LAICAI_OKX_PASSPHRASE",
    },
    "database": {"password": "LAICAI_DB_PASSWORD", "pass": "LAICAI_DB_PASSWORD"},
    "telegram": {"bottoken": "LAICAI_TELEGRAM_BOT_TOKEN", "token": "LAICAI_TELEGRAM_BOT_TOKEN"},
    "dingtalk": {
        "secret": "LAICAI_DINGTALK_SECRET",
        "accesstoken": "LAICAI_DINGTALK_ACCESS_TOKEN",
        "token": "LAICAI_DINGTALK_ACCESS_TOKEN",
        "webhook": "LAICAI_DINGTALK_ACCESS_TOKEN",
        "webhookurl": "LAICAI_DINGTALK_ACCESS_TOKEN",
    },
    "web": {"token": "LAICAI_WEB_TOKEN", "apitoken": "LAICAI_WEB_TOKEN"},
}
_SECRET_WORDS = ("password", "passphrase", "secret", "token", "apikey", "credential")


def _normalise(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def secret_env_var_for(path: tuple[str, ...]) -> str | None:
    """If the YAML key at ``path`` holds a secret, the variable that should carry it instead.

    Returns ``"LAICAI_*"`` (generic) for a secret-looking key with no specific variable.
    """
    key = _normalise(path[-1])
    if len(path) == 2 and path[0] in _SECRET_KEYS_BY_SECTION:
        env_var = _SECRET_KEYS_BY_SECTION[path[0]].get(key)
        if env_var is not None:
            return env_var
    if any(word in key for word in _SECRET_WORDS):
        return f"{ENV_PREFIX}*"
    return None


def find_secrets_in_yaml(data: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """Every (key path, environment variable) where the YAML tries to set a secret."""
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(node: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        for raw_key, value in node.items():
            path = (*prefix, str(raw_key))
            if path == ("secrets",):
                found.append((path, f"{ENV_PREFIX}*"))
                continue
            env_var = secret_env_var_for(path)
            if env_var is not None:
                found.append((path, env_var))
            elif isinstance(value, Mapping):
                walk(value, path)

    walk(data, ())
    return found
