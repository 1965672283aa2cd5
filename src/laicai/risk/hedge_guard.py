"""Hedge repair: the spot leg (coin held incl. Simple Earn, or coin owed) and the perp must
match (seed 000: rebalance when spot/perp deviate by more than 1%).

Rule. With ``S = spot_base`` and ``P = perp_base`` (magnitudes):

- deviation ``|S - P| / P > hedge_deviation_ratio`` -> ``Rebalance``;
- naked exposure ``|S - P| x index price > max_naked_usd`` -> ``Rebalance(urgent=True)``; if it
  has been above the limit for longer than ``max_naked_ms`` (``naked_since_ms``), also an
  ERROR alert: the engine failed to repair it in time.

Which leg, and how much: the **larger leg is shrunk to the smaller** (``base_qty = -(|S-P|)``,
rounded *down* to ``base_step`` so the trim never overshoots). The hedge never grows: no new
capital is needed, margin only improves, and it is the direction the execution layer already
repairs a dead leg in (shrink the live leg to match). Typical causes are all "one leg lost
some": Earn interest accrues (S grows: sell the interest), a coin fee or an ADL/partial
liquidation shrinks a leg (trim the other). Growing the smaller leg back would be adding to a
position, which risk never commands (:func:`laicai.risk.commands.adds_to_position`).

A carry with no perp left (``P = 0``) and coin still held is entirely naked: the spot is
trimmed to 0 the same way.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from laicai.domain.instrument import round_to_step
from laicai.risk.commands import Alert, AlertLevel, Command, Leg, Rebalance
from laicai.risk.params import RiskParams
from laicai.risk.state import CarryView

ZERO = Decimal(0)


def deviation(view: CarryView) -> Decimal | None:
    """``|S - P| / P``; None when the perp is flat (any coin left is then all naked)."""
    if view.perp_base <= 0:
        return None
    return view.naked_base / view.perp_base


def evaluate(view: CarryView, params: RiskParams, now_ms: int) -> list[Command]:
    excess = view.naked_base
    if excess <= 0:
        return []
    dev = deviation(view)
    naked = view.naked_usdt
    urgent = naked > params.max_naked_usd
    if not urgent and dev is not None and dev <= params.hedge_deviation_ratio:
        return []
    trim = round_to_step(excess, view.base_step, ROUND_DOWN) if view.base_step > 0 else excess
    commands: list[Command] = []
    shown = "flat perp" if dev is None else f"deviation {dev:.4%}"
    if trim > 0:
        leg = Leg.SPOT if view.spot_base > view.perp_base else Leg.PERP
        commands.append(Rebalance(
            view.position_id, leg, -trim, urgent=urgent,
            reason=f"spot {view.spot_base} vs perp {view.perp_base}: {shown}, naked "
                   f"{naked:.2f} USDT"))
    since = view.naked_since_ms
    if urgent and since is not None and now_ms - since > params.max_naked_ms:
        commands.append(Alert(
            AlertLevel.ERROR,
            f"{view.symbol}: naked {naked:.2f} USDT for {now_ms - since} ms "
            f"(limit {params.max_naked_usd} USDT within {params.max_naked_ms} ms)",
            view.position_id))
    return commands
