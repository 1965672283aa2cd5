"""Fixtures for the configuration tests: a clean environment and a YAML file writer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LAICAI_* variable from the developer's shell, and no .env from the repo."""
    for name in list(os.environ):
        if name.startswith("LAICAI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "config.yml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
