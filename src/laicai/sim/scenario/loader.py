"""Loading scenario files: built-in names or paths to YAML files."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from laicai.sim.scenario.schema import Scenario

_BUILTIN_PACKAGE = "laicai.sim.scenario"
_BUILTIN_DIR = "builtin"
_SUFFIX = ".yml"


class ScenarioError(ValueError):
    """A scenario could not be found, parsed or validated. ``problems`` lists each issue,
    prefixed by the key it concerns (``coins.BTC.price.vol: ...``)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        if len(problems) == 1:
            super().__init__(f"scenario {source}: {problems[0]}")
        else:
            super().__init__(f"scenario {source}:\n{lines}")


@cache
def builtin_scenarios() -> tuple[str, ...]:
    """Names of the scenarios shipped with laicai (``calm``, ``squeeze``, ...)."""
    folder = resources.files(_BUILTIN_PACKAGE).joinpath(_BUILTIN_DIR)
    return tuple(
        sorted(p.name[: -len(_SUFFIX)] for p in folder.iterdir() if p.name.endswith(_SUFFIX))
    )


def builtin_scenario_text(name: str) -> str:
    """The YAML text of a built-in scenario."""
    if name not in builtin_scenarios():
        raise ScenarioError(repr(name), [_unknown(name)])
    folder = resources.files(_BUILTIN_PACKAGE).joinpath(_BUILTIN_DIR)
    return folder.joinpath(name + _SUFFIX).read_text(encoding="utf-8")


def _unknown(name: str) -> str:
    return (
        f"unknown scenario {name!r}: not a built-in scenario "
        f"({', '.join(builtin_scenarios())}) and no such file"
    )


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def format_validation_error(err: ValidationError) -> list[str]:
    """One line per error: ``key.path: message``."""
    problems = []
    for e in err.errors():
        parts = tuple(e["loc"])
        msg = e["msg"]
        if parts and parts[-1] == "[key]":  # the mapping key itself is invalid
            parts = parts[:-1]
            msg = f"invalid key: {msg}"
        loc = _loc(parts)
        if e["type"] == "extra_forbidden":
            msg = f"unknown key {loc.rsplit('.', 1)[-1]!r} (not allowed here)"
        elif e["type"] == "union_tag_not_found":
            msg = f"missing 'kind' ({msg})"
        problems.append(f"{loc}: {msg}" if loc else msg)
    return problems


def parse_scenario(data: Any, source: str = "<data>", name: str | None = None) -> Scenario:
    """Validate already-parsed YAML data; ``name`` is used if the data has none."""
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise ScenarioError(source, [f"expected a mapping at the top level, got {kind}"])
    if name is not None and "name" not in data:
        data = {"name": name, **data}
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(source, format_validation_error(e)) from None


def scenario_from_yaml(text: str, source: str = "<yaml>", name: str | None = None) -> Scenario:
    """Parse and validate a scenario from YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(source, [f"invalid YAML: {e}"]) from None
    return parse_scenario(data, source, name)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name (see :func:`builtin_scenarios`), else a YAML file by path."""
    key = str(name_or_path)
    if key in builtin_scenarios():
        return scenario_from_yaml(builtin_scenario_text(key), f"{key!r} (built-in)", key)
    path = Path(name_or_path)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ScenarioError(str(path), [f"cannot read: {e}"]) from None
        return scenario_from_yaml(text, str(path), path.stem)
    raise ScenarioError(repr(key), [_unknown(key)])
