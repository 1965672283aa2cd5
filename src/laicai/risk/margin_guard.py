"""The margin ladder (ARCHITECTURE.md): top-up, reset, emergency close - and the profit sweep.

Two signals, and the guard acts on whichever is worse:

1. laicai's margin ratio ``r = perp equity / perp notional`` (starts at ``1/L``):
   ``r < margin_emergency_ratio`` -> EMERGENCY, ``< margin_reset_threshold`` -> RESET,
   ``< margin_topup_ratio`` -> TOPUP, ``> margin_sweep_ratio`` -> SWEEP, otherwise OK.
2. OKX's ``mgnRatio`` ``m`` (OKX liquidates at 1): ``m < min_okx_mgn_ratio`` -> EMERGENCY;
   ``m < min_okx_mgn_ratio x okx_sweep_floor`` -> OK (no objection, but no sweep either: moving
   margin out would lower ``m`` further); above that, or unknown -> SWEEP (no objection at all).

The level is ``max`` of the two (:class:`MarginLevel` orders them mildest first).

Actions. EMERGENCY -> ``CloseCarry(emergency=True)``; RESET -> ``ResetCarry``; TOPUP ->
``TopUpMargin`` of what brings ``r`` back to exactly ``1/L`` (``N/L - E``, rounded *up* to
``usdt_step``), drawn by :mod:`laicai.risk.fund_guard` from trading then funding USDT, never
more than available; with nothing available the guard escalates to ``ResetCarry`` (a reset
rebuilds the carry at ``1/L`` from its own capital). SWEEP -> ``SweepProfit`` of ``E - N/L``
rounded *down* (a sweep never leaves less than ``1/L``). Transfers under ``min_transfer_usdt``
are not made.

Hysteresis (so one price tick does not flip-flop). Two mechanisms:

- Actions aim at the middle. Top-ups and sweeps restore ``1/L``, not the trigger, so after
  either the ratio must travel the whole gap (``1/L - margin_topup_ratio`` or
  ``margin_sweep_ratio - 1/L`` of notional) before the next one; the configuration validates
  ``sweep > 1/L > top-up > reset > emergency``.
- Levels are sticky (a Schmitt trigger). A level is *entered* at its trigger ``t`` but *left*
  only once the ratio clears the release point ``t + margin_hysteresis x (1/L - t)``, i.e. a
  fraction of the way back to the target (both for the lower rungs and, mirrored, for the
  sweep). The engine passes the level it last saw as ``CarryView.last_margin_level``. In the
  sticky band of TOPUP a partial top-up is completed when USDT is available; with none, the
  guard only warns - it escalates to a reset only below the real trigger. OKX's emergency is
  likewise left only above ``min + margin_hysteresis x (min x okx_sweep_floor - min)``.
  Entering a *worse* level is never delayed.

For a fixed previous level, OKX ratio and funds, a lower ``r`` never yields a milder action.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from laicai.domain.instrument import round_to_step
from laicai.risk.commands import Alert, AlertLevel, CloseCarry, Command, ResetCarry, SweepProfit
from laicai.risk.fund_guard import plan_topup
from laicai.risk.params import RiskParams
from laicai.risk.state import CarryView, Funds, MarginLevel

ZERO = Decimal(0)


def release_point(trigger: Decimal, target: Decimal, params: RiskParams) -> Decimal:
    """Where a level entered at ``trigger`` is left: ``margin_hysteresis`` of the way back to
    ``target`` (the same formula for triggers below and above the target)."""
    return trigger + params.margin_hysteresis * (target - trigger)


def ratio_level(ratio: Decimal, params: RiskParams,
                previous: MarginLevel = MarginLevel.OK) -> MarginLevel:
    """Signal 1: laicai's margin ratio on the ladder, with sticky levels."""
    target = params.target_margin_ratio
    for level, trigger in ((MarginLevel.EMERGENCY, params.margin_emergency_ratio),
                           (MarginLevel.RESET, params.margin_reset_threshold),
                           (MarginLevel.TOPUP, params.margin_topup_ratio)):
        if ratio < trigger:
            return level
        if previous >= level and ratio < release_point(trigger, target, params):
            return level
    sweep = params.margin_sweep_ratio
    if ratio > sweep:
        return MarginLevel.SWEEP
    if previous is MarginLevel.SWEEP and ratio > release_point(sweep, target, params):
        return MarginLevel.SWEEP
    return MarginLevel.OK


