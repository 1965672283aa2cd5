"""The whole configuration: one YAML file (every key below) plus secrets from the environment.

``Settings`` is immutable. Build it with :func:`laicai.config.load_config`, which reads the file,
rejects secrets in it, injects :class:`Secrets` from the environment and turns validation errors
into a :class:`laicai.errors.ConfigError` that names each dotted key.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from laicai.config.base import Conflicts
from laicai.config.risk import CircuitBreakerConfig, RiskConfig
from laicai.config.secrets import SECRET_ENV_VARS, Secrets
from laicai.config.sections import (
    AccountConfig,
    DatabaseConfig,
    DingtalkConfig,
    ExecutionConfig,
    LoggingConfig,
    OkxConfig,
    StrategyConfig,
    TelegramConfig,
    WebConfig,
)

__all__ = [
    "AccountConfig",
    "CircuitBreakerConfig",
    "DatabaseConfig",
    "DingtalkConfig",
    "ExecutionConfig",
    "LoggingConfig",
    "OkxConfig",
    "RiskConfig",
    "Secrets",
    "Settings",
    "StrategyConfig",
    "TelegramConfig",
    "WebConfig",
]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env(field: str) -> str:
    return SECRET_ENV_VARS[field]


class Settings(BaseModel):
    """Everything laicai is configured with. ``secrets`` never comes from the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["live", "paper"] = "paper"
    dry_run: bool = False
    okx: OkxConfig = Field(default_factory=OkxConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    account: AccountConfig = Field(default_factory=AccountConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    dingtalk: DingtalkConfig = Field(default_factory=DingtalkConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @model_validator(mode="after")
    def _secrets_present_where_needed(self) -> Settings:
        conflicts = Conflicts()
        s = self.secrets
        if self.mode == "live":
            missing = [
                _env(name)
                for name in ("okx_api_key", "okx_secret_key", "okx_passphrase")
                if getattr(s, name) is None
            ]
            if missing:
                verb = "is" if len(missing) == 1 else "are"
                conflicts.add(
                    "{0} is 'live' but " + ", ".join(missing) + f" {verb} not set",
                    "mode",
                )
        if self.telegram.enabled:
            if s.telegram_bot_token is None:
                conflicts.add(
                    "{0} is true but " + _env("telegram_bot_token") + " is not set",
                    "telegram.enabled",
                )
            if not self.telegram.chat_ids:
                conflicts.add(
                    "{0} is true but {1} is empty", "telegram.enabled", "telegram.chat_ids"
                )
        if self.dingtalk.enabled and s.dingtalk_access_token is None:
            conflicts.add(
                "{0} is true but " + _env("dingtalk_access_token") + " is not set",
                "dingtalk.enabled",
            )
        if not _is_loopback(self.web.host) and s.web_token is None:
            conflicts.add(
                f"{{0}} is {self.web.host!r} (reachable from other machines) but "
                + _env("web_token")
                + " is not set",
                "web.host",
            )
        conflicts.raise_if_any()
        return self
