"""Simulated instruments, with OKX's own fields.

Seeded from real OKX definitions (``resources/okx_instruments.json``); coins that OKX's sample
does not cover get a spot/swap pair derived from their price, with a tick and lot sized the way
OKX sizes them (about 5 significant digits of price; a contract worth a few USDT to a few
hundred USDT).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

SPOT = "SPOT"
SWAP = "SWAP"

# Fields that OKX's public/instruments returns for every instrument, in OKX's order.
_OKX_FIELDS = (
    "alias", "baseCcy", "category", "ctMult", "ctType", "ctVal", "ctValCcy", "expTime",
    "instFamily", "instId", "instType", "lever", "listTime", "lotSz", "maxIcebergSz",
    "maxLmtAmt", "maxLmtSz", "maxMktAmt", "maxMktSz", "maxStopSz", "maxTriggerSz", "maxTwapSz",
    "minSz", "optType", "quoteCcy", "ruleType", "settleCcy", "state", "stk", "tickSz", "uly",
)


@dataclass(frozen=True, slots=True)
class SimInstrument:
    """One tradable instrument. Swap sizes are in contracts of ``ct_val`` base units."""

    inst_id: str
    inst_type: str  # SPOT | SWAP
    base_ccy: str
    quote_ccy: str  # for swaps: the settle currency
    tick_sz: Decimal
    lot_sz: Decimal
    min_sz: Decimal
    ct_val: Decimal = Decimal("1")
    max_lever: int = 10
    state: str = "live"
    list_time_ms: int = 0
    raw: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_swap(self) -> bool:
        return self.inst_type == SWAP

    @property
    def settle_ccy(self) -> str:
        return self.quote_ccy if self.is_swap else ""

    def base_qty(self, sz: Decimal) -> Decimal:
        """Base-currency quantity of an order size (contracts for swaps)."""
        return sz * self.ct_val if self.is_swap else sz

    def to_okx(self) -> dict[str, str]:
        """The instrument as OKX's ``public/instruments`` returns it (all values strings)."""
        out = {k: "" for k in _OKX_FIELDS}
        out.update(self.raw)
        out.update(
            instId=self.inst_id,
            instType=self.inst_type,
            tickSz=_s(self.tick_sz),
            lotSz=_s(self.lot_sz),
            minSz=_s(self.min_sz),
            lever=str(self.max_lever),
            state=self.state,
            listTime=str(self.list_time_ms),
        )
        if self.is_swap:
            out.update(
                ctVal=_s(self.ct_val), ctValCcy=self.base_ccy, ctMult="1", ctType="linear",
                settleCcy=self.quote_ccy, instFamily=f"{self.base_ccy}-{self.quote_ccy}",
                uly=f"{self.base_ccy}-{self.quote_ccy}", baseCcy="", quoteCcy="",
            )
        else:
            out.update(baseCcy=self.base_ccy, quoteCcy=self.quote_ccy)
        return out

    @classmethod
    def from_okx(cls, d: dict[str, Any]) -> SimInstrument:
        inst_type = d["instType"]
        if inst_type == SWAP:
            family = d.get("instFamily") or d.get("uly") or ""
            base, _, quote = family.partition("-")
            base = d.get("ctValCcy") or base
            quote = d.get("settleCcy") or quote
        else:
            base, quote = d["baseCcy"], d["quoteCcy"]
        return cls(
            inst_id=d["instId"],
            inst_type=inst_type,
            base_ccy=base,
            quote_ccy=quote,
            tick_sz=Decimal(d["tickSz"]),
            lot_sz=Decimal(d["lotSz"]),
            min_sz=Decimal(d["minSz"]),
            ct_val=Decimal(d["ctVal"]) if d.get("ctVal") else Decimal("1"),
            max_lever=int(d.get("lever") or 1),
            state=d.get("state", "live"),
            list_time_ms=int(d.get("listTime") or 0),
            raw={k: str(v) for k, v in d.items()},
        )


def _s(x: Decimal) -> str:
    return format(x.normalize(), "f")


@cache
def okx_reference_instruments() -> dict[str, SimInstrument]:
    """Real OKX SPOT and USDT-margined SWAP definitions shipped with the package."""
    text = resources.files("laicai.sim").joinpath("resources/okx_instruments.json").read_text()
    data = json.loads(text)
    out = {}
    for d in data["instruments"]:
        inst = SimInstrument.from_okx(d)
        if inst.quote_ccy == "USDT":
            out[inst.inst_id] = inst
    return out


def _pow10_at_or_below(x: Decimal) -> Decimal:
    """The largest power of ten <= x (x > 0)."""
    return Decimal(1).scaleb(x.adjusted())


def derive_pair(
    base: str, price: Decimal, quote: str = "USDT"
) -> tuple[SimInstrument, SimInstrument]:
    """A spot and a swap for ``base`` sized like OKX sizes a coin of this price."""
    if price <= 0:
        raise ValueError(f"price of {base} must be > 0 to derive its instruments, got {price}")
    tick = _pow10_at_or_below(price) / Decimal(10000)  # ~5 significant digits
    # a contract is worth 10..100 USDT: a power of ten of the base coin
    ct_val = _pow10_at_or_below(Decimal(100) / price)
    cent = Decimal("0.01")
    spot_lot = _pow10_at_or_below(cent / price) if price > cent else Decimal(1)
    spot = SimInstrument(
        inst_id=f"{base}-{quote}", inst_type=SPOT, base_ccy=base, quote_ccy=quote,
        tick_sz=tick, lot_sz=min(spot_lot, Decimal(1)),
        min_sz=max(_pow10_at_or_below(Decimal(1) / price), spot_lot),
        max_lever=10,
    )
    swap = SimInstrument(
        inst_id=f"{base}-{quote}-SWAP", inst_type=SWAP, base_ccy=base, quote_ccy=quote,
        tick_sz=tick, ct_val=ct_val, lot_sz=Decimal("0.01"), min_sz=Decimal("0.01"),
        max_lever=50,
    )
    return spot, swap


def pair_for(
    base: str, price: Decimal, quote: str = "USDT"
) -> tuple[SimInstrument, SimInstrument]:
    """OKX's real definitions for ``base`` where shipped, otherwise derived ones."""
    ref = okx_reference_instruments()
    spot = ref.get(f"{base}-{quote}")
    swap = ref.get(f"{base}-{quote}-SWAP")
    d_spot, d_swap = derive_pair(base, price, quote)
    return spot or d_spot, swap or d_swap


def with_state(inst: SimInstrument, state: str) -> SimInstrument:
    return replace(inst, state=state)
