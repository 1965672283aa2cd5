"""YAML in and out for the configuration: strict reading (duplicate keys are errors, with line
numbers) and a dump that writes Decimals and paths as plain scalars."""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePath
from typing import Any

import yaml


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r} "
                f"(first given on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def parse_yaml(text: str) -> Any:
    """Parse one YAML document; raises :class:`yaml.YAMLError` with a mark on bad input."""
    return yaml.load(text, Loader=_StrictLoader)


def yaml_error_position(exc: yaml.YAMLError) -> str:
    """'line L, column C' of a YAML error, when PyYAML knows it."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return "unknown position"
    return f"line {mark.line + 1}, column {mark.column + 1}"


def yaml_error_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [str(p) for p in (context, problem) if p]
    return ": ".join(parts) if parts else str(exc)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    # Positional notation, so YAML reads it back as a number (PyYAML takes 1E-7 as text).
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _represent_path(dumper: yaml.SafeDumper, value: PurePath) -> yaml.ScalarNode:
    return dumper.represent_str(str(value))


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_multi_representer(PurePath, _represent_path)


def dump_yaml(data: Any) -> str:
    """YAML text for plain data (dicts, lists, scalars, Decimals, paths), keys in given order."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
