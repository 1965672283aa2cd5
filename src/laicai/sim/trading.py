"""Trading rules of the simulated OKX: orders, matching, fills, and every balance change.

Each function takes the :class:`~laicai.sim.exchange.SimExchange` and an account and raises
:class:`~laicai.sim.errors.SimError` with OKX's code when OKX would refuse. Every change of a
balance writes a bill, so the books always reconcile.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from laicai.sim import margin
from laicai.sim.account import (
    FUNDING,
    TRADING,
    Account,
    Bill,
    Fill,
    Order,
    Position,
    Redemption,
    Transfer,
)
from laicai.sim.book import round_down
from laicai.sim.errors import SimError, err
from laicai.sim.instruments import SimInstrument
from laicai.sim.ledger import lever_of, max_transferable, position_view, usdt_margin

if TYPE_CHECKING:
    from laicai.sim.exchange import SimExchange

ZERO = Decimal(0)
_HOURS_PER_YEAR = Decimal(8760)
# PnL, funding, accruals and isolated margins are kept to 18 decimals (OKX shows ~16),
# so running sums stay exact in Decimal's 28 digits.
ACCRUAL_QUANTUM = Decimal("1e-18")
_CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
ORD_TYPES = ("market", "limit", "post_only", "fok", "ioc", "optimal_limit_ioc")
_TAKER_ONLY = ("market", "fok", "ioc", "optimal_limit_ioc")


def _dec(value: object, name: str, *, positive: bool = True) -> Decimal:
    if value is None or value == "":
        raise err("50014", param0=name)
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise err("51000", param0=name) from None
    if not d.is_finite() or (positive and d <= 0):
        raise err("51000", param0=name)
    return d


# ---------------------------------------------------------------------- bills
def _bill(ex: SimExchange, acct: Account, ccy: str, bal_chg: Decimal, type_: str, sub: str,
          **kw: object) -> Bill:
    bal = acct.bal(ccy)
    b = Bill(bill_id=ex.next_id(), ts_ms=ex.clock.now_ms(), ccy=ccy, bal_chg=bal_chg,
             bal=bal.cash, type=type_, sub_type=sub, **kw)  # type: ignore[arg-type]
    acct.bills.append(b)
    return b


def _asset_bill(ex: SimExchange, acct: Account, ccy: str, bal_chg: Decimal, type_: str,
                notes: str = "") -> Bill:
    b = Bill(bill_id=ex.next_id(), ts_ms=ex.clock.now_ms(), ccy=ccy, bal_chg=bal_chg,
             bal=acct.funding.get(ccy, ZERO), type=type_, sub_type="", notes=notes)
    acct.asset_bills.append(b)
    return b


def _credit(ex: SimExchange, acct: Account, ccy: str, amt: Decimal) -> None:
    b = acct.bal(ccy)
    b.cash += amt
    b.u_time_ms = ex.clock.now_ms()


# ---------------------------------------------------------------------- orders
def place_order(ex: SimExchange, acct: Account, req: dict[str, object]) -> Order:
    """Validate, match and book one order as OKX's ``trade/order`` would."""
    inst_id = str(req.get("instId") or "")
    if not inst_id:
        raise err("50014", param0="instId")
    inst = ex.instrument(inst_id)
    if inst.state != "live":
        raise err("51155")
    side = str(req.get("side") or "")
    if side not in ("buy", "sell"):
        raise err("51000", param0="side")
    ord_type = str(req.get("ordType") or "")
    if ord_type not in ORD_TYPES:
        raise err("51000", param0="ordType")
    td_mode = str(req.get("tdMode") or "")
    allowed = ("cross", "isolated") if inst.is_swap else ("cash", "cross", "isolated")
    if td_mode not in allowed:
        raise err("51000", param0="tdMode")
    if inst.is_swap and acct.acct_lv < 2:
        raise err("51010")
    cl = str(req.get("clOrdId") or "")
    if cl and not _CL_ORD_ID.match(cl):
        raise err("51000", param0="clOrdId")
    if cl and cl in acct.orders_by_cl:
        raise err("51016")
    sz = _dec(req.get("sz"), "sz")
    tgt_ccy = str(req.get("tgtCcy") or "")
    quote_sz = (not inst.is_swap and ord_type == "market" and side == "buy"
                and tgt_ccy != "base_ccy") or (not inst.is_swap and tgt_ccy == "quote_ccy")
    if not quote_sz:
        if sz % inst.lot_sz != 0:
            raise err("51121")
        if sz < inst.min_sz:
            raise err("51020")
    px: Decimal | None = None
    if ord_type in ("limit", "post_only", "fok", "ioc"):
        px = _dec(req.get("px"), "px")
        if px % inst.tick_sz != 0:
            raise err("51000", param0="px")
    reduce_only = str(req.get("reduceOnly", "")).lower() == "true"
    pos_side = str(req.get("posSide") or "")
    if pos_side not in ("", "net"):
        raise err("51000", param0="posSide")
    if reduce_only:
        if not inst.is_swap:
            raise err("51205")
        pos = acct.positions.get(inst_id)
        have = pos.pos if pos is not None else ZERO
        if (side == "buy" and have >= 0) or (side == "sell" and have <= 0):
            raise err("51169")
        if sz > abs(have):
            raise err("51138")
    now = ex.clock.now_ms()
    order = Order(
        ord_id=ex.next_id(), cl_ord_id=cl, inst_id=inst_id, inst_type=inst.inst_type,
        side=side, ord_type=ord_type, td_mode=td_mode, sz=sz, px=px, tgt_ccy=tgt_ccy,
        reduce_only=reduce_only, pos_side="net" if inst.is_swap else "",
        tag=str(req.get("tag") or ""), ccy=str(req.get("ccy") or ""),
        lever=str(lever_of(acct, inst_id, td_mode)) if inst.is_swap else "",
        c_time_ms=now, u_time_ms=now,
    )
    fault = ex.faults.take("partial_fill", inst_id=inst_id, side=side)
    if fault is not None:
        order.max_fill_sz = max(round_down(sz * fault.ratio, inst.lot_sz), inst.lot_sz)
        if order.max_fill_sz >= sz:
            order.max_fill_sz = sz - inst.lot_sz if sz > inst.lot_sz else None
    _match_new(ex, acct, inst, order, quote_sz)
    acct.orders[order.ord_id] = order
    if cl:
        acct.orders_by_cl[cl] = order
    if order.is_open:
        acct.open_orders[order.ord_id] = order
    ex.emit("order", acct.name, order.ord_id)
    return order


