"""``laicai sim``: run the OKX v5-compatible simulator server in the foreground."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, Any, cast

import typer

from laicai.cli.common import ConfigOption, fail, load_or_exit, resolve_config_path
from laicai.logging_setup import setup_logging

SIM_SERVER_MODULE = "laicai.sim.server.app"


def _positive(value: float) -> float:
    if value <= 0:
        raise typer.BadParameter("must be greater than 0")
    return value


def _load_serve() -> Callable[..., Any]:
    """Import the simulator only when it is run, so the rest of the CLI never pays for it."""
    try:
        module = importlib.import_module(SIM_SERVER_MODULE)
    except ModuleNotFoundError as e:
        if e.name is not None and SIM_SERVER_MODULE.startswith(e.name):
            fail(f"the simulator server is not available in this build ({e.name} is missing)")
        raise
    return cast(Callable[..., Any], module.serve)


def sim(
    ctx: typer.Context,
    scenario: Annotated[
        str,
        typer.Option(help="Scenario to play: a built-in name (e.g. calm) or a path to a file."),
    ] = "calm",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 18080,
    speed: Annotated[
        float,
        typer.Option(help="Simulated seconds per real second (1 = real time).", callback=_positive),
    ] = 1.0,
    seed: Annotated[
        int | None, typer.Option(help="Random seed, for a reproducible run.", show_default=False)
    ] = None,
    manual_clock: Annotated[
        bool,
        typer.Option(help="Freeze time: only POST /sim/clock moves it (tests, step-by-step)."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Serve the OKX v5 simulator (REST + WebSocket) until interrupted with Ctrl-C."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    serve = _load_serve()
    setup_logging(settings.logging, secrets=settings.secrets.plain_values())
    serve(scenario=scenario, host=host, port=port, speed=speed, seed=seed,
          manual_clock=manual_clock)
