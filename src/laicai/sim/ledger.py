"""Money views of an account: equity, margin requirements, OKX's mgnRatio and liqPx.

Single-currency margin (acctLv 2, OKX's "Spot and futures mode"): USDT-margined swaps in cross
mode are backed by the USDT equity alone; coins held in spot do not count as margin, which is
exactly why a carry position's perp leg can run out of margin while its spot leg gains. Borrowed
coin that was sold counts against that USDT equity (its negative coin equity at index). In
multi-currency margin (acctLv 3) coins count at a discount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from laicai.sim import margin
from laicai.sim.account import Account, Position

if TYPE_CHECKING:
    from laicai.sim.exchange import SimExchange

ZERO = Decimal(0)
COLLATERAL_DISCOUNT = Decimal("0.9")  # acctLv 3: value of a coin as margin
SPOT_MARGIN_LEVER = Decimal(5)  # initial margin for borrowed coin = value / 5


@dataclass(frozen=True, slots=True)
class PositionView:
    inst_id: str
    pos: Decimal
    base_qty: Decimal  # signed
    avg_px: Decimal
    mark_px: Decimal
    notional: Decimal
    upl: Decimal
    imr: Decimal
    mmr: Decimal
    lever: int
    margin: Decimal  # isolated: margin held; cross: imr
    mgn_ratio: Decimal | None
    liq_px: Decimal | None


@dataclass(frozen=True, slots=True)
class UsdtMargin:
    """The USDT cross-margin pool of an account."""

    equity: Decimal  # USDT equity backing cross positions
    upl: Decimal
    imr: Decimal
    mmr: Decimal
    frozen: Decimal
    avail_eq: Decimal
    mgn_ratio: Decimal | None


def lever_of(acct: Account, inst_id: str, mgn_mode: str) -> int:
    return acct.leverage.get((inst_id, mgn_mode), DEFAULT_LEVER)


DEFAULT_LEVER = 3


def position_view(ex: SimExchange, acct: Account, pos: Position, pool: UsdtMargin | None = None
                  ) -> PositionView:
    inst = ex.instruments[pos.inst_id]
    mark = ex.mark_px(pos.inst_id)
    q = pos.pos * inst.ct_val
    notional = abs(q) * mark
    upl = margin.upl(q, pos.avg_px, mark)
    lever = lever_of(acct, pos.inst_id, pos.mgn_mode)
    imr = notional / lever
    rate = margin.mmr_rate(notional)
    mmr = notional * rate
    if pos.mgn_mode == "isolated":
        eq = pos.margin + upl
        ratio = margin.mgn_ratio(eq, mmr)
        liq = margin.liquidation_price(q, mark, eq)
        held = pos.margin
    else:
        pool = pool or usdt_margin(ex, acct)
        ratio = pool.mgn_ratio
        liq = margin.liquidation_price(q, mark, pool.equity - (pool.mmr - mmr))
        held = imr
    return PositionView(pos.inst_id, pos.pos, q, pos.avg_px, mark, notional, upl, imr, mmr,
                        lever, held, ratio, liq)


def usdt_margin(ex: SimExchange, acct: Account) -> UsdtMargin:
    usdt = acct.trading.get("USDT")
    equity = (usdt.cash - usdt.liab) if usdt is not None else ZERO
    frozen = usdt.frozen if usdt is not None else ZERO
    upl = imr = mmr = ZERO
    for pos in acct.positions.values():
        if pos.pos == 0 or pos.mgn_mode != "cross":
            continue
        inst = ex.instruments[pos.inst_id]
        mark = ex.mark_px(pos.inst_id)
        q = pos.pos * inst.ct_val
        notional = abs(q) * mark
        upl += margin.upl(q, pos.avg_px, mark)
        imr += notional / lever_of(acct, pos.inst_id, "cross")
        mmr += notional * margin.mmr_rate(notional)
    for ccy, bal in acct.trading.items():
        if ccy == "USDT":
            continue
        net = bal.cash - bal.liab
        if net < 0 or bal.liab > 0 or (acct.acct_lv >= 3 and net > 0):
            px = ex.index_px(ccy)
            if net < 0:
                equity += net * px
            elif acct.acct_lv >= 3:
                equity += net * px * COLLATERAL_DISCOUNT
            if bal.liab > 0:
                liab_value = bal.liab * px
                imr += liab_value / SPOT_MARGIN_LEVER
                mmr += liab_value * margin.BORROW_MMR
    equity += upl
    avail = equity - imr - frozen
    return UsdtMargin(equity, upl, imr, mmr, frozen, avail, margin.mgn_ratio(equity, mmr))


def total_equity_usdt(ex: SimExchange, acct: Account) -> Decimal:
    """Everything the account owns minus what it owes, in USDT at index prices: trading
    (cash - liabilities + isolated margin + unrealised PnL), funding, Earn and redemptions
    in flight."""
    total = ZERO
    for ccy, bal in acct.trading.items():
        total += (bal.cash - bal.liab) * ex.index_px(ccy)
    for pos in acct.positions.values():
        if pos.pos == 0 and pos.margin == 0:
            continue
        inst = ex.instruments[pos.inst_id]
        total += pos.margin + margin.upl(pos.pos * inst.ct_val, pos.avg_px,
                                         ex.mark_px(pos.inst_id))
    for ccy, amt in acct.funding.items():
        total += amt * ex.index_px(ccy)
    for ccy, amt in acct.savings.items():
        total += amt * ex.index_px(ccy)
    for r in acct.redemptions:
        total += r.amt * ex.index_px(r.ccy)
    return total


def max_transferable(ex: SimExchange, acct: Account, ccy: str) -> Decimal:
    """What may leave the trading account: free cash, and for USDT no more than the margin
    pool can spare."""
    bal = acct.trading.get(ccy)
    if bal is None:
        return ZERO
    free = bal.cash - bal.frozen - bal.liab
    if ccy == "USDT":
        free = min(free, usdt_margin(ex, acct).avail_eq)
    return max(free, ZERO)