def _match_new(ex: SimExchange, acct: Account, inst: SimInstrument, order: Order,
               quote_sz: bool) -> None:
    book = ex.book(inst.inst_id)
    side = order.side
    limit = order.px if order.ord_type != "optimal_limit_ioc" else None
    if order.ord_type == "post_only":
        opp = book.best_ask() if side == "buy" else book.best_bid()
        assert order.px is not None
        if opp is not None and (order.px >= opp if side == "buy" else order.px <= opp):
            order.state = "canceled"
            order.cancel_source = "31"  # post-only order would have taken liquidity
            return
        _check_afford(ex, acct, inst, order, [], rest=order.sz)
        _rest(ex, acct, inst, order)
        return
    want = order.sz if order.max_fill_sz is None else order.max_fill_sz
    fills = book.take(side, want, limit, quote_budget=quote_sz, dry=True)
    filled = sum((f[1] for f in fills), ZERO)
    if order.ord_type == "fok" and filled < order.sz:
        order.state = "canceled"
        order.cancel_source = "14"  # FOK could not fill in full
        return
    rest = order.sz - filled if order.ord_type == "limit" and not quote_sz else ZERO
    if order.max_fill_sz is not None:
        rest = ZERO
    _check_afford(ex, acct, inst, order, fills, rest=rest)
    if quote_sz:
        order.tgt_ccy = order.tgt_ccy or "quote_ccy"
    book.take(side, want, limit, quote_budget=quote_sz)
    for px, qty in fills:
        apply_fill(ex, acct, inst, order, px, qty, maker=False)
    if rest > 0:
        _rest(ex, acct, inst, order)
    elif quote_sz:
        order.state = "filled" if fills else "canceled"
    elif order.acc_fill_sz < order.sz:
        order.state = "canceled"
        order.cancel_source = "1" if order.ord_type != "market" else "20"


