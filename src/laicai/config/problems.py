"""Turn pydantic's validation errors into one line per problem that an operator can act on:
the full dotted key, the bad value and what is allowed there."""

from __future__ import annotations

import difflib
import enum
import re
import types
import typing
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from laicai.config.base import CONFLICT_ERROR_TYPE

_MAX_VALUE_CHARS = 60


def dotted(loc: Sequence[int | str]) -> str:
    """``("risk", "circuit_breaker", "max_drawdown")`` -> ``risk.circuit_breaker.max_drawdown``;
    list positions print as ``[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)[^/@\s]*@")


def _show(value: Any) -> str:
    """A short repr of a rejected value, with any password inside a URL masked."""
    shown = str(value) if isinstance(value, Decimal) else repr(value)
    text = _URL_CREDENTIALS.sub(r"\g<head>***@", shown)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _model_class(annotation: Any) -> type[BaseModel] | None:
    annotation, _ = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel]:
    """The model whose keys live at ``loc`` (the deepest section ``loc`` reaches)."""
    model = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        nested = _model_class(field.annotation) if field is not None else None
        if nested is None:
            break
        model = nested
    return model


def field_at(root: type[BaseModel], loc: Sequence[int | str]) -> FieldInfo | None:
    """The field named by the last key of ``loc``, or ``None`` if there is none."""
    keys = [part for part in loc if isinstance(part, str)]
    if not keys:
        return None
    return model_at(root, keys[:-1]).model_fields.get(keys[-1])


def _bounds(field: FieldInfo) -> str | None:
    lower: tuple[str, object] | None = None
    upper: tuple[str, object] | None = None
    for item in field.metadata:  # annotated_types.Ge/Gt/Le/Lt, as pydantic stores Field bounds
        for attr, symbol in (("ge", "≤"), ("gt", "<")):
            if getattr(item, attr, None) is not None:
                lower = (symbol, getattr(item, attr))
        for attr, symbol in (("le", "≤"), ("lt", "<")):
            if getattr(item, attr, None) is not None:
                upper = (symbol, getattr(item, attr))
    if lower and upper:
        return f"{lower[1]} {lower[0]} value {upper[0]} {upper[1]}"
    if lower:
        flipped = {"≤": "≥", "<": ">"}[lower[0]]
        return f"value {flipped} {lower[1]}"
    if upper:
        return f"value {upper[0]} {upper[1]}"
    return None


def allowed(field: FieldInfo) -> str:
    """A short human description of what a field accepts."""
    annotation, optional = _unwrap_optional(field.annotation)
    origin = typing.get_origin(annotation)
    text: str
    if origin is Literal:
        text = "one of " + ", ".join(str(a) for a in typing.get_args(annotation))
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        text = "one of " + ", ".join(str(m.value) for m in annotation)
    elif annotation is bool:
        text = "true or false"
    elif annotation in (int, float, Decimal):
        kind = "a whole number" if annotation is int else "a number"
        bounds = _bounds(field)
        text = f"{kind}, {bounds}" if bounds else kind
    elif annotation is str:
        text = "text"
    elif annotation is Path:
        text = "a file path"
    elif origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        item_name = {int: "whole numbers", str: "text values"}.get(item, "values")
        text = f"a list of {item_name}"
    elif _model_class(annotation) is not None:
        model = _model_class(annotation)
        assert model is not None
        text = "a mapping with keys " + ", ".join(model.model_fields)
    else:
        text = "a value of the documented type"
    return f"{text} (or null)" if optional else text


def _unknown_key(root: type[BaseModel], loc: Sequence[int | str]) -> str:
    fields = model_at(root, loc[:-1]).model_fields
    known = [name for name, field in fields.items() if not field.exclude]
    hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"{dotted(loc)}: unknown key{suggestion}; keys allowed here: {', '.join(known)}"


def describe(root: type[BaseModel], error: ErrorDetails) -> list[str]:
    """One or more problem lines for a single pydantic error."""
    loc = error["loc"]
    key = dotted(loc)
    kind = error["type"]
    if kind == CONFLICT_ERROR_TYPE:
        ctx = error.get("ctx") or {}
        lines = []
        for template, keys in ctx.get("conflicts", ()):
            full = [f"{key}.{k}" if key else k for k in keys]
            lines.append(template.format(*full))
        return lines or [f"{key}: {error['msg']}"]
    if kind == "extra_forbidden":
        return [_unknown_key(root, loc)]
    field = field_at(root, loc)
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    line = f"{key or '(top level)'}: {message} (got {_show(error.get('input'))})"
    if field is not None and not any(isinstance(part, int) for part in loc):
        line += f"; allowed: {allowed(field)}"
    return [line]


def problems_from(root: type[BaseModel], exc: ValidationError) -> list[str]:
    """Every problem of a failed validation, in the order pydantic found them."""
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        lines.extend(describe(root, error))
    return lines
