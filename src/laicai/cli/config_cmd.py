"""``laicai config``: validate the configuration and show what laicai would run with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from laicai.cli.common import ConfigOption, load_or_exit, resolve_config_path, stdout
from laicai.config import Settings
from laicai.config.yaml_io import dump_yaml

config_app = typer.Typer(
    name="config",
    help="Check and show the configuration (YAML file + LAICAI_* environment variables).",
    no_args_is_help=True,
)

MASK = "**********"


def _source(path: Path | None) -> str:
    return f"from {path}" if path is not None else "no config file, built-in defaults"


def _database(settings: Settings) -> str:
    db = settings.database
    if db.url is not None:
        return db.url
    if db.type == "sqlite":
        return f"sqlite: {db.path}"
    return f"postgresql: {db.user}@{db.host}:{db.port}/{db.dbname}"


def _exchange(settings: Settings) -> str:
    okx = settings.okx
    where = f"rest_url {okx.rest_url}" if okx.rest_url else "ccxt's OKX endpoint"
    return f"{where}; sandbox_mode {'on' if okx.sandbox_mode else 'off'}"


def _pct(value: Decimal) -> str:
    return f"{format((value * 100).normalize(), 'f')}%"


def summary_rows(settings: Settings) -> list[tuple[str, str]]:
    """The few lines an operator checks before starting: what, where, how much, how safe."""
    s = settings
    r = s.risk
    capital = f"{s.account.total_capital} USDT" if s.account.total_capital else "account equity"
    return [
        ("mode", f"{s.mode}{' (dry run: no orders)' if s.dry_run else ''}"),
        ("exchange", _exchange(s)),
        ("database", _database(s)),
        (
            "capital",
            f"{capital}; spot {_pct(s.account.spot_ratio)} / futures "
            f"{_pct(s.account.futures_ratio)}; max {s.account.max_position_value} USDT per symbol",
        ),
        (
            "strategy",
            f"net APR ≥ {_pct(s.strategy.min_annualized_return)}, "
            f"{_pct(s.strategy.capital_per_trade_ratio)} per trade, "
            f"≤ {s.strategy.max_open_positions} positions, scan every "
            f"{s.strategy.scan_interval_seconds:g}s",
        ),
        ("leverage", f"{r.leverage}x (initial margin ratio {r.initial_margin_ratio:.4f})"),
        (
            "margin ladder",
            f"sweep > {r.margin_sweep_ratio}, top-up < {r.margin_topup_ratio}, "
            f"reset < {r.margin_reset_threshold}, emergency < {r.margin_emergency_ratio}",
        ),
        (
            "circuit breaker",
            f"{r.circuit_breaker.max_consecutive_losses} losses in a row, "
            f"{r.circuit_breaker.daily_loss_limit_usdt} USDT a day, "
            f"drawdown {_pct(r.circuit_breaker.max_drawdown)}",
        ),
        (
            "notifications",
            f"telegram {'on' if s.telegram.enabled else 'off'}, "
            f"dingtalk {'on' if s.dingtalk.enabled else 'off'}",
        ),
        ("web", f"{s.web.host}:{s.web.port}"),
        ("logging", f"{s.logging.level} -> {s.logging.file or 'console only'}"),
    ]


def secret_rows(settings: Settings) -> list[tuple[str, str]]:
    return [
        (env_var, f"set ({MASK})" if value is not None else "not set")
        for env_var, value in settings.secrets.items()
    ]


@config_app.command("check")
def check(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Load and validate the configuration; exit 1 and print every problem if it is invalid."""
    path = resolve_config_path(ctx, config)
    settings = load_or_exit(path)
    console = stdout()
    console.print(f"[bold green]configuration is valid[/] ({_source(path)})")
    table = Table("setting", "value", title="summary", title_justify="left")
    for key, value in summary_rows(settings):
        table.add_row(key, value)
    console.print(table)
    secrets = Table("environment variable", "status", title="secrets", title_justify="left")
    for env_var, status in secret_rows(settings):
        secrets.add_row(env_var, status)
    console.print(secrets)


def effective_yaml(settings: Settings) -> str:
    """Every key with its effective value, as YAML that loads back to the same settings."""
    return dump_yaml(settings.model_dump(mode="python"))


@config_app.command("show")
def show(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Print the effective configuration (file + defaults) as YAML; secrets only as set/not set."""
    path = resolve_config_path(ctx, config)
    settings = load_or_exit(path)
    lines = [f"# effective configuration ({_source(path)})", effective_yaml(settings).rstrip()]
    lines.append("# secrets (read from the environment or .env, never from this file):")
    lines.extend(f"#   {env_var}: {status}" for env_var, status in secret_rows(settings))
    typer.echo("\n".join(lines))
