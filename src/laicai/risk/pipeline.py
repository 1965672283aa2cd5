"""The two questions the engine asks risk.

- Per open carry, every cycle (and on every pushed mark price): :func:`evaluate_position` runs
  the margin guard (with the fund guard), the hedge guard and the exit rules, and merges their
  commands by priority (:mod:`laicai.risk.priority`). :func:`evaluate_positions` does it for
  all carries, neediest margin first, so two top-ups never plan the same free USDT.
- Per candidate: :func:`approve_entry` -> :class:`Approval` (maybe smaller) or :class:`Veto`.
  Checks, first failing wins: circuit breaker, an active pause, a price spike, the portfolio
  limits, then slippage and depth.

Account-level guards run beside these with their own state values:
:func:`laicai.risk.circuit_breaker.evaluate`, :func:`laicai.risk.exchange_guard.evaluate`,
:func:`laicai.risk.liquidity_guard.detect_spike`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from laicai.risk import exits, hedge_guard, limits, liquidity_guard, margin_guard
from laicai.risk.circuit_breaker import BreakerState
from laicai.risk.commands import (
    Approval,
    Command,
    PauseEntries,
    TopUpMargin,
    Veto,
    VetoCode,
)
from laicai.risk.params import RiskParams
from laicai.risk.priority import merge_position, sort_commands
from laicai.risk.state import AccountView, CarryView, EntryDepth, Funds, MarginLevel, PriceSample
from laicai.strategy.opportunity import Opportunity


@dataclass(frozen=True, slots=True)
class PositionAssessment:
    """The commands for one carry, the margin level to remember for its next evaluation
    (:attr:`CarryView.last_margin_level`), and the free USDT left for other carries."""

    margin_level: MarginLevel
    commands: tuple[Command, ...]
    funds_left: Funds


def assess_position(view: CarryView, account: AccountView, params: RiskParams, now_ms: int,
                    *, emergency: bool = False, funds: Funds | None = None) -> PositionAssessment:
    """:func:`evaluate_position` with the margin level and the funds left (top-ups that a
    close or reset superseded spend nothing)."""
    free = account.funds if funds is None else funds
    margin = margin_guard.evaluate(view, free, params)
    commands: list[Command] = [*margin.commands, *hedge_guard.evaluate(view, params, now_ms)]
    close = exits.evaluate(view, params, emergency)
    if close is not None:
        commands.append(close)
    merged = merge_position(commands)
    topped_up = any(isinstance(c, TopUpMargin) for c in merged)
    return PositionAssessment(margin.level, tuple(merged),
                              margin.funds_left if topped_up else free)


def evaluate_position(view: CarryView, account: AccountView, params: RiskParams, now_ms: int,
                      *, emergency: bool = False) -> list[Command]:
    """Commands for one open carry, most urgent first (``emergency``: the bot is closing all)."""
    return list(assess_position(view, account, params, now_ms, emergency=emergency).commands)


def evaluate_positions(views: Iterable[CarryView], account: AccountView, params: RiskParams,
                       now_ms: int, *, emergency: bool = False) -> list[Command]:
    """Commands for every open carry: the lowest margin ratio is served first from the free
    USDT, each top-up planned against what the previous ones left; all in priority order."""
    def neediest(view: CarryView) -> tuple[bool, Decimal]:
        ratio = view.margin_ratio
        return (ratio is None, ratio if ratio is not None else Decimal(0))

    funds = account.funds
    commands: list[Command] = []
    for view in sorted(views, key=neediest):
        verdict = assess_position(view, account, params, now_ms, emergency=emergency,
                                  funds=funds)
        commands.extend(verdict.commands)
        funds = verdict.funds_left
    return sort_commands(commands)


def approve_entry(opportunity: Opportunity, account: AccountView, params: RiskParams,
                  now_ms: int, breaker: BreakerState, spikes: Sequence[PriceSample] = (), *,
                  pause: PauseEntries | None = None,
                  depth: EntryDepth | None = None) -> Approval | Veto:
    """May this carry open, and how big? ``spikes``: recent price samples of its instrument;
    ``pause``: the entry pause in force, if any (from the exchange guard or a spike)."""
    if breaker.tripped:
        return Veto(VetoCode.BREAKER_TRIPPED, f"circuit breaker tripped: {breaker.reason}")
    if pause is not None and (pause.until_ms is None or now_ms < pause.until_ms):
        return Veto(VetoCode.ENTRIES_PAUSED, f"entries paused: {pause.reason}")
    spike = liquidity_guard.detect_spike(spikes, params, now_ms)
    if spike is not None:
        return Veto(VetoCode.PRICE_SPIKE, f"{spike.reason}; entries paused until "
                                          f"{spike.until_ms}")
    verdict = limits.check_entry(opportunity, account, params)
    if isinstance(verdict, Veto):
        return verdict
    veto = liquidity_guard.check_entry(opportunity, params, depth)
    return verdict if veto is None else veto
