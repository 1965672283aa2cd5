"""Merging the guards' commands for one carry, most urgent first.

Priority: emergency close > reset > close > top-up > rebalance (urgent first) > sweep, then
breaker, pause and alerts. A terminal command (close or reset) supersedes the margin transfers
and rebalances of the same carry - its legs are about to be closed anyway - and only one
terminal command survives per carry, carrying the reasons of the others:

- an emergency close beats everything;
- a reset beats a top-up, a rebalance and a sweep;
- but when an exit rule wants the carry closed *and* the margin wants it reset, the close wins:
  a reset is a close plus a reopen, and reopening would overrule the exit rule (e.g. a stop
  loss or funding that turned against the carry). The close resolves the margin danger too.

Alerts, pauses and breaker trips are always kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from laicai.risk.commands import (
    Alert,
    CloseCarry,
    Command,
    PauseEntries,
    Rebalance,
    ResetCarry,
    SweepProfit,
    TopUpMargin,
    TripBreaker,
)


def priority(command: Command) -> int:
    """Smaller runs first."""
    match command:
        case CloseCarry(emergency=True):
            return 0
        case ResetCarry():
            return 1
        case CloseCarry():
            return 2
        case TopUpMargin():
            return 3
        case Rebalance(urgent=True):
            return 4
        case Rebalance():
            return 5
        case SweepProfit():
            return 6
        case TripBreaker():
            return 7
        case PauseEntries():
            return 8
        case Alert():
            return 9
    raise TypeError(f"not a risk command: {command!r}")  # pragma: no cover


def sort_commands(commands: Iterable[Command]) -> list[Command]:
    return sorted(commands, key=priority)


def merge_position(commands: Iterable[Command]) -> list[Command]:
    """One carry's commands, superseded ones dropped, in priority order."""
    items = sort_commands(commands)
    terminal = [c for c in items if isinstance(c, CloseCarry | ResetCarry)]
    if not terminal:
        return items
    notices = [c for c in items if isinstance(c, Alert | PauseEntries | TripBreaker)]
    return [_winner(terminal), *notices]


def _winner(terminal: list[CloseCarry | ResetCarry]) -> CloseCarry | ResetCarry:
    first = terminal[0]
    if isinstance(first, ResetCarry):
        closes = [c for c in terminal if isinstance(c, CloseCarry)]
        if closes:  # an exit rule wants it closed: do not reopen
            first = closes[0]
    others = [c.reason for c in terminal if c is not first]
    if not others:
        return first
    reason = "; ".join([first.reason, *others])
    if isinstance(first, CloseCarry):
        return CloseCarry(first.position_id, reason, emergency=first.emergency)
    return ResetCarry(first.position_id, reason)
