"""The persisted vocabularies: position states and their legal moves, journal and ledger kinds.

``PositionStatus`` follows ARCHITECTURE.md (States): ``OPENING -> OPEN -> (RESETTING -> OPEN)* ->
REDEEMING -> CLOSING -> CLOSED``, and ``FAILED`` for an open that was fully unwound.
"""

from __future__ import annotations

from enum import StrEnum


class PositionStatus(StrEnum):
    OPENING = "OPENING"
    OPEN = "OPEN"
    RESETTING = "RESETTING"
    REDEEMING = "REDEEMING"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in (PositionStatus.CLOSED, PositionStatus.FAILED)


_S = PositionStatus
POSITION_TRANSITIONS: dict[PositionStatus, frozenset[PositionStatus]] = {
    _S.OPENING: frozenset({_S.OPEN, _S.FAILED}),
    # OPEN -> CLOSING directly when nothing sits in Earn (LONG, or Earn disabled).
    _S.OPEN: frozenset({_S.RESETTING, _S.REDEEMING, _S.CLOSING}),
    # A reset that cannot reopen ends by closing what is left.
    _S.RESETTING: frozenset({_S.OPEN, _S.CLOSING}),
    # A redemption may be abandoned (the close was called off): back to OPEN.
    _S.REDEEMING: frozenset({_S.CLOSING, _S.OPEN}),
    _S.CLOSING: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.FAILED: frozenset(),
}
"""Every legal move; anything else is an :class:`~laicai.store.errors.IllegalTransition`."""


def can_transition(old: PositionStatus, new: PositionStatus) -> bool:
    return new in POSITION_TRANSITIONS[old]


class SpotEarningStatus(StrEnum):
    """Where the spot leg of a SHORT sits (the seed DDL's ``spot_earning_status``)."""

    NONE = "NONE"
    SUBSCRIBED = "SUBSCRIBED"
    REDEEMED = "REDEEMED"


class JournalStatus(StrEnum):
    """An intent is written ``pending`` before anything is sent to the exchange."""

    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (JournalStatus.DONE, JournalStatus.FAILED)


_J = JournalStatus
JOURNAL_TRANSITIONS: dict[JournalStatus, frozenset[JournalStatus]] = {
    _J.PENDING: frozenset({_J.SENT, _J.DONE, _J.FAILED}),  # DONE directly: nothing to send
    _J.SENT: frozenset({_J.DONE, _J.FAILED}),
    _J.DONE: frozenset(),
    _J.FAILED: frozenset(),
}


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class EarnEventKind(StrEnum):
    SUBSCRIBE = "SUBSCRIBE"
    REDEEM = "REDEEM"
    INTEREST = "INTEREST"


class BorrowEventKind(StrEnum):
    BORROW = "BORROW"
    REPAY = "REPAY"
    INTEREST = "INTEREST"


class AlertLevel(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"
