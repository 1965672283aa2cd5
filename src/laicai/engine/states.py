"""The bot's states and their legal moves (ARCHITECTURE.md, States).

``STARTING -> IDLE <-> SCANNING -> OPENING -> IDLE``, ``IDLE -> MANAGING -> IDLE``; a scan that
approved several carries opens them one after the other (``SCANNING <-> OPENING``); any live
state -> ``PAUSED`` (circuit breaker or operator) -> ``IDLE``; any -> ``EMERGENCY`` (close-all)
-> ``STOPPED``. Open carries are still managed while paused (a paused bot must still top up a
falling margin), so ``PAUSED <-> MANAGING`` is legal too: managing returns to where it came from.
"""

from __future__ import annotations

from enum import StrEnum

from laicai.errors import InvariantViolation


class BotState(StrEnum):
    STARTING = "STARTING"
    IDLE = "IDLE"
    SCANNING = "SCANNING"
    OPENING = "OPENING"
    MANAGING = "MANAGING"
    PAUSED = "PAUSED"
    EMERGENCY = "EMERGENCY"
    STOPPED = "STOPPED"

    @property
    def busy(self) -> bool:
        """An operation is in flight: new signals wait until it is over (seed 000 step 11)."""
        return self in (BotState.SCANNING, BotState.OPENING, BotState.MANAGING,
                        BotState.EMERGENCY)


_B = BotState
BOT_TRANSITIONS: dict[BotState, frozenset[BotState]] = {
    _B.STARTING: frozenset({_B.IDLE, _B.PAUSED, _B.EMERGENCY, _B.STOPPED}),
    _B.IDLE: frozenset({_B.SCANNING, _B.MANAGING, _B.PAUSED, _B.EMERGENCY, _B.STOPPED}),
    _B.SCANNING: frozenset({_B.OPENING, _B.IDLE, _B.PAUSED, _B.EMERGENCY, _B.STOPPED}),
    _B.OPENING: frozenset({_B.SCANNING, _B.IDLE, _B.PAUSED, _B.EMERGENCY, _B.STOPPED}),
    _B.MANAGING: frozenset({_B.IDLE, _B.PAUSED, _B.EMERGENCY, _B.STOPPED}),
    _B.PAUSED: frozenset({_B.IDLE, _B.MANAGING, _B.EMERGENCY, _B.STOPPED}),
    _B.EMERGENCY: frozenset({_B.STOPPED}),
    _B.STOPPED: frozenset(),
}


class IllegalBotTransition(InvariantViolation):
    """A move the state machine does not allow (a bug, never an operator mistake)."""


def check_bot_transition(frm: BotState, to: BotState) -> None:
    if to not in BOT_TRANSITIONS[frm]:
        raise IllegalBotTransition(f"bot state {frm} -> {to} is not a legal move")
