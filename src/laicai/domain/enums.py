"""Small closed vocabularies."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    """Named after the perp leg, as in the seeds' DDL.

    SHORT = short perp + long spot (earns positive funding);
    LONG = long perp + short spot via margin borrow (earns negative funding).
    """

    SHORT = "SHORT"
    LONG = "LONG"


class InstKind(StrEnum):
    SPOT = "SPOT"
    SWAP = "SWAP"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY
