"""Fixtures for the CLI tests: a clean environment, a tmp working directory and a runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LAICAI_* variable from the shell, no config/config.yml or .env of the repo."""
    for name in list(os.environ):
        if name.startswith("LAICAI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # wide tables: no wrapped values in assertions


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