def _check_afford(ex: SimExchange, acct: Account, inst: SimInstrument, order: Order,
                  fills: list[tuple[Decimal, Decimal]], rest: Decimal) -> None:
    """Refuse (51008) an order the account cannot pay for; borrow for spot cross margin."""
    if inst.is_swap:
        opening = _opening_qty(acct, inst.inst_id, order.side,
                               sum((f[1] for f in fills), ZERO) + rest)
        if opening <= 0:
            return
        px_ref = fills[-1][0] if fills else (order.px or ex.mark_px(inst.inst_id))
        lever = lever_of(acct, inst.inst_id, order.td_mode)
        need = opening * inst.ct_val * px_ref / lever
        need += opening * inst.ct_val * px_ref * acct.fees.rate(True, False)
        if order.td_mode == "isolated":
            bal = acct.bal("USDT")
            have = min(bal.cash - bal.frozen - bal.liab, usdt_margin(ex, acct).avail_eq)
        else:
            have = usdt_margin(ex, acct).avail_eq
        if need > have:
            raise err("51008", "Order failed. Insufficient USDT margin in account")
        return
    if order.side == "buy":
        ccy = inst.quote_ccy
        need = sum((p * q for p, q in fills), ZERO) + (order.px or ZERO) * rest
    else:
        ccy = inst.base_ccy
        need = sum((f[1] for f in fills), ZERO) + rest
    bal = acct.bal(ccy)
    free = bal.cash - bal.frozen
    if need <= free:
        return
    if order.td_mode == "cross" and rest == 0:
        _borrow(ex, acct, ccy, need - free, auto=True)
        return
    raise err("51008", f"Order failed. Insufficient {ccy} balance in account")


def _opening_qty(acct: Account, inst_id: str, side: str, qty: Decimal) -> Decimal:
    pos = acct.positions.get(inst_id)
    have = pos.pos if pos is not None else ZERO
    signed = qty if side == "buy" else -qty
    if have == 0 or (have > 0) == (signed > 0):
        return qty
    return max(abs(signed) - abs(have), ZERO)


def _rest(ex: SimExchange, acct: Account, inst: SimInstrument, order: Order) -> None:
    """Leave the unfilled part on the book, freezing what it may spend."""
    assert order.px is not None
    remaining = order.remaining
    if inst.is_swap:
        ccy = "USDT"
        opening = _opening_qty(acct, inst.inst_id, order.side, remaining)
        amt = opening * inst.ct_val * order.px / lever_of(acct, inst.inst_id, order.td_mode)
    elif order.side == "buy":
        ccy, amt = inst.quote_ccy, remaining * order.px
    else:
        ccy, amt = inst.base_ccy, remaining
    order.frozen_ccy = ccy
    order.frozen_amt = amt
    acct.bal(ccy).frozen += amt
    order.state = "partially_filled" if order.acc_fill_sz > 0 else "live"


def _unfreeze(acct: Account, order: Order, fraction: Decimal | None = None) -> None:
    if not order.frozen_amt:
        return
    amt = order.frozen_amt if fraction is None else order.frozen_amt * fraction
    acct.bal(order.frozen_ccy).frozen -= amt
    order.frozen_amt -= amt


def cancel_order(ex: SimExchange, acct: Account, inst_id: str, ord_id: str = "",
                 cl_ord_id: str = "") -> Order:
    order = find_order(acct, inst_id, ord_id, cl_ord_id)
    if order is None:
        raise err("51400")
    if order.state == "canceled":
        raise err("51401")
    if order.state == "filled":
        raise err("51402")
    _unfreeze(acct, order)
    order.state = "canceled"
    order.cancel_source = "0"
    order.u_time_ms = ex.clock.now_ms()
    acct.open_orders.pop(order.ord_id, None)
    ex.emit("order", acct.name, order.ord_id)
    return order


