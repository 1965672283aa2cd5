"""The ``laicai`` command line: one typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from laicai import __version__
from laicai.cli.check_cmd import check
from laicai.cli.close_all_cmd import close_all_cmd
from laicai.cli.common import CliState, ConfigOption
from laicai.cli.config_cmd import config_app
from laicai.cli.db_cmd import db_app
from laicai.cli.run_cmd import demo, run
from laicai.cli.scan_cmd import scan
from laicai.cli.sim_cmd import sim
from laicai.cli.status_cmd import status

app = typer.Typer(
    name="laicai",
    help="laicai (来财): delta-neutral funding-rate arbitrage for OKX, and its OKX v5 simulator.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.command("sim")(sim)
app.command("scan")(scan)
app.command("close-all")(close_all_cmd)
app.command("run")(run)
app.command("demo")(demo)
app.command("check")(check)
app.command("status")(status)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"laicai {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: ConfigOption = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """laicai (来财): delta-neutral funding-rate arbitrage for OKX, and its OKX v5 simulator."""
    ctx.obj = CliState(config_path=config)


def main() -> None:
    """Console-script entry point (``laicai``)."""
    app()
