"""Fault injection: what a chaos test or demo asks the simulator to get wrong, and when.

A fault matches by kind plus optional endpoint (a suffix of the request path, e.g.
``trade/batch-orders``), HTTP method, instId and side; it fires ``count`` times (``None`` =
until cleared) with ``probability`` per match, drawn from the simulator's seeded RNG so runs
replay exactly. The HTTP façade applies transport faults (reject, delay, 5xx, drop after
accept, WebSocket drops); the core applies the economic ones (partial fills, Earn delays,
borrow exhaustion).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

KINDS = (
    "reject",  # answer with OKX error ``code`` (per order in batch endpoints)
    "delay",  # hold the response ``delay_ms``
    "http_5xx",  # answer HTTP ``http_status`` with OKX 50001 before doing anything
    "drop_after_accept",  # do the request, then drop the connection: outcome unknown
    "partial_fill",  # the order fills at most ``ratio`` of its size
    "earn_delay",  # Earn redemption arrives ``delay_ms`` later than normal
    "borrow_exhausted",  # the currency (``ccy``) cannot be borrowed any more
    "ws_drop",  # close WebSocket connections (public/private/business or all)
)


@dataclass(slots=True)
class Fault:
    kind: str
    id: str = ""
    endpoint: str | None = None
    inst_id: str | None = None
    side: str | None = None
    ccy: str | None = None
    count: int | None = 1
    probability: float = 1.0
    code: str = "51000"
    msg: str | None = None
    delay_ms: int = 0
    http_status: int = 503
    ratio: Decimal = Decimal("0.5")
    channel: str | None = None
    method: str | None = None  # GET | POST: e.g. hold the placing of orders, not their reads
    fired: int = 0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = str(self.ratio)
        return d


@dataclass(slots=True)
class FaultBook:
    rng: random.Random
    faults: list[Fault] = field(default_factory=list)
    _n: int = 0

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {', '.join(KINDS)}")
        if not 0 < fault.probability <= 1:
            raise ValueError(f"fault probability must be in (0, 1], got {fault.probability}")
        self._n += 1
        fault.id = fault.id or f"f{self._n}"
        self.faults.append(fault)
        return fault

    def clear(self, kind: str | None = None) -> int:
        before = len(self.faults)
        self.faults = [f for f in self.faults if kind is not None and f.kind != kind]
        return before - len(self.faults)

    def take(
        self,
        kind: str,
        *,
        endpoint: str | None = None,
        inst_id: str | None = None,
        side: str | None = None,
        ccy: str | None = None,
        channel: str | None = None,
        method: str | None = None,
    ) -> Fault | None:
        """The first armed fault of ``kind`` matching the request, consuming one firing."""
        if not self.faults:
            return None
        for f in self.faults:
            if f.kind != kind:
                continue
            if f.endpoint is not None and (endpoint is None or not endpoint.endswith(f.endpoint)):
                continue
            if f.method is not None and (method is None or f.method.upper() != method.upper()):
                continue
            if f.inst_id is not None and f.inst_id != inst_id:
                continue
            if f.side is not None and f.side != side:
                continue
            if f.ccy is not None and f.ccy != ccy:
                continue
            if f.channel is not None and channel is not None and f.channel != channel:
                continue
            if f.probability < 1 and self.rng.random() >= f.probability:
                continue
            f.fired += 1
            if f.count is not None:
                f.count -= 1
                if f.count <= 0:
                    self.faults.remove(f)
            return f
        return None

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.faults)