def amend_order(ex: SimExchange, acct: Account, req: dict[str, object]) -> Order:
    order = find_order(acct, str(req.get("instId") or ""), str(req.get("ordId") or ""),
                       str(req.get("clOrdId") or ""))
    if order is None or not order.is_open:
        raise err("51503")
    inst = ex.instrument(order.inst_id)
    new_sz = req.get("newSz")
    new_px = req.get("newPx")
    if new_sz not in (None, ""):
        sz = _dec(new_sz, "newSz")
        if sz % inst.lot_sz != 0 or sz <= order.acc_fill_sz:
            raise err("51000", param0="newSz")
        order.sz = sz
    if new_px not in (None, ""):
        px = _dec(new_px, "newPx")
        if px % inst.tick_sz != 0:
            raise err("51000", param0="newPx")
        order.px = px
    _unfreeze(acct, order)
    _rest(ex, acct, inst, order)
    order.u_time_ms = ex.clock.now_ms()
    cross_resting(ex, order.inst_id)
    ex.emit("order", acct.name, order.ord_id)
    return order


def find_order(acct: Account, inst_id: str, ord_id: str = "", cl_ord_id: str = ""
               ) -> Order | None:
    order = acct.orders.get(ord_id) if ord_id else acct.orders_by_cl.get(cl_ord_id)
    if order is None or (inst_id and order.inst_id != inst_id):
        return None
    return order


def cross_resting(ex: SimExchange, inst_id: str) -> None:
    """Fill resting limit orders the fresh book now crosses, at their own price (maker)."""
    book = ex.books[inst_id]
    inst = ex.instruments[inst_id]
    for acct in ex.accounts.values():
        if not acct.open_orders:
            continue
        for order in list(acct.open_orders.values()):
            if order.inst_id != inst_id or order.px is None:
                continue
            cap = order.remaining
            if order.max_fill_sz is not None:
                cap = min(cap, order.max_fill_sz - order.acc_fill_sz)
            if cap <= 0:
                continue
            got = book.take(order.side, cap, order.px)
            qty = sum((g[1] for g in got), ZERO)
            if qty <= 0:
                continue
            _unfreeze(acct, order, qty / order.remaining)
            apply_fill(ex, acct, inst, order, order.px, qty, maker=True)
            if not order.is_open:
                _unfreeze(acct, order)
                acct.open_orders.pop(order.ord_id, None)
            ex.emit("order", acct.name, order.ord_id)


# ---------------------------------------------------------------------- fills
def apply_fill(ex: SimExchange, acct: Account, inst: SimInstrument, order: Order,
               px: Decimal, qty: Decimal, *, maker: bool) -> Fill:
    now = ex.clock.now_ms()
    rate = acct.fees.rate(inst.is_swap, maker)
    trade_id = ex.next_id()
    exec_type = "M" if maker else "T"
    common = dict(inst_id=inst.inst_id, inst_type=inst.inst_type, mgn_mode=order.td_mode,
                  ord_id=order.ord_id, cl_ord_id=order.cl_ord_id, trade_id=trade_id,
                  exec_type=exec_type, px=px, tag=order.tag)
    pnl = ZERO
    if inst.is_swap:
        fee = qty * inst.ct_val * px * rate
        fee_ccy = inst.settle_ccy
        pnl, sub, pos_chg = _apply_swap(ex, acct, inst, order, px, qty, fee, trade_id)
        _credit(ex, acct, fee_ccy, pnl - fee - pos_chg)
        bill = _bill(ex, acct, fee_ccy, pnl - fee - pos_chg, "2", sub, sz=qty, pnl=pnl,
                     fee=-fee, pos_bal_chg=pos_chg,
                     pos_bal=acct.positions[inst.inst_id].margin,
                     fill_mark_px=ex.mark_px(inst.inst_id),
                     fill_idx_px=ex.index_px(inst.base_ccy), **common)
    elif order.side == "buy":
        fee = qty * rate
        fee_ccy = inst.base_ccy
        _credit(ex, acct, inst.quote_ccy, -qty * px)
        _bill(ex, acct, inst.quote_ccy, -qty * px, "2", "2", sz=qty * px, **common)
        _credit(ex, acct, inst.base_ccy, qty - fee)
        bill = _bill(ex, acct, inst.base_ccy, qty - fee, "2", "1", sz=qty, fee=-fee,
                     fill_idx_px=ex.index_px(inst.base_ccy), **common)
    else:
        fee = qty * px * rate
        fee_ccy = inst.quote_ccy
        _credit(ex, acct, inst.base_ccy, -qty)
        _bill(ex, acct, inst.base_ccy, -qty, "2", "2", sz=qty, **common)
        _credit(ex, acct, inst.quote_ccy, qty * px - fee)
        bill = _bill(ex, acct, inst.quote_ccy, qty * px - fee, "2", "1", sz=qty * px,
                     fee=-fee, fill_idx_px=ex.index_px(inst.base_ccy), **common)
    order.acc_fill_sz += qty
    order.fill_notional += qty * px
    order.fee -= fee
    order.fee_ccy = fee_ccy
    order.pnl += pnl
    order.last_fill_px, order.last_fill_sz, order.last_fill_ts_ms = px, qty, now
    order.trade_id, order.exec_type, order.u_time_ms = trade_id, exec_type, now
    if order.acc_fill_sz >= order.sz:
        order.state = "filled"
    elif order.is_open:
        order.state = "partially_filled"
    fill = Fill(trade_id, order.ord_id, order.cl_ord_id, inst.inst_id, inst.inst_type,
                order.side, px, qty, -fee, fee_ccy, exec_type, now,
                pos_side="net" if inst.is_swap else "", bill_id=bill.bill_id, tag=order.tag)
    acct.fills.append(fill)
    if inst.is_swap:
        ex.emit("position", acct.name, inst.inst_id)
    ex.emit("balance", acct.name, fee_ccy)
    return fill


