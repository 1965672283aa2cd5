"""What every command shares: the global ``--config`` option and loading settings or exiting."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from laicai.config import DEFAULT_CONFIG_PATH, Settings, load_config
from laicai.errors import ConfigError

CONFIG_ENV_VAR = "LAICAI_CONFIG"

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help=(
            "YAML config file. Default: the global --config, else $LAICAI_CONFIG, "
            f"else {DEFAULT_CONFIG_PATH} if it exists, else built-in defaults."
        ),
        dir_okay=False,
        show_default=False,
    ),
]


@dataclass(frozen=True)
class CliState:
    """Values of the global options, kept in the typer context for sub-commands."""

    config_path: Path | None = None


def stdout() -> Console:
    return Console(highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error (plain text, no markup interpretation) to stderr and exit."""
    stderr().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def resolve_config_path(ctx: typer.Context, explicit: Path | None) -> Path | None:
    """The file to load: the command's --config, the global one, $LAICAI_CONFIG, the default
    file if present, or None (built-in defaults)."""
    if explicit is not None:
        return explicit
    state = ctx.find_object(CliState)
    if state is not None and state.config_path is not None:
        return state.config_path
    from_env = os.environ.get(CONFIG_ENV_VAR, "").strip()
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def load_or_exit(path: Path | None) -> Settings:
    try:
        return load_config(path)
    except ConfigError as e:
        fail(str(e))
