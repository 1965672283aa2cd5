"""Private OKX v5 REST endpoints: trading account, orders, funding account, Earn, loans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from laicai.sim import trading
from laicai.sim.account import FUNDING, TRADING
from laicai.sim.book import round_down
from laicai.sim.errors import SimError, err
from laicai.sim.ledger import lever_of, position_view, usdt_margin
from laicai.sim.server import views
from laicai.sim.server.context import Ctx, Handler
from laicai.sim.server.views import s

ZERO = Decimal(0)
_HOURS_PER_YEAR = Decimal(8760)


# ---------------------------------------------------------------------- account
def balance(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    return [views.balance(ctx.ex, ctx.acct, set(ccy.split(",")) if ccy else None)]


def positions(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    inst_type = ctx.param("instType")
    if inst_type and inst_type not in ("SWAP", "MARGIN", "FUTURES", "OPTION"):
        raise err("51000", param0="instType")
    ids = set(inst_id.split(",")) if inst_id else None
    out = []
    pool = usdt_margin(ctx.ex, ctx.acct)
    for p in ctx.acct.positions.values():
        if ids is not None and p.inst_id not in ids:
            continue
        if inst_type and inst_type != "SWAP":
            continue
        if p.pos == 0 and ids is None:
            continue
        out.append(views.position(ctx.ex, ctx.acct, p, position_view(ctx.ex, ctx.acct, p, pool)))
    return out


def config(ctx: Ctx) -> list[dict[str, Any]]:
    a = ctx.acct
    key = ctx.api_key
    assert key is not None
    return [{
        "acctLv": str(a.acct_lv), "acctStpMode": "cancel_maker", "autoLoan": a.acct_lv >= 3,
        "ctIsoMode": "automatic", "enableSpotBorrow": True, "greeksType": "PA", "ip": "",
        "kycLv": "2", "label": key.label, "level": "Lv1", "levelTmp": "",
        "liquidationGear": "-1", "mainUid": a.uid, "mgnIsoMode": "automatic", "opAuth": "0",
        "perm": key.perm, "posMode": a.pos_mode, "roleType": "0", "spotBorrowAutoRepay": False,
        "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [], "traderInsts": [],
        "type": "0", "uid": a.uid,
    }]


def set_leverage(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    if not inst_id:
        raise err("50014", param0="instId")
    mgn_mode = ctx.param("mgnMode")
    lv = trading.set_leverage(ctx.ex, ctx.acct, inst_id, ctx.param("lever"), mgn_mode)
    return [{"instId": inst_id, "lever": str(lv), "mgnMode": mgn_mode, "posSide": "net"}]


def leverage_info(ctx: Ctx) -> list[dict[str, Any]]:
    mgn_mode = ctx.param("mgnMode") or "cross"
    out = []
    for inst_id in ctx.param("instId").split(","):
        ctx.ex.instrument(inst_id)
        out.append({"instId": inst_id, "mgnMode": mgn_mode, "posSide": "net",
                    "lever": str(lever_of(ctx.acct, inst_id, mgn_mode))})
    return out


def max_size(ctx: Ctx) -> list[dict[str, Any]]:
    ex, acct = ctx.ex, ctx.acct
    td_mode = ctx.param("tdMode")
    out = []
    for inst_id in ctx.param("instId").split(","):
        inst = ex.instrument(inst_id)
        px = ctx.decimal("px", required=False) or ex.mark_px(inst_id)
        if inst.is_swap:
            avail = usdt_margin(ex, acct).avail_eq
            lever = lever_of(acct, inst_id, td_mode or "cross")
            per_ct = inst.ct_val * px * (1 / Decimal(lever) + acct.fees.swap_taker)
            n = round_down(max(avail, ZERO) / per_ct, inst.lot_sz)
            buy = sell = n
        else:
            quote = acct.bal(inst.quote_ccy)
            base = acct.bal(inst.base_ccy)
            buy = round_down(max(quote.cash - quote.frozen, ZERO) / px, inst.lot_sz)
            sell = round_down(max(base.cash - base.frozen, ZERO), inst.lot_sz)
        out.append({"ccy": inst.settle_ccy or inst.quote_ccy, "instId": inst_id,
                    "maxBuy": s(buy), "maxSell": s(sell)})
    return out


def max_avail_size(ctx: Ctx) -> list[dict[str, Any]]:
    rows = max_size(ctx)
    return [{"instId": r["instId"], "availBuy": r["maxBuy"], "availSell": r["maxSell"]}
            for r in rows]


def trade_fee(ctx: Ctx) -> list[dict[str, Any]]:
    t = ctx.param("instType")
    if t not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise err("51000", param0="instType")
    f = ctx.acct.fees
    swap = t in ("SWAP", "FUTURES")
    maker = f.swap_maker if swap else f.spot_maker
    taker = f.swap_taker if swap else f.spot_taker
    return [{
        "category": "1", "delivery": "", "exercise": "", "feeGroup": [], "instType": t,
        "level": ctx.acct.fee_tier.replace("VIP0", "Lv1"), "maker": "" if swap else s(-maker),
        "makerU": s(-maker) if swap else "", "makerUSDC": s(-maker), "ruleType": "normal",
        "taker": "" if swap else s(-taker), "takerU": s(-taker) if swap else "",
        "takerUSDC": s(-taker), "ts": s(ctx.ex.clock.now_ms()),
    }]


def _page(rows: list[Any], ctx: Ctx, id_of: Any) -> list[Any]:
    """OKX pagination: newest first, ``after`` = older than id, ``before`` = newer than id."""
    after = ctx.param("after")
    before = ctx.param("before")
    limit = min(int(ctx.param("limit") or 100), 100)
    out = []
    for r in reversed(rows):
        rid = int(id_of(r))
        if after and rid >= int(after):
            continue
        if before and rid <= int(before):
            continue
        out.append(r)
        if len(out) >= limit:
            break
    return out


def bills(ctx: Ctx) -> list[dict[str, Any]]:
    q = {k: ctx.param(k) for k in ("instType", "instId", "ccy", "type", "subType", "mgnMode")}
    begin = int(ctx.param("begin") or 0)
    end = int(ctx.param("end") or 0)

    def keep(b: Any) -> bool:
        if q["instType"] and b.inst_type != q["instType"]:
            return False
        if q["instId"] and b.inst_id != q["instId"]:
            return False
        if q["ccy"] and b.ccy != q["ccy"]:
            return False
        if q["type"] and b.type != q["type"]:
            return False
        if q["subType"] and b.sub_type != q["subType"]:
            return False
        if q["mgnMode"] and b.mgn_mode != q["mgnMode"]:
            return False
        if begin and b.ts_ms < begin:
            return False
        return not (end and b.ts_ms > end)

    rows = [b for b in ctx.acct.bills if keep(b)]
    return [views.bill(b) for b in _page(rows, ctx, lambda b: b.bill_id)]


def interest_rate(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    ccys = [ccy] if ccy else sorted({i.base_ccy for i in ctx.ex.instruments.values()} | {"USDT"})
    return [{"ccy": c, "interestRate": s(ctx.ex.plan.currency(c).borrow_apr / _HOURS_PER_YEAR)}
            for c in ccys]


def interest_accrued(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    rows = [r for r in ctx.acct.interest_accrued if not ccy or r["ccy"] == ccy]
    return list(reversed(rows))[: min(int(ctx.param("limit") or 100), 100)]


def max_loan(ctx: Ctx) -> list[dict[str, Any]]:
    out = []
    ccy = ctx.param("ccy")
    for c in (ccy.split(",") if ccy else []):
        out.append({"ccy": c, "instId": "", "mgnMode": ctx.param("mgnMode") or "cross",
                    "mgnCcy": "", "maxLoan": s(trading.borrow_limit_left(ctx.ex, c)),
                    "side": "", })
    if not out:
        for inst_id in ctx.param("instId").split(","):
            inst = ctx.ex.instrument(inst_id)
            out.append({"ccy": inst.base_ccy, "instId": inst_id, "mgnMode": "cross",
                        "mgnCcy": "", "maxLoan": s(trading.borrow_limit_left(ctx.ex,
                                                                             inst.base_ccy)),
                        "side": "sell"})
    return out


def borrow_repay(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    if not ccy:
        raise err("50014", param0="ccy")
    amt = ctx.decimal("amt")
    assert amt is not None
    side = ctx.param("side")
    if side == "borrow":
        trading.borrow(ctx.ex, ctx.acct, ccy, amt)
    elif side == "repay":
        trading.repay(ctx.ex, ctx.acct, ccy, amt)
    else:
        raise err("51000", param0="side")
    return [{"ccy": ccy, "side": side, "amt": s(amt),
             "ordId": ctx.ex.next_id(), "state": "1", "ts": s(ctx.ex.clock.now_ms())}]


def spot_borrow_repay_history(ctx: Ctx) -> list[dict[str, Any]]:
    out = []
    for b in reversed(ctx.acct.bills):
        if b.type in ("16", "22"):
            out.append({"ccy": b.ccy, "type": "manual_borrow" if b.type == "16" else
                        "manual_repay", "amt": s(b.sz), "accBorrowed":
                        s(ctx.acct.borrowed_total.get(b.ccy, ZERO)), "ts": s(b.ts_ms)})
    return out


def margin_balance(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    amt = ctx.decimal("amt")
    assert amt is not None
    kind = ctx.param("type")
    if kind not in ("add", "reduce"):
        raise err("51000", param0="type")
    trading.adjust_margin(ctx.ex, ctx.acct, inst_id, amt, kind == "add")
    return [{"amt": s(amt), "ccy": "USDT", "instId": inst_id, "leverage": "",
             "posSide": "net", "type": kind}]


# ---------------------------------------------------------------------- trade
def _order_one(ctx: Ctx, req: dict[str, Any], endpoint: str) -> dict[str, Any]:
    cl = str(req.get("clOrdId") or "")
    tag = str(req.get("tag") or "")
    now = s(ctx.ex.clock.now_ms())
    fault = ctx.ex.faults.take("reject", endpoint=endpoint, inst_id=str(req.get("instId", "")),
                               side=str(req.get("side", "")), method="POST")
    try:
        if fault is not None:
            raise err(fault.code, fault.msg)
        order = trading.place_order(ctx.ex, ctx.acct, req)
    except SimError as e:
        return {"clOrdId": cl, "ordId": "", "sCode": e.code, "sMsg": e.msg, "tag": tag,
                "ts": now}
    return {"clOrdId": order.cl_ord_id, "ordId": order.ord_id, "sCode": "0",
            "sMsg": "Order placed", "tag": order.tag, "ts": now}


def place_orders(ctx: Ctx) -> list[dict[str, Any]]:
    reqs = ctx.body if isinstance(ctx.body, list) else [ctx.body or {}]
    if not reqs or len(reqs) > 20 or not all(isinstance(r, dict) for r in reqs):
        raise err("51000", param0="body")
    return [_order_one(ctx, r, ctx.endpoint) for r in reqs]


def cancel_orders(ctx: Ctx) -> list[dict[str, Any]]:
    reqs = ctx.body if isinstance(ctx.body, list) else [ctx.body or {}]
    out = []
    for r in reqs:
        cl = str(r.get("clOrdId") or "")
        try:
            o = trading.cancel_order(ctx.ex, ctx.acct, str(r.get("instId") or ""),
                                     str(r.get("ordId") or ""), cl)
            out.append({"clOrdId": o.cl_ord_id, "ordId": o.ord_id, "sCode": "0", "sMsg": "",
                        "ts": s(ctx.ex.clock.now_ms())})
        except SimError as e:
            out.append({"clOrdId": cl, "ordId": str(r.get("ordId") or ""), "sCode": e.code,
                        "sMsg": e.msg, "ts": s(ctx.ex.clock.now_ms())})
    return out


def amend_order(ctx: Ctx) -> list[dict[str, Any]]:
    req = ctx.body if isinstance(ctx.body, dict) else {}
    try:
        o = trading.amend_order(ctx.ex, ctx.acct, req)
    except SimError as e:
        return [{"clOrdId": str(req.get("clOrdId") or ""), "ordId": str(req.get("ordId") or ""),
                 "reqId": "", "sCode": e.code, "sMsg": e.msg, "ts": s(ctx.ex.clock.now_ms())}]
    return [{"clOrdId": o.cl_ord_id, "ordId": o.ord_id, "reqId": str(req.get("reqId") or ""),
             "sCode": "0", "sMsg": "", "ts": s(ctx.ex.clock.now_ms())}]


def get_order(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    if not inst_id:
        raise err("50014", param0="instId")
    ctx.ex.instrument(inst_id)
    ord_id, cl = ctx.param("ordId"), ctx.param("clOrdId")
    if not ord_id and not cl:
        raise err("50014", param0="ordId")
    o = trading.find_order(ctx.acct, inst_id, ord_id, cl)
    if o is None:
        raise err("51603")
    return [views.order(o)]


def _filter_orders(ctx: Ctx, orders: list[Any]) -> list[Any]:
    inst_id, inst_type = ctx.param("instId"), ctx.param("instType")
    ord_type, state = ctx.param("ordType"), ctx.param("state")
    return [o for o in orders
            if (not inst_id or o.inst_id == inst_id) and (not inst_type or o.inst_type == inst_type)
            and (not ord_type or o.ord_type == ord_type) and (not state or o.state == state)]


def orders_pending(ctx: Ctx) -> list[dict[str, Any]]:
    rows = _filter_orders(ctx, list(ctx.acct.open_orders.values()))
    return [views.order(o) for o in _page(rows, ctx, lambda o: o.ord_id)]


def orders_history(ctx: Ctx) -> list[dict[str, Any]]:
    if not ctx.param("instType"):
        raise err("50014", param0="instType")
    rows = _filter_orders(ctx, [o for o in ctx.acct.orders.values() if not o.is_open])
    return [views.order(o) for o in _page(rows, ctx, lambda o: o.ord_id)]


def fills(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id, inst_type, ord_id = ctx.param("instId"), ctx.param("instType"), ctx.param("ordId")
    rows = [f for f in ctx.acct.fills
            if (not inst_id or f.inst_id == inst_id) and (not inst_type or f.inst_type == inst_type)
            and (not ord_id or f.ord_id == ord_id)]
    fees = ctx.acct.fees
    return [views.fill(f, fees.rate(f.inst_type == "SWAP", f.exec_type == "M"))
            for f in _page(rows, ctx, lambda f: f.bill_id)]


# ---------------------------------------------------------------------- asset / finance
def asset_balances(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    want = set(ccy.split(",")) if ccy else None
    return [{"availBal": s(v), "bal": s(v), "ccy": c, "frozenBal": "0"}
            for c, v in sorted(ctx.acct.funding.items())
            if (want is None or c in want) and (v != 0 or want is not None)]


def transfer(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    if not ccy:
        raise err("50014", param0="ccy")
    amt = ctx.decimal("amt")
    assert amt is not None
    kind = ctx.param("type") or "0"
    if kind != "0":
        raise err("51000", param0="type")
    from_, to = ctx.param("from"), ctx.param("to")
    if from_ not in (FUNDING, TRADING) or to not in (FUNDING, TRADING):
        raise err("51000", param0="from")
    client_id = ctx.param("clientId")
    trans_id = trading.transfer(ctx.ex, ctx.acct, ccy, amt, from_, to, client_id)
    return [{"amt": s(amt), "ccy": ccy, "clientId": client_id, "from": from_, "to": to,
             "transId": trans_id}]


def transfer_state(ctx: Ctx) -> list[dict[str, Any]]:
    tid, cid = ctx.param("transId"), ctx.param("clientId")
    for t in ctx.acct.transfers.values():
        if (tid and t.trans_id == tid) or (cid and t.client_id == cid):
            return [{"amt": s(t.amt), "ccy": t.ccy, "clientId": t.client_id, "from": t.from_acct,
                     "instId": "", "state": t.state, "subAcct": "", "to": t.to_acct,
                     "toInstId": "", "transId": t.trans_id, "type": "0"}]
    return []


def asset_bills(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    rows = [b for b in ctx.acct.asset_bills if not ccy or b.ccy == ccy]
    return [views.asset_bill(b) for b in _page(rows, ctx, lambda b: b.bill_id)]


def savings_purchase_redempt(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    if not ccy:
        raise err("50014", param0="ccy")
    amt = ctx.decimal("amt")
    assert amt is not None
    side = ctx.param("side")
    if side == "purchase":
        rate = ctx.decimal("rate", required=False)
        trading.earn_purchase(ctx.ex, ctx.acct, ccy, amt, rate)
    elif side == "redempt":
        trading.earn_redeem(ctx.ex, ctx.acct, ccy, amt)
    else:
        raise err("51000", param0="side")
    return [{"ccy": ccy, "amt": s(amt), "side": side, "rate": ctx.param("rate")}]


def savings_balance(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    out = []
    for c, amt in sorted(ctx.acct.savings.items()):
        if ccy and c != ccy:
            continue
        pending = sum((r.amt for r in ctx.acct.redemptions if r.ccy == c), ZERO)
        if amt == 0 and pending == 0:
            continue
        apr = ctx.ex.plan.currency(c).earn_apr
        out.append({"amt": s(amt), "ccy": c, "earnings": s(ctx.acct.savings_earnings.get(c,
                    ZERO)), "loanAmt": s(amt), "pendingAmt": s(pending),
                    "rate": s(ctx.acct.lending_rate.get(c, Decimal("0.01"))),
                    "redemptAmt": s(pending), "lendingRate": s(apr)})
    return out


def lending_rate_summary(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    coins = sorted({i.base_ccy for i in ctx.ex.instruments.values()} | {"USDT"})
    out = []
    for c in coins:
        if ccy and c != ccy:
            continue
        terms = ctx.ex.plan.currency(c)
        out.append({"avgAmt": "1000000", "avgAmtUsd": "1000000", "avgRate": s(terms.earn_apr),
                    "ccy": c, "estRate": s(terms.earn_apr), "preRate": s(terms.earn_apr)})
    return out


def lending_rate_history(ctx: Ctx) -> list[dict[str, Any]]:
    ccy = ctx.param("ccy")
    now = ctx.ex.clock.now_ms()
    hour = now - now % 3_600_000
    coins = [ccy] if ccy else ["USDT"]
    return [{"ccy": c, "amt": "1000000", "rate": s(ctx.ex.plan.currency(c).earn_apr),
             "ts": s(hour)} for c in coins]


def withdraw_refused(ctx: Ctx) -> list[dict[str, Any]]:
    raise err("58119", "The simulator never withdraws.")


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "account/balance"): balance,
    ("GET", "account/positions"): positions,
    ("GET", "account/config"): config,
    ("POST", "account/set-leverage"): set_leverage,
    ("GET", "account/leverage-info"): leverage_info,
    ("GET", "account/max-size"): max_size,
    ("GET", "account/max-avail-size"): max_avail_size,
    ("GET", "account/trade-fee"): trade_fee,
    ("GET", "account/bills"): bills,
    ("GET", "account/bills-archive"): bills,
    ("GET", "account/interest-rate"): interest_rate,
    ("GET", "account/interest-accrued"): interest_accrued,
    ("GET", "account/max-loan"): max_loan,
    ("POST", "account/borrow-repay"): borrow_repay,
    ("POST", "account/spot-manual-borrow-repay"): borrow_repay,
    ("GET", "account/spot-borrow-repay-history"): spot_borrow_repay_history,
    ("POST", "account/position/margin-balance"): margin_balance,
    ("POST", "trade/order"): place_orders,
    ("POST", "trade/batch-orders"): place_orders,
    ("POST", "trade/cancel-order"): cancel_orders,
    ("POST", "trade/cancel-batch-orders"): cancel_orders,
    ("POST", "trade/amend-order"): amend_order,
    ("GET", "trade/order"): get_order,
    ("GET", "trade/orders-pending"): orders_pending,
    ("GET", "trade/orders-history"): orders_history,
    ("GET", "trade/orders-history-archive"): orders_history,
    ("GET", "trade/fills"): fills,
    ("GET", "trade/fills-history"): fills,
    ("GET", "asset/balances"): asset_balances,
    ("POST", "asset/transfer"): transfer,
    ("GET", "asset/transfer-state"): transfer_state,
    ("GET", "asset/bills"): asset_bills,
    ("POST", "asset/withdrawal"): withdraw_refused,
    ("POST", "finance/savings/purchase-redempt"): savings_purchase_redempt,
    ("GET", "finance/savings/balance"): savings_balance,
}

# Public finance endpoints (no signature), served from here because they read Earn terms.
PUBLIC_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "finance/savings/lending-rate-summary"): lending_rate_summary,
    ("GET", "finance/savings/lending-rate-history"): lending_rate_history,
}

# Endpoints answered per item with sCode (ccxt reads the item codes).
ITEM_CODED = {"trade/order", "trade/batch-orders", "trade/cancel-order",
              "trade/cancel-batch-orders", "trade/amend-order"}
# Every private POST moves money or orders: it needs the key's "trade" permission.
TRADE_PERM = {p for (m, p) in ROUTES if m == "POST"} - {"asset/withdrawal"}
