"""``laicai db upgrade`` / ``laicai db current`` through typer's CliRunner, on a tmp SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from laicai.cli.app import app
from laicai.store.migrate import head_revision


@pytest.fixture
def config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("LAICAI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "config.yml"
    path.write_text("database:\n  path: state/nested/laicai.db\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("args", [["db"], ["db", "upgrade"], ["db", "current"]])
def test_db_commands_have_help(args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: laicai db" in result.output
    if len(args) == 1:
        assert "upgrade" in result.output and "current" in result.output
    else:
        assert "--config" in result.output


def test_db_upgrade_creates_then_leaves_the_database(config_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["db", "current", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "none (empty)" in result.output and "laicai db upgrade" in result.output

    result = runner.invoke(app, ["db", "upgrade", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert f"upgraded: empty -> {head_revision()}" in result.output
    assert (tmp_path / "state" / "nested" / "laicai.db").is_file()

    result = runner.invoke(app, ["--config", str(config_file), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"up to date at revision {head_revision()}" in result.output

    result = runner.invoke(app, ["db", "current", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}; newest {head_revision()}" in result.output
    assert "laicai db upgrade" not in result.output


def test_db_upgrade_reports_an_unreachable_server_without_the_password(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text(
        "database:\n  type: postgresql\n  host: 127.0.0.1\n  port: 1\n  user: bot\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LAICAI_DB_PASSWORD", "hunter2-very-secret")
    result = CliRunner().invoke(app, ["db", "upgrade", "--config", str(config_file)])
    assert result.exit_code == 1
    assert "cannot open the database" in result.output
    assert "bot:***@127.0.0.1:1" in result.output
    assert "hunter2" not in result.output
