"""``laicai check`` and ``laicai status`` are registered, with their options."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from laicai.cli.app import app


@pytest.mark.parametrize(("command", "options"), [
    ("check", ["--config", "--json", "withdrawal"]),
    ("status", ["--config", "--json", "--live", "heartbeat"]),
])
def test_help(runner: CliRunner, command: str, options: list[str]) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output, option


def test_both_are_listed(runner: CliRunner) -> None:
    out = runner.invoke(app, ["--help"]).output
    assert "check" in out and "status" in out
