"""config/config.example.yml is the reference of every key: it must load, name every field of
the schema, show the defaults, and comment every key, so the docs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from laicai.config import Settings, load_config
from laicai.config.problems import model_at

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config" / "config.example.yml"
ENV_EXAMPLE = REPO / ".env.example"


def schema_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = f"{prefix}{name}"
        keys.add(key)
        nested = model_at(model, [name])
        if nested is not model:
            keys |= schema_keys(nested, f"{key}.")
    return keys


def yaml_keys(node: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in node.items():
        key = f"{prefix}{name}"
        keys.add(key)
        if isinstance(value, dict):
            keys |= yaml_keys(value, f"{key}.")
    return keys


def test_example_loads() -> None:
    settings = load_config(EXAMPLE, env={})
    assert settings.mode == "paper"


def test_every_schema_key_is_in_the_example() -> None:
    documented = yaml_keys(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    expected = schema_keys(Settings)
    assert sorted(expected - documented) == []
    assert sorted(documented - expected) == []
    assert "risk.circuit_breaker.max_drawdown" in expected  # the walk reaches nested sections


def test_example_values_are_the_defaults() -> None:
    assert load_config(EXAMPLE, env={}).model_dump() == Settings().model_dump()


KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<value>.*)$")


def test_every_key_has_a_comment() -> None:
    """Each key has a comment right above it, or belongs to a run of sibling keys right under a
    comment that names it (e.g. "host, port, user and dbname")."""
    undocumented: list[str] = []
    comment = ""  # the comment block that documents the keys that follow it
    comment_indent: int | None = None
    previous_was_comment = False
    for number, line in enumerate(EXAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("#"):
            if not previous_was_comment:
                comment = ""
            comment += " " + stripped
            comment_indent, previous_was_comment = indent, True
            continue
        if not stripped:
            comment, comment_indent, previous_was_comment = "", None, False
            continue
        match = KEY_LINE.match(line)
        assert match, f"line {number} is neither a key nor a comment: {line!r}"
        is_section = match["value"].strip() == ""
        directly_below = previous_was_comment and comment_indent == indent
        named = comment_indent == indent and re.search(rf"\b{match['key']}\b", comment)
        if not is_section and not directly_below and not named:
            undocumented.append(f"line {number}: {match['key']}")
        previous_was_comment = False
    assert undocumented == []


def test_env_example_lists_every_secret_with_an_empty_value() -> None:
    from laicai.config import SECRET_ENV_VARS

    assigned = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert set(assigned) == set(SECRET_ENV_VARS.values())
    assert all(value == "" for value in assigned.values())