def okx_level(mgn_ratio: Decimal | None, params: RiskParams,
              previous: MarginLevel = MarginLevel.OK) -> MarginLevel:
    """Signal 2: OKX's ``mgnRatio`` as a severity (None: no signal, no objection)."""
    if mgn_ratio is None:
        return MarginLevel.SWEEP
    floor = params.min_okx_mgn_ratio
    sweep_floor = floor * params.okx_sweep_floor
    if mgn_ratio < floor:
        return MarginLevel.EMERGENCY
    if previous is MarginLevel.EMERGENCY and mgn_ratio < release_point(floor, sweep_floor,
                                                                       params):
        return MarginLevel.EMERGENCY
    return MarginLevel.OK if mgn_ratio < sweep_floor else MarginLevel.SWEEP


def margin_level(view: CarryView, params: RiskParams) -> MarginLevel:
    """The worse of the two signals; OK when the carry has no perp (nothing to guard)."""
    ratio = view.margin_ratio
    if ratio is None:
        return MarginLevel.OK
    previous = view.last_margin_level
    return max(ratio_level(ratio, params, previous),
               okx_level(view.okx_mgn_ratio, params, previous))


def topup_needed_usdt(view: CarryView, params: RiskParams) -> Decimal:
    """USDT that brings the margin ratio back to ``1/L``: ``N/L - E``, rounded up."""
    gap = view.perp_notional_usdt * params.target_margin_ratio - view.perp_equity_usdt
    return max(ZERO, round_to_step(gap, params.usdt_step, ROUND_UP))


def sweep_amount_usdt(view: CarryView, params: RiskParams) -> Decimal:
    """Surplus above ``1/L``: ``E - N/L``, rounded down (never sweeps below the target)."""
    surplus = view.perp_equity_usdt - view.perp_notional_usdt * params.target_margin_ratio
    return max(ZERO, round_to_step(surplus, params.usdt_step, ROUND_DOWN))


@dataclass(frozen=True, slots=True)
class MarginVerdict:
    """The level to remember for next time, the commands, and the funds still free."""

    level: MarginLevel
    ratio: Decimal | None
    commands: tuple[Command, ...]
    funds_left: Funds


def evaluate(view: CarryView, funds: Funds, params: RiskParams) -> MarginVerdict:
    ratio = view.margin_ratio
    level = margin_level(view, params)
    if ratio is None:
        return MarginVerdict(level, None, (), funds)
    pid = view.position_id
    okx = "n/a" if view.okx_mgn_ratio is None else f"{view.okx_mgn_ratio:.2f}"
    where = f"margin ratio {ratio:.4f} (OKX mgnRatio {okx})"
    if level is MarginLevel.EMERGENCY:
        return MarginVerdict(level, ratio, (CloseCarry(
            pid, f"emergency: {where}, limits {params.margin_emergency_ratio} / OKX "
            f"{params.min_okx_mgn_ratio}", emergency=True),), funds)
    if level is MarginLevel.RESET:
        return MarginVerdict(level, ratio, (ResetCarry(
            pid, f"{where} below reset threshold {params.margin_reset_threshold}"),), funds)
    if level is MarginLevel.TOPUP:
        return _topup(view, ratio, where, funds, params)
    if level is MarginLevel.SWEEP:
        amount = sweep_amount_usdt(view, params)
        if amount > 0 and amount >= params.min_transfer_usdt:
            return MarginVerdict(level, ratio, (SweepProfit(pid, amount),), funds)
    return MarginVerdict(level, ratio, (), funds)


def _topup(view: CarryView, ratio: Decimal, where: str, funds: Funds,
           params: RiskParams) -> MarginVerdict:
    level, pid = MarginLevel.TOPUP, view.position_id
    needed = topup_needed_usdt(view, params)
    if needed < params.min_transfer_usdt:
        return MarginVerdict(level, ratio, (), funds)
    plan = plan_topup(pid, needed, funds, params)
    if plan.commands:
        return MarginVerdict(level, ratio, plan.commands, plan.funds_left)
    if ratio < params.margin_topup_ratio:
        return MarginVerdict(MarginLevel.RESET, ratio, (ResetCarry(
            pid, f"{where} below top-up ratio {params.margin_topup_ratio} and no free USDT "
            f"for the {needed} USDT top-up"),), funds)
    return MarginVerdict(level, ratio, (Alert(
        AlertLevel.WARNING, f"{where} still low after a top-up; no free USDT for {needed} more",
        pid),), funds)
