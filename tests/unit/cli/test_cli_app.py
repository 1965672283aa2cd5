"""The command tree: --help everywhere, --version, and the options of ``laicai sim``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from laicai import __version__
from laicai.cli.app import app


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["config", "sim", "--config", "--version"]),
        (["config"], ["check", "show"]),
        (["config", "check"], ["--config", "validate"]),
        (["config", "show"], ["--config", "YAML"]),
        (["sim"], ["--scenario", "--host", "--port", "--speed", "--seed", "--config"]),
    ],
)
def test_every_command_has_help(runner: CliRunner, args: list[str], expected: list[str]) -> None:
    for flag in ("--help", "-h"):
        result = runner.invoke(app, [*args, flag])
        assert result.exit_code == 0, result.output
        assert "Usage: laicai" in result.output
        for word in expected:
            assert word in result.output, (args, word)


def test_sim_help_shows_the_defaults(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sim", "--help"])
    assert result.exit_code == 0
    out = result.output
    for default in ("calm", "127.0.0.1", "18080", "1.0"):
        assert f"[default: {default}]" in out, default


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"laicai {__version__}"


def test_no_arguments_prints_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert "Usage: laicai" in result.output
    assert "config" in result.output and "sim" in result.output


def test_unknown_command_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["trade"])
    assert result.exit_code == 2


def test_sim_passes_its_options_to_the_server(runner: CliRunner,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import laicai.sim.server.app as server_app

    seen: dict[str, object] = {}
    monkeypatch.setattr(server_app, "serve", lambda **kw: seen.update(kw))
    result = runner.invoke(app, ["sim", "--scenario", "squeeze", "--port", "18999",
                                 "--speed", "60", "--seed", "5", "--manual-clock"])
    assert result.exit_code == 0, result.output
    assert seen == {"scenario": "squeeze", "host": "127.0.0.1", "port": 18999, "speed": 60.0,
                    "seed": 5, "manual_clock": True}


def test_sim_rejects_a_non_positive_speed(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sim", "--speed", "0"])
    assert result.exit_code != 0
    assert "must be greater than 0" in result.output