def _apply_swap(ex: SimExchange, acct: Account, inst: SimInstrument, order: Order,
                px: Decimal, qty: Decimal, fee: Decimal, trade_id: str
                ) -> tuple[Decimal, str, Decimal]:
    """Update the net position; returns (realised pnl, bill subType, margin moved into an
    isolated position from cash)."""
    now = ex.clock.now_ms()
    pos = acct.positions.get(inst.inst_id)
    if pos is None or (pos.pos == 0 and pos.mgn_mode != order.td_mode):
        pos = Position(inst.inst_id, order.td_mode, ex.next_id(), c_time_ms=now)
        acct.positions[inst.inst_id] = pos
    elif pos.pos != 0 and pos.mgn_mode != order.td_mode:
        raise SimError("51000", "Parameter tdMode error: position is in "
                       f"{pos.mgn_mode} margin mode")
    old = pos.pos
    signed = qty if order.side == "buy" else -qty
    pnl = ZERO
    pos_chg = ZERO
    lever = lever_of(acct, inst.inst_id, pos.mgn_mode)
    if old == 0 or (old > 0) == (signed > 0):
        new = old + signed
        pos.avg_px = (abs(old) * pos.avg_px + qty * px) / abs(new)
        pos.pos = new
        opened, closed = qty, ZERO
        sub = "3" if signed > 0 else "4"
    else:
        closed = min(qty, abs(old))
        opened = qty - closed
        direction = Decimal(1) if old > 0 else Decimal(-1)
        pnl = (closed * inst.ct_val * (px - pos.avg_px) * direction).quantize(ACCRUAL_QUANTUM)
        if pos.mgn_mode == "isolated" and old != 0:
            release = (pos.margin * closed / abs(old)).quantize(ACCRUAL_QUANTUM)
            pos.margin -= release
            pos_chg -= release
        pos.pos = old + signed
        if opened > 0:
            pos.avg_px = px
        elif pos.pos == 0:
            pos.avg_px = ZERO
        sub = "5" if old > 0 else "6"
    if pos.mgn_mode == "isolated" and opened > 0:
        add = (opened * inst.ct_val * px / lever).quantize(ACCRUAL_QUANTUM)
        pos.margin += add
        pos_chg += add
    pos.realized_pnl += pnl - fee
    pos.fee -= fee
    pos.u_time_ms = now
    pos.last_trade_id = trade_id
    return pnl, sub, pos_chg


