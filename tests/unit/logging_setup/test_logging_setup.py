"""Logging: console + rotating file (text or JSON lines), and secrets redacted everywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from laicai.config.sections import LoggingConfig
from laicai.logging_setup import REDACTED, SecretRedactingFilter, setup_logging, teardown_logging

SECRET = "hunter2-Secret-Value"


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    level = logging.getLogger().level
    yield
    teardown_logging()
    logging.getLogger().setLevel(level)


def config(tmp_path: Path, **overrides: object) -> LoggingConfig:
    values: dict[str, object] = {"file": tmp_path / "deep" / "logs" / "laicai.log"}
    values.update(overrides)
    return LoggingConfig.model_validate(values)


def read_log(tmp_path: Path) -> str:
    teardown_logging()  # flush and close
    return (tmp_path / "deep" / "logs" / "laicai.log").read_text(encoding="utf-8")


def test_file_is_created_with_its_folders(tmp_path: Path) -> None:
    setup_logging(config(tmp_path), console=False)
    logging.getLogger("laicai.test").info("hello %s", "world")
    text = read_log(tmp_path)
    assert "INFO" in text and "laicai.test: hello world" in text


def test_level_is_applied(tmp_path: Path) -> None:
    setup_logging(config(tmp_path, level="warning"), console=False)
    logging.getLogger("laicai.test").info("quiet")
    logging.getLogger("laicai.test").warning("loud")
    text = read_log(tmp_path)
    assert "loud" in text and "quiet" not in text


def test_secret_is_redacted_in_message_args_and_traceback(tmp_path: Path) -> None:
    setup_logging(config(tmp_path), secrets=[SecretStr(SECRET)], console=False)
    log = logging.getLogger("laicai.test")
    log.warning("key=%s", SECRET)
    try:
        raise RuntimeError(f"auth failed with {SECRET}")
    except RuntimeError:
        log.exception("call failed")
    text = read_log(tmp_path)
    assert SECRET not in text
    assert f"key={REDACTED}" in text
    assert f"RuntimeError: auth failed with {REDACTED}" in text


def test_url_encoded_secret_is_redacted(tmp_path: Path) -> None:
    secret = "p@ss/word"
    setup_logging(config(tmp_path), secrets=[secret], console=False)
    logging.getLogger("laicai.test").info("dsn postgresql://u:p%40ss%2Fword@db/x")
    text = read_log(tmp_path)
    assert "p%40ss%2Fword" not in text and REDACTED in text


def test_json_lines(tmp_path: Path) -> None:
    setup_logging(config(tmp_path, json_lines=True), secrets=[SECRET], console=False)
    logging.getLogger("laicai.test").error("token %s rejected", SECRET)
    (line,) = read_log(tmp_path).splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "laicai.test"
    assert entry["msg"] == f"token {REDACTED} rejected"
    assert entry["ts"].endswith("+00:00")


def test_console_output_is_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(config(tmp_path, file=None), secrets=[SECRET])
    logging.getLogger("laicai.test").warning("console sees %s", SECRET)
    err = capsys.readouterr().err
    assert "console sees" in err
    assert SECRET not in err


def test_setup_twice_does_not_duplicate_handlers(tmp_path: Path) -> None:
    setup_logging(config(tmp_path), console=False)
    setup_logging(config(tmp_path), console=False)
    logging.getLogger("laicai.test").info("once")
    assert read_log(tmp_path).count("once") == 1


def test_no_file_means_console_only(tmp_path: Path) -> None:
    setup_logging(config(tmp_path, file=None), console=False)
    logging.getLogger("laicai.test").info("nowhere")
    assert not (tmp_path / "deep").exists()


def test_longer_secret_is_replaced_whole() -> None:
    redactor = SecretRedactingFilter(["abc", "abcdef"])
    assert redactor.redact("x abcdef y abc") == f"x {REDACTED} y {REDACTED}"
