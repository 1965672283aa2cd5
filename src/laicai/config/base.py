"""Building blocks shared by the configuration sections: the strict base model, constrained
number types, and the collector for cross-field conflicts."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

CONFLICT_ERROR_TYPE = "laicai_conflict"


class Section(BaseModel):
    """A block of the YAML file: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Ratio = Annotated[Decimal, Field(ge=0, le=1)]
"""A fraction in [0, 1] (0.1 = 10%)."""

PositiveRatio = Annotated[Decimal, Field(gt=0, le=1)]
"""A fraction in (0, 1]."""

Usdt = Annotated[Decimal, Field(ge=0)]
"""An amount of USDT, never negative."""

PositiveUsdt = Annotated[Decimal, Field(gt=0)]
"""An amount of USDT above zero."""

Seconds = Annotated[float, Field(gt=0)]
"""A duration in seconds above zero."""

Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port."""


class Conflicts:
    """Collects every cross-field inconsistency of one model before raising them together.

    Each conflict is a template with positional placeholders (``{0}``, ``{1}``) for the keys it
    names, relative to the model that checks them. The error formatter prefixes them with the
    model's own location, so the operator reads full dotted keys such as ``risk.leverage``.
    """

    def __init__(self) -> None:
        self._items: list[tuple[str, tuple[str, ...]]] = []

    def add(self, template: str, *keys: str) -> None:
        self._items.append((template, keys))

    def raise_if_any(self) -> None:
        if not self._items:
            return
        summary = "; ".join(template.format(*keys) for template, keys in self._items)
        raise PydanticCustomError(
            CONFLICT_ERROR_TYPE,
            "{summary}",
            {"summary": summary, "conflicts": tuple(self._items)},
        )
