"""Load :class:`Settings` from one YAML file plus the environment (and an optional ``.env``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values
from pydantic import BaseModel, ValidationError

from laicai.config.problems import dotted, model_at, problems_from
from laicai.config.schema import Settings
from laicai.config.secrets import find_secrets_in_yaml, secrets_from_env
from laicai.config.yaml_io import parse_yaml, yaml_error_position, yaml_error_reason
from laicai.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config/config.yml")
"""Where the CLI looks for the file when neither ``--config`` nor ``LAICAI_CONFIG`` is given."""

DEFAULT_ENV_FILE = Path(".env")
"""Read when :func:`load_config` takes the process environment and this file exists."""


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ConfigError(
            f"config file not found: {path} "
            "(copy config/config.example.yml to start, or omit --config to use the defaults)"
        )
    if not path.is_file():
        raise ConfigError(f"config path is not a file: {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file is not UTF-8 text: {path} ({e.reason})") from e
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from e


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw mapping of a YAML config file; an empty file gives ``{}``."""
    text = _read_text(path)
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as e:
        raise ConfigError(
            f"invalid YAML in {path} at {yaml_error_position(e)}: {yaml_error_reason(e)}"
        ) from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of sections (mode, okx, risk, ...), "
            f"not a {type(data).__name__}"
        )
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ConfigError(f"{path}: top-level keys must be text, got {bad_keys!r}")
    return data


def _environment(env: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    if env is None and env_file is None and DEFAULT_ENV_FILE.is_file():
        env_file = DEFAULT_ENV_FILE
    if env_file is not None:
        if not env_file.is_file():
            raise ConfigError(f"env file not found: {env_file}")
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if env is None else env)
    return merged


def _without(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


def _copy_tree(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy_tree(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def _drop_empty_sections(tree: dict[str, Any], model: type[BaseModel]) -> None:
    """A section header whose keys are all commented out reads as null: treat it as empty."""
    for key in list(tree):
        if not isinstance(key, str) or key not in model.model_fields:
            continue
        nested = model_at(model, [key])
        if nested is model:
            continue
        if tree[key] is None:
            del tree[key]
        elif isinstance(tree[key], dict):
            _drop_empty_sections(tree[key], nested)


def validate_config(
    data: Mapping[str, Any], env: Mapping[str, str], *, source: str = "configuration"
) -> Settings:
    """Validate a raw mapping (as read from YAML) together with an environment."""
    problems: list[str] = []
    tree = _copy_tree(data)
    for path, env_var in find_secrets_in_yaml(tree):
        where = "the matching LAICAI_* variable" if env_var.endswith("*") else env_var
        problems.append(
            f"{dotted(path)}: secrets are never read from the config file; remove this key and "
            f"set {where} in the environment or in .env (see .env.example)"
        )
        _without(tree, path)
    _drop_empty_sections(tree, Settings)
    tree["secrets"] = secrets_from_env(env)
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(tree)
    except ValidationError as e:
        problems.extend(problems_from(Settings, e))
    if problems or settings is None:
        header = f"invalid {source} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"
        raise ConfigError("\n".join([header, *(f"  - {p}" for p in problems)]), problems)
    return settings


def load_config(
    path: Path | None,
    env: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = None,
) -> Settings:
    """Load and validate the configuration.

    ``path`` is the YAML file; ``None`` means no file, so every default applies. ``env`` is the
    environment to read secrets from; ``None`` means the process environment, completed by
    ``.env`` in the working directory if there is one (the process environment wins).
    ``env_file`` names a dotenv file to read explicitly, also when ``env`` is given.
    """
    data = read_config_file(path) if path is not None else {}
    source = f"configuration in {path}" if path is not None else "configuration"
    return validate_config(data, _environment(env, env_file), source=source)