def book_funding(ex: SimExchange, acct: Account, inst: SimInstrument, pos: Position,
                 fee: Decimal, mark: Decimal, at_ms: int) -> None:
    fee = fee.quantize(ACCRUAL_QUANTUM)
    sub = "174" if fee > 0 else "173"
    pos.funding_fee += fee
    pos.realized_pnl += fee
    if pos.mgn_mode == "isolated":
        pos.margin += fee
        _bill(ex, acct, inst.settle_ccy, ZERO, "8", sub, inst_id=inst.inst_id,
              inst_type=inst.inst_type, mgn_mode=pos.mgn_mode, sz=abs(pos.pos), px=mark,
              pnl=fee, pos_bal_chg=fee, pos_bal=pos.margin)
    else:
        _credit(ex, acct, inst.settle_ccy, fee)
        _bill(ex, acct, inst.settle_ccy, fee, "8", sub, inst_id=inst.inst_id,
              inst_type=inst.inst_type, mgn_mode=pos.mgn_mode, sz=abs(pos.pos), px=mark,
              pnl=fee)
    acct.bills[-1].ts_ms = at_ms
    ex.emit("position", acct.name, inst.inst_id)
    ex.emit("balance", acct.name, inst.settle_ccy)


# ---------------------------------------------------------------------- time-driven
def accrue_hourly(ex: SimExchange, ts_ms: int) -> None:
    """Hourly borrow interest (added to the liability) and Simple Earn interest (added to
    the savings balance), as OKX accrues both."""
    for acct in ex.accounts.values():
        for ccy, bal in acct.trading.items():
            if bal.liab <= 0:
                continue
            apr = ex.plan.currency(ccy).borrow_apr
            interest = (bal.liab * apr / _HOURS_PER_YEAR).quantize(ACCRUAL_QUANTUM)
            if interest <= 0:
                continue
            bal.liab += interest
            bal.interest += interest
            b = _bill(ex, acct, ccy, ZERO, "7", "9", interest=interest, notes="borrow interest")
            b.ts_ms = ts_ms
            acct.interest_accrued.append({
                "ccy": ccy, "instId": "", "interest": str(interest),
                "interestRate": str(apr / _HOURS_PER_YEAR), "liab": str(bal.liab),
                "mgnMode": "cross", "ts": str(ts_ms), "type": "2",
            })
            ex.emit("balance", acct.name, ccy)
        for ccy, amt in list(acct.savings.items()):
            if amt <= 0:
                continue
            apr = ex.plan.currency(ccy).earn_apr
            earned = (amt * apr / _HOURS_PER_YEAR).quantize(ACCRUAL_QUANTUM)
            if earned <= 0:
                continue
            acct.savings[ccy] = amt + earned
            acct.savings_earnings[ccy] = acct.savings_earnings.get(ccy, ZERO) + earned
            b = _asset_bill(ex, acct, ccy, earned, "150", "Simple Earn interest")
            b.ts_ms = ts_ms


def settle_redemptions(ex: SimExchange, acct: Account, now_ms: int) -> None:
    due = [r for r in acct.redemptions if r.due_ms <= now_ms]
    if not due:
        return
    acct.redemptions = [r for r in acct.redemptions if r.due_ms > now_ms]
    for r in due:
        acct.funding[r.ccy] = acct.funding.get(r.ccy, ZERO) + r.amt
        _asset_bill(ex, acct, r.ccy, r.amt, "52", "Simple Earn redemption arrived")
        ex.emit("balance", acct.name, r.ccy)


def check_liquidations(ex: SimExchange) -> None:
    """Liquidate positions whose margin ratio reached 100% (OKX: mgnRatio <= 1)."""
    for acct in ex.accounts.values():
        live = [p for p in acct.positions.values() if p.pos != 0]
        if not live:
            continue
        pool = None
        if any(p.mgn_mode == "cross" for p in live):
            pool = usdt_margin(ex, acct)
            if pool.mgn_ratio is not None and pool.mgn_ratio <= 1:
                for p in live:
                    if p.mgn_mode == "cross":
                        _liquidate(ex, acct, p)
        for p in live:
            if p.mgn_mode == "isolated" and p.pos != 0:
                view = position_view(ex, acct, p)
                if view.mgn_ratio is not None and view.mgn_ratio <= 1:
                    _liquidate(ex, acct, p)


