"""``laicai config check`` and ``laicai config show``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from laicai.cli.app import app
from laicai.config import Settings, load_config, validate_config

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config" / "config.example.yml"
SECRET = "very-secret-okx-key-42"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_check_valid_example(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "check", "--config", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "configuration is valid" in result.output
    assert str(EXAMPLE) in result.output
    for row in ("mode", "paper", "leverage", "2x", "margin ladder", "top-up < 0.4", "secrets"):
        assert row in result.output, row


def test_check_without_file_uses_defaults(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "no config file, built-in defaults" in result.output


def test_check_finds_config_yml_in_the_working_directory(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "config" / "config.yml", "risk:\n  leverage: 3\n")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "config/config.yml" in result.output and "3x" in result.output


def test_check_invalid_file_exits_1_and_names_the_key(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yml", "risk:\n  leverage: 5\n  margin_reset_threshold: 2\n")
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1
    assert "risk.leverage" in result.stderr and "1 ≤ value ≤ 3" in result.stderr
    assert "risk.margin_reset_threshold" in result.stderr
    assert "configuration is valid" not in result.output


def test_check_missing_file_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", "--config", str(tmp_path / "nope.yml")])
    assert result.exit_code == 1
    assert "config file not found" in result.stderr


def test_check_invalid_yaml_shows_the_line(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "broken.yml", "okx:\n  sandbox_mode: [true\n")
    result = runner.invoke(app, ["config", "check", "-c", str(path)])
    assert result.exit_code == 1
    assert "invalid YAML" in result.stderr and "line " in result.stderr


def test_check_masks_secrets(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAICAI_OKX_API_KEY", SECRET)
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "LAICAI_OKX_API_KEY" in result.output and "set (**********)" in result.output
    assert "LAICAI_OKX_PASSPHRASE" in result.output and "not set" in result.output


def test_check_reads_dotenv(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / ".env", "LAICAI_TELEGRAM_BOT_TOKEN=123:abc\n")
    path = write(tmp_path / "c.yml", "telegram:\n  enabled: true\n  chat_ids: [1]\n")
    result = runner.invoke(app, ["config", "check", "-c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "telegram on" in result.output
    assert "123:abc" not in result.output


def test_secret_in_yaml_fails_without_echoing_it(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "c.yml", f"okx:\n  apiKey: {SECRET}\n")
    result = runner.invoke(app, ["config", "check", "-c", str(path)])
    assert result.exit_code == 1
    assert "okx.apiKey" in result.stderr and "LAICAI_OKX_API_KEY" in result.stderr
    assert SECRET not in result.output


def test_global_config_option_applies_to_subcommands(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "global.yml", "mode: paper\ndry_run: true\n")
    result = runner.invoke(app, ["--config", str(path), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "global.yml" in result.output


def test_subcommand_config_wins_over_global(runner: CliRunner, tmp_path: Path) -> None:
    good = write(tmp_path / "good.yml", "dry_run: true\n")
    bad = write(tmp_path / "bad.yml", "dry_run: sometimes\n")
    result = runner.invoke(app, ["-c", str(bad), "config", "check", "-c", str(good)])
    assert result.exit_code == 0, result.output


def test_config_env_var(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "env.yml", "risk:\n  leverage: 9\n")
    monkeypatch.setenv("LAICAI_CONFIG", str(path))
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 1
    assert "risk.leverage" in result.stderr


def test_show_prints_yaml_that_loads_back_to_the_same_settings(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write(
        tmp_path / "c.yml",
        "risk:\n  leverage: 2.5\n  circuit_breaker:\n    max_drawdown: 0.1\n"
        "account:\n  total_capital: 12345.67\n  instruments_deny: [LUNA]\n"
        "strategy:\n  funding_rate_min: 0.00005\n",
    )
    monkeypatch.setenv("LAICAI_WEB_TOKEN", SECRET)
    result = runner.invoke(app, ["config", "show", "-c", str(source)])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "#   LAICAI_WEB_TOKEN: set (**********)" in result.output
    shown = yaml.safe_load(result.output)
    again = validate_config(shown, {})
    original = load_config(source, env={})
    assert again.model_dump() == original.model_dump()
    assert again.risk.margin_topup_ratio == original.risk.margin_topup_ratio


def test_show_defaults_list_every_section(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert list(shown) == [n for n, f in Settings.model_fields.items() if not f.exclude]


def test_show_invalid_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "c.yml", "strategy:\n  max_open_positions: many\n")
    result = runner.invoke(app, ["config", "show", "-c", str(path)])
    assert result.exit_code == 1
    assert "strategy.max_open_positions" in result.stderr
