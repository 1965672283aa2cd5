"""Deterministic client order ids (OKX clOrdId: 1-32 letters and digits).

The id is a pure function of the intent — position, operation, its sequence number, the leg and
the attempt — so a restart that replays a journaled intent regenerates the very same ids, and
the venue's duplicate check (51016) turns an accidental resend into a lookup.
"""

from __future__ import annotations

import string

_ALPHABET = string.digits + string.ascii_lowercase

OPS = {"open": "o", "close": "c", "reset": "r", "repair": "p", "unwind": "u", "flatten": "f",
       "rebalance": "b", "closeall": "x"}
LEGS = {"spot": "s", "perp": "p"}


def _b36(n: int) -> str:
    if n < 0:
        raise ValueError(f"ids are built from non-negative numbers, got {n}")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
        if n == 0:
            return out


def client_order_id(position_id: int, op: str, seq: int, leg: str, attempt: int = 0,
                    prefix: str = "lc") -> str:
    """e.g. ``lc1zo0s0``: prefix, position (base 36), op letter, sequence, leg, attempt."""
    if op not in OPS:
        raise ValueError(f"unknown operation {op!r}; known: {', '.join(OPS)}")
    if leg not in LEGS:
        raise ValueError(f"unknown leg {leg!r}; known: {', '.join(LEGS)}")
    cid = f"{prefix}{_b36(position_id)}{OPS[op]}{_b36(seq)}{LEGS[leg]}{_b36(attempt)}"
    if len(cid) > 32 or not cid.isalnum():
        raise ValueError(f"client order id {cid!r} is not a valid OKX clOrdId")
    return cid