def _liquidate(ex: SimExchange, acct: Account, pos: Position) -> None:
    inst = ex.instruments[pos.inst_id]
    mark = ex.mark_px(pos.inst_id)
    qty = abs(pos.pos)
    long = pos.pos > 0
    pnl = (pos.pos * inst.ct_val * (mark - pos.avg_px)).quantize(ACCRUAL_QUANTUM)
    fee = (qty * inst.ct_val * mark * margin.LIQUIDATION_FEE_RATE).quantize(ACCRUAL_QUANTUM)
    released = pos.margin
    for order in [o for o in acct.open_orders.values() if o.inst_id == pos.inst_id]:
        _unfreeze(acct, order)
        order.state = "canceled"
        order.cancel_source = "6"  # canceled by liquidation
        acct.open_orders.pop(order.ord_id, None)
        ex.emit("order", acct.name, order.ord_id)
    chg = pnl - fee + released
    if pos.mgn_mode == "isolated":
        chg = max(chg, ZERO)  # an isolated position can lose no more than its margin
    else:  # a cross account is not driven below zero: the insurance fund takes the rest
        chg = max(chg, -acct.bal(inst.settle_ccy).cash)
    _credit(ex, acct, inst.settle_ccy, chg)
    _bill(ex, acct, inst.settle_ccy, chg, "5", "104" if long else "105", inst_id=inst.inst_id,
          inst_type=inst.inst_type, mgn_mode=pos.mgn_mode, sz=qty, px=mark, pnl=pnl, fee=-fee,
          pos_bal_chg=-released, fill_mark_px=mark)
    pos.realized_pnl += pnl - fee
    pos.fee -= fee
    pos.pos = ZERO
    pos.avg_px = ZERO
    pos.margin = ZERO
    pos.u_time_ms = ex.clock.now_ms()
    ex.emit("liquidation", acct.name, pos.inst_id)
    ex.emit("position", acct.name, pos.inst_id)
    ex.emit("balance", acct.name, inst.settle_ccy)


# ---------------------------------------------------------------------- account ops
def set_leverage(ex: SimExchange, acct: Account, inst_id: str, lever: object,
                 mgn_mode: str) -> int:
    inst = ex.instrument(inst_id)
    if mgn_mode not in ("cross", "isolated"):
        raise err("51000", param0="mgnMode")
    try:
        lv = int(Decimal(str(lever)))
    except (InvalidOperation, ValueError):
        raise err("51000", param0="lever") from None
    if lv < 1:
        raise err("59107")
    if lv > inst.max_lever:
        raise err("59102")
    old = acct.leverage.get((inst_id, mgn_mode))
    acct.leverage[(inst_id, mgn_mode)] = lv
    if usdt_margin(ex, acct).avail_eq < 0:
        if old is None:
            del acct.leverage[(inst_id, mgn_mode)]
        else:
            acct.leverage[(inst_id, mgn_mode)] = old
        raise err("59200")
    return lv


def transfer(ex: SimExchange, acct: Account, ccy: str, amt: Decimal, from_: str, to: str,
             client_id: str = "") -> str:
    if from_ not in (FUNDING, TRADING) or to not in (FUNDING, TRADING) or from_ == to:
        raise err("51000", param0="from/to")
    if from_ == TRADING:
        if amt > max_transferable(ex, acct, ccy):
            raise err("58350")
        _credit(ex, acct, ccy, -amt)
        _bill(ex, acct, ccy, -amt, "1", "12", from_acct=from_, to_acct=to, sz=amt)
        acct.funding[ccy] = acct.funding.get(ccy, ZERO) + amt
        _asset_bill(ex, acct, ccy, amt, "131", "transfer from trading account")
    else:
        if amt > acct.funding.get(ccy, ZERO):
            raise err("58350")
        acct.funding[ccy] -= amt
        _asset_bill(ex, acct, ccy, -amt, "130", "transfer to trading account")
        _credit(ex, acct, ccy, amt)
        _bill(ex, acct, ccy, amt, "1", "11", from_acct=from_, to_acct=to, sz=amt)
    trans_id = ex.next_id()
    acct.transfers[trans_id] = Transfer(trans_id, client_id, ccy, amt, from_, to,
                                        ex.clock.now_ms())
    ex.emit("balance", acct.name, ccy)
    return trans_id


def earn_purchase(ex: SimExchange, acct: Account, ccy: str, amt: Decimal,
                  rate: Decimal | None) -> None:
    if amt > acct.funding.get(ccy, ZERO):
        raise err("51720", "Insufficient balance in funding account")
    acct.funding[ccy] -= amt
    _asset_bill(ex, acct, ccy, -amt, "149", "Simple Earn subscription")
    acct.savings[ccy] = acct.savings.get(ccy, ZERO) + amt
    if rate is not None:
        acct.lending_rate[ccy] = rate


