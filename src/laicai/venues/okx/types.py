"""Values the OKX adapter returns beyond the port's domain types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Row = Mapping[str, Any]
"""One object of an OKX v5 answer's ``data`` list, as OKX sent it (numbers as strings)."""


@dataclass(frozen=True, slots=True)
class OpenInterest:
    """Open interest of a swap: in contracts, in base currency and in USD."""

    inst_id: str
    contracts: Decimal
    base_qty: Decimal
    notional_usd: Decimal
    ts_ms: int
