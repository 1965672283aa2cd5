"""Portfolio limits on a new carry: may it open, and how big (seed 000 开仓条件 / 风控审批).

Vetoes: the scanner did not accept it (or left its size empty); leverage above 3; already
``max_open_positions`` carries; a carry on the same coin is open (one carry per symbol: by
base currency or either instrument id).

Caps, each a scale factor on the planned size, the smallest applied (risk only shrinks):

- ``account.max_position_value`` over the leg notional;
- capital per trade: ``capital_per_trade_ratio x planning equity x max_trade_multiple``
  (``max_trade_multiple`` is 2 with dynamic sizing, else 1);
- total capital: planning equity minus the capital the open carries committed;
- free USDT: trading plus funding available.

Planning equity is the account's total equity, capped by ``account.total_capital`` when set.
When the capital left for a new carry (the standard trade, the total capital not committed,
the free USDT) is under ``min_trade_fraction`` of the standard capital per trade, the carry is
vetoed (``NO_CAPITAL``) rather than opened as a crumb - the scanner's own rule; the
``max_position_value`` cap does not make a crumb (it is the largest carry allowed on a coin).
"""

from __future__ import annotations

from decimal import Decimal

from laicai.risk.commands import Approval, Veto, VetoCode
from laicai.risk.params import MAX_LEVERAGE, RiskParams
from laicai.risk.state import AccountView
from laicai.strategy.opportunity import Opportunity

ONE = Decimal(1)
ZERO = Decimal(0)


def planning_equity(account: AccountView, params: RiskParams) -> Decimal:
    equity = account.total_equity_usdt
    if params.total_capital is not None:
        equity = min(equity, params.total_capital)
    return max(ZERO, equity)


def held(opportunity: Opportunity, account: AccountView) -> bool:
    names = {opportunity.base, opportunity.swap_inst_id}
    if opportunity.spot_inst_id is not None:
        names.add(opportunity.spot_inst_id)
    return bool(names & account.held_symbols)


def check_entry(opportunity: Opportunity, account: AccountView,
                params: RiskParams) -> Approval | Veto:
    o = opportunity
    if (not o.accepted or o.base_qty is None or o.capital_usdt is None
            or o.notional_usdt is None or o.base_qty <= 0 or o.capital_usdt <= 0
            or o.notional_usdt <= 0):
        why = o.reject_reason or "no size"
        return Veto(VetoCode.NOT_ACCEPTED, f"{o.swap_inst_id} not accepted by the scanner: {why}")
    if params.leverage > MAX_LEVERAGE:
        return Veto(VetoCode.LEVERAGE, f"leverage {params.leverage} > {MAX_LEVERAGE}")
    if account.open_positions_count >= params.max_open_positions:
        return Veto(VetoCode.MAX_POSITIONS, f"{account.open_positions_count} carries open, "
                                            f"max_open_positions = {params.max_open_positions}")
    if held(o, account):
        return Veto(VetoCode.ALREADY_HELD, f"a carry on {o.base} is already open")
    base_qty, capital, notional = o.base_qty, o.capital_usdt, o.notional_usdt
    equity = planning_equity(account, params)
    standard = equity * params.capital_per_trade_ratio
    caps = {
        "max_position_value": params.max_position_value / notional,
        "capital_per_trade": standard * params.max_trade_multiple / capital,
        "total_capital": (equity - account.committed_capital_usdt) / capital,
        "free_usdt": account.funds.total_usdt / capital,
    }
    name, scale = min(caps.items(), key=lambda item: item[1])
    notes: tuple[str, ...] = ()
    if scale < ONE:
        notes = (f"scaled to {scale:.4f} by {name}",)
    else:
        scale = ONE
    # a crumb: the capital left for a new carry is under a fraction of the standard. The
    # scanner's rule, judged before max_position_value caps the carry: a carry small because
    # of that cap is as big as a carry on its coin may be (judging it after the cap vetoed
    # every carry of an account whose standard trade is past the cap)
    room = {"capital_per_trade": standard * params.max_trade_multiple,
            "total_capital": equity - account.committed_capital_usdt,
            "free_usdt": account.funds.total_usdt}
    short, left = min(room.items(), key=lambda item: item[1])
    if scale <= 0 or left < standard * params.min_trade_fraction:
        return Veto(VetoCode.NO_CAPITAL, f"{short} leaves {max(ZERO, left):.2f} USDT, less "
                                         f"than {params.min_trade_fraction} of the standard "
                                         f"{standard:.2f}")
    return Approval(base_qty * scale, capital * scale, notional * scale, scale, notes)
