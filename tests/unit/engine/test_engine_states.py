"""The bot state machine (laicai.engine.states): every legal move passes, every other pair
raises, STOPPED is terminal, and which states are "busy"."""

from __future__ import annotations

import itertools

import pytest

from laicai.engine.states import (
    BOT_TRANSITIONS,
    BotState,
    IllegalBotTransition,
    check_bot_transition,
)
from laicai.errors import InvariantViolation

B = BotState
ALL_PAIRS = list(itertools.product(BotState, BotState))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in BOT_TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in BOT_TRANSITIONS[a]]

# ARCHITECTURE.md, States (and the module docstring): the moves the design names
EXPECTED = {
    B.STARTING: {B.IDLE, B.PAUSED, B.EMERGENCY, B.STOPPED},
    B.IDLE: {B.SCANNING, B.MANAGING, B.PAUSED, B.EMERGENCY, B.STOPPED},
    B.SCANNING: {B.OPENING, B.IDLE, B.PAUSED, B.EMERGENCY, B.STOPPED},
    B.OPENING: {B.SCANNING, B.IDLE, B.PAUSED, B.EMERGENCY, B.STOPPED},
    B.MANAGING: {B.IDLE, B.PAUSED, B.EMERGENCY, B.STOPPED},
    B.PAUSED: {B.IDLE, B.MANAGING, B.EMERGENCY, B.STOPPED},
    B.EMERGENCY: {B.STOPPED},
    B.STOPPED: set(),
}


def test_the_table_is_the_designed_one() -> None:
    assert set(BOT_TRANSITIONS) == set(BotState)
    assert {k: set(v) for k, v in BOT_TRANSITIONS.items()} == EXPECTED
    assert len(LEGAL) == 28 and len(ILLEGAL) == 64 - 28


@pytest.mark.parametrize(("frm", "to"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_every_legal_move_passes(frm: BotState, to: BotState) -> None:
    check_bot_transition(frm, to)


@pytest.mark.parametrize(("frm", "to"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_other_move_raises(frm: BotState, to: BotState) -> None:
    with pytest.raises(IllegalBotTransition) as err:
        check_bot_transition(frm, to)
    assert f"{frm} -> {to}" in str(err.value)
    assert isinstance(err.value, InvariantViolation)


def test_no_state_moves_to_itself() -> None:
    for s in BotState:
        with pytest.raises(IllegalBotTransition):
            check_bot_transition(s, s)


def test_stopped_is_terminal_and_emergency_only_stops() -> None:
    assert BOT_TRANSITIONS[B.STOPPED] == frozenset()
    for to in BotState:
        with pytest.raises(IllegalBotTransition):
            check_bot_transition(B.STOPPED, to)
    assert BOT_TRANSITIONS[B.EMERGENCY] == frozenset({B.STOPPED})


def test_every_live_state_can_pause_stop_and_reach_emergency() -> None:
    for s in BotState:
        if s in (B.EMERGENCY, B.STOPPED):
            continue
        assert B.STOPPED in BOT_TRANSITIONS[s], s
        assert B.EMERGENCY in BOT_TRANSITIONS[s], s
        if s is not B.PAUSED:
            assert B.PAUSED in BOT_TRANSITIONS[s], s


def test_nothing_returns_to_starting() -> None:
    assert all(B.STARTING not in targets for targets in BOT_TRANSITIONS.values())


def test_every_state_is_reachable_from_starting() -> None:
    seen, todo = {B.STARTING}, [B.STARTING]
    while todo:
        for nxt in BOT_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(BotState)


def test_busy_states() -> None:
    assert {s for s in BotState if s.busy} == {B.SCANNING, B.OPENING, B.MANAGING, B.EMERGENCY}
    # a busy operation (other than the emergency) always has a way back to rest
    for s in (B.SCANNING, B.OPENING, B.MANAGING):
        assert BOT_TRANSITIONS[s] & {B.IDLE, B.PAUSED} == {B.IDLE, B.PAUSED}


def test_states_are_their_names() -> None:
    for s in BotState:
        assert s.value == s.name
        assert BotState(s.value) is s
