"""Configuration sections other than ``risk``: exchange, storage, capital, strategy, execution,
notifications, dashboard and logging. Defaults follow the seeds' documents."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from laicai.config.base import (
    Conflicts,
    Port,
    PositiveRatio,
    PositiveUsdt,
    Ratio,
    Seconds,
    Section,
    Usdt,
)


def _check_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"must be an absolute URL starting with {' or '.join(schemes)}://")
    return value.rstrip("/")


class OkxConfig(Section):
    """How to reach OKX (or the simulator, through the URL overrides)."""

    sandbox_mode: bool = True
    rest_url: str | None = None
    ws_url: str | None = None
    timeout_ms: Annotated[int, Field(ge=1000, le=120_000)] = 10_000
    enable_rate_limit: bool = True

    @field_validator("rest_url")
    @classmethod
    def _rest_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("http", "https"))

    @field_validator("ws_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("ws", "wss"))


class DatabaseConfig(Section):
    """Where positions, orders and the journal are stored; the password comes from
    ``LAICAI_DB_PASSWORD``."""

    url: str | None = None
    type: Literal["sqlite", "postgresql"] = "sqlite"
    path: Path = Path("data/laicai.db")
    host: str = "localhost"
    port: Port = 5432
    user: str = "laicai"
    dbname: str = "laicai"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if not parts.scheme.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        if parts.password:
            raise ValueError(
                "must not contain a password: set LAICAI_DB_PASSWORD in the environment or .env"
            )
        return value

    @model_validator(mode="after")
    def _url_or_parts(self) -> DatabaseConfig:
        structured = {"type", "path", "host", "port", "user", "dbname"} & self.model_fields_set
        if self.url is not None and structured:
            others = ", ".join(f"{{{i}}}" for i in range(1, len(structured) + 1))
            conflicts = Conflicts()
            conflicts.add(
                f"{{0}} cannot be combined with {others}: give a url or the separate keys",
                "url",
                *sorted(structured),
            )
            conflicts.raise_if_any()
        return self


_CURRENCY = re.compile(r"^[A-Z0-9]{1,20}$")


def _currencies(values: list[str]) -> list[str]:
    normalised = [value.strip().upper() for value in values]
    for value in normalised:
        if not _CURRENCY.match(value):
            raise ValueError(f"{value!r} is not a base currency code (use e.g. BTC, not BTC-USDT)")
    return normalised


class AccountConfig(Section):
    """Capital and what may be traded (seed 000 account.yaml)."""

    total_capital: PositiveUsdt | None = None
    spot_ratio: Ratio = Decimal("0.5")
    futures_ratio: Ratio = Decimal("0.5")
    max_position_value: PositiveUsdt = Decimal("10000")
    instruments_allow: list[str] = Field(default_factory=list)
    instruments_deny: list[str] = Field(default_factory=list)

    @field_validator("instruments_allow", "instruments_deny")
    @classmethod
    def _codes(cls, values: list[str]) -> list[str]:
        return _currencies(values)

    @model_validator(mode="after")
    def _consistent(self) -> AccountConfig:
        conflicts = Conflicts()
        total = self.spot_ratio + self.futures_ratio
        if total > 1:
            conflicts.add(
                f"{{0}} + {{1}} = {total} must be at most 1 "
                f"(got {self.spot_ratio} + {self.futures_ratio})",
                "spot_ratio",
                "futures_ratio",
            )
        both = sorted(set(self.instruments_allow) & set(self.instruments_deny))
        if both:
            conflicts.add(
                f"{', '.join(both)} listed in both {{0}} and {{1}}",
                "instruments_allow",
                "instruments_deny",
            )
        conflicts.raise_if_any()
        return self


class StrategyConfig(Section):
    """When a carry is worth opening (seed 003 strategy, seed 000 funding band)."""

    min_annualized_return: Annotated[Decimal, Field(ge=0, le=10)] = Decimal("0.15")
    capital_per_trade_ratio: PositiveRatio = Decimal("0.1")
    max_open_positions: Annotated[int, Field(ge=1, le=100)] = 5
    scan_interval_seconds: Annotated[float, Field(ge=1, le=86_400)] = 45.0
    enable_negative_rate_strategy: bool = True
    enable_spot_earning: bool = True
    expected_holding_days: Annotated[Decimal, Field(gt=0, le=365)] = Decimal("7")
    funding_rate_min: Ratio = Decimal("0.0001")
    funding_rate_max: Ratio = Decimal("0.01")
    min_volume_24h_usdt: Usdt = Decimal("5000000")
    dynamic_sizing: bool = False

    @model_validator(mode="after")
    def _band(self) -> StrategyConfig:
        conflicts = Conflicts()
        if self.funding_rate_min >= self.funding_rate_max:
            conflicts.add(
                f"{{0}} ({self.funding_rate_min}) must be below {{1}} ({self.funding_rate_max})",
                "funding_rate_min",
                "funding_rate_max",
            )
        conflicts.raise_if_any()
        return self


class ExecutionConfig(Section):
    """How orders are placed and how Earn redemptions are waited for."""

    order_style: Literal["taker", "maker_first"] = "taker"
    maker_reprice_attempts: Annotated[int, Field(ge=0, le=20)] = 3
    maker_reprice_seconds: Seconds = 5.0
    redeem_timeout_seconds: Seconds = 60.0
    redeem_timeout_policy: Literal["keep_waiting", "close_hedged"] = "keep_waiting"


class TelegramConfig(Section):
    """Telegram alerts and commands; the bot token comes from ``LAICAI_TELEGRAM_BOT_TOKEN``."""

    enabled: bool = False
    chat_ids: list[int] = Field(default_factory=list)
    language: Literal["zh", "en"] = "zh"


class DingtalkConfig(Section):
    """DingTalk robot alerts; token and signing secret come from the environment."""

    enabled: bool = False


class WebConfig(Section):
    """The dashboard's listening address; a non-local address needs ``LAICAI_WEB_TOKEN``."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8080


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class LoggingConfig(Section):
    """Console and rotating-file logs."""

    level: LogLevel = "INFO"
    file: Path | None = Path("data/logs/laicai.log")
    json_lines: bool = False
    max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    backups: Annotated[int, Field(ge=0, le=100)] = 5

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
