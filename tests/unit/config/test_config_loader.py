"""Reading the file and the environment: missing files, bad YAML, .env and precedence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from laicai.config import load_config
from laicai.errors import ConfigError, LaicaiError

WriteYaml = Callable[..., Path]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yml"):
        load_config(missing, env={})


def test_config_error_is_a_laicai_error(tmp_path: Path) -> None:
    with pytest.raises(LaicaiError):
        load_config(tmp_path / "nope.yml", env={})


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        load_config(tmp_path, env={})


def test_invalid_yaml_reports_the_line(write_yaml: WriteYaml) -> None:
    path = write_yaml("mode: paper\nrisk:\n  leverage: 2\n   stop_loss: -0.1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(f"invalid YAML in {path} at line 4")


def test_unclosed_bracket_reports_a_line(write_yaml: WriteYaml) -> None:
    path = write_yaml("account:\n  instruments_allow: [BTC, ETH\n")
    with pytest.raises(ConfigError, match=r"invalid YAML in .* at line \d+, column \d+"):
        load_config(path, env={})


def test_duplicate_key_is_an_error_with_both_lines(write_yaml: WriteYaml) -> None:
    path = write_yaml("risk:\n  leverage: 2\n  stop_loss: -0.01\n  leverage: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert "line 4" in message
    assert "duplicate key 'leverage' (first given on line 2)" in message


def test_empty_file_means_defaults(write_yaml: WriteYaml) -> None:
    assert load_config(write_yaml(""), env={}).mode == "paper"


def test_top_level_must_be_a_mapping(write_yaml: WriteYaml) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write_yaml("- mode\n- paper\n"), env={})


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("mode: paper # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, env={})


def test_validation_error_names_the_file(write_yaml: WriteYaml) -> None:
    path = write_yaml("risk:\n  leverage: 4\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    first_line, second_line = str(info.value).splitlines()
    assert first_line == f"invalid configuration in {path} (1 problem):"
    assert second_line.startswith("  - risk.leverage: ")


def test_dotenv_in_working_directory_is_read_when_env_is_not_given(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LAICAI_TELEGRAM_BOT_TOKEN=from-dotenv\n")
    s = load_config(None)
    assert s.secrets.telegram_bot_token is not None
    assert s.secrets.telegram_bot_token.get_secret_value() == "from-dotenv"


def test_process_environment_wins_over_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("LAICAI_WEB_TOKEN=from-dotenv\n")
    monkeypatch.setenv("LAICAI_WEB_TOKEN", "from-process")
    token = load_config(None).secrets.web_token
    assert token is not None and token.get_secret_value() == "from-process"


def test_explicit_env_mapping_ignores_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LAICAI_WEB_TOKEN=from-dotenv\n")
    assert load_config(None, env={}).secrets.web_token is None


def test_explicit_env_file_is_read_under_the_mapping(tmp_path: Path) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text("LAICAI_DB_PASSWORD=file\nLAICAI_WEB_TOKEN=file\n")
    s = load_config(None, env={"LAICAI_WEB_TOKEN": "mapping"}, env_file=env_file)
    assert s.secrets.db_password is not None and s.secrets.web_token is not None
    assert s.secrets.db_password.get_secret_value() == "file"
    assert s.secrets.web_token.get_secret_value() == "mapping"


def test_missing_explicit_env_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="env file not found"):
        load_config(None, env={}, env_file=tmp_path / "nope.env")


def test_blank_secret_counts_as_unset() -> None:
    s = load_config(None, env={"LAICAI_OKX_API_KEY": "   "})
    assert s.secrets.okx_api_key is None


def test_dotenv_satisfies_an_enabled_feature(tmp_path: Path, write_yaml: WriteYaml) -> None:
    (tmp_path / ".env").write_text("LAICAI_DINGTALK_ACCESS_TOKEN=abc\n")
    path = write_yaml("dingtalk:\n  enabled: true\n")
    assert load_config(path).dingtalk.enabled is True


def test_section_with_every_key_commented_out_means_defaults(write_yaml: WriteYaml) -> None:
    path = write_yaml("okx:\n  # sandbox_mode: false\nrisk:\n  circuit_breaker:\n")
    s = load_config(path, env={})
    assert s.okx.sandbox_mode is True
    assert s.risk.circuit_breaker.max_consecutive_losses == 3


def test_scalar_where_a_section_belongs_is_rejected(write_yaml: WriteYaml) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml("okx: true\n"), env={})
    (line,) = info.value.problems
    assert line.startswith("okx: ") and "a mapping with keys sandbox_mode" in line