def earn_redeem(ex: SimExchange, acct: Account, ccy: str, amt: Decimal) -> int:
    """Start a redemption; returns when (ms) the coin reaches the funding account."""
    if amt > acct.savings.get(ccy, ZERO):
        raise err("51720")
    acct.savings[ccy] -= amt
    delay = ex.plan.currency(ccy).redeem_delay_ms
    fault = ex.faults.take("earn_delay", ccy=ccy)
    if fault is not None:
        delay += fault.delay_ms
    due = ex.clock.now_ms() + delay
    acct.redemptions.append(Redemption(ccy, amt, due))
    settle_redemptions(ex, acct, ex.clock.now_ms())
    return due


def borrow_limit_left(ex: SimExchange, ccy: str) -> Decimal:
    limit = ex.plan.currency(ccy).borrow_limit
    return max(limit - ex.borrow_used.get(ccy, ZERO), ZERO)


def _borrow(ex: SimExchange, acct: Account, ccy: str, amt: Decimal, *, auto: bool) -> None:
    if ex.faults.take("borrow_exhausted", ccy=ccy) is not None or amt > borrow_limit_left(ex, ccy):
        raise err("54031" if auto else "58113")
    bal = acct.bal(ccy)
    bal.cash += amt
    bal.liab += amt
    ex.borrow_used[ccy] = ex.borrow_used.get(ccy, ZERO) + amt
    if usdt_margin(ex, acct).avail_eq < 0:
        bal.cash -= amt
        bal.liab -= amt
        ex.borrow_used[ccy] -= amt
        raise err("51008", "Insufficient margin to borrow")
    acct.borrowed_total[ccy] = acct.borrowed_total.get(ccy, ZERO) + amt
    _bill(ex, acct, ccy, amt, "16", "16" if not auto else "15", sz=amt, notes="borrow")
    ex.emit("balance", acct.name, ccy)


def borrow(ex: SimExchange, acct: Account, ccy: str, amt: Decimal) -> None:
    _borrow(ex, acct, ccy, amt, auto=False)


def repay(ex: SimExchange, acct: Account, ccy: str, amt: Decimal) -> Decimal:
    """Repay up to ``amt`` (interest first); returns what was repaid."""
    bal = acct.bal(ccy)
    if bal.liab <= 0:
        raise err("59310", "You don't have any liability in this currency")
    if amt > bal.liab:
        raise err("59310")
    if amt > bal.cash - bal.frozen:
        raise err("58350")
    interest_paid = min(amt, bal.interest)
    principal = amt - interest_paid
    bal.interest -= interest_paid
    bal.liab -= amt
    bal.cash -= amt
    ex.borrow_used[ccy] = max(ex.borrow_used.get(ccy, ZERO) - principal, ZERO)
    _bill(ex, acct, ccy, -amt, "22", "22", sz=amt, interest=interest_paid, notes="repay")
    ex.emit("balance", acct.name, ccy)
    return amt


def adjust_margin(ex: SimExchange, acct: Account, inst_id: str, amt: Decimal,
                  add: bool) -> None:
    """Move margin into (add) or out of an isolated position."""
    pos = acct.positions.get(inst_id)
    if pos is None or pos.pos == 0 or pos.mgn_mode != "isolated":
        raise err("51000", "Parameter instId error: no isolated position")
    if add:
        if amt > max_transferable(ex, acct, "USDT"):
            raise err("51008")
        pos.margin += amt
        _credit(ex, acct, "USDT", -amt)
        _bill(ex, acct, "USDT", -amt, "6", "160", inst_id=inst_id, pos_bal_chg=amt,
              pos_bal=pos.margin, mgn_mode="isolated")
    else:
        view = position_view(ex, acct, pos)
        if amt > pos.margin + min(view.upl, ZERO) - view.imr:
            raise err("51008", "Margin reduction would put the position under its IMR")
        pos.margin -= amt
        _credit(ex, acct, "USDT", amt)
        _bill(ex, acct, "USDT", amt, "6", "161", inst_id=inst_id, pos_bal_chg=-amt,
              pos_bal=pos.margin, mgn_mode="isolated")
    ex.emit("position", acct.name, inst_id)
