"""Core objects rendered the way OKX v5 renders them: every number a string, "" when empty."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from laicai.sim.account import Account, Bill, Fill, Order, Position
from laicai.sim.ledger import PositionView, position_view, usdt_margin

if TYPE_CHECKING:
    from laicai.sim.exchange import SimExchange

ZERO = Decimal(0)
DAY_MS = 86_400_000
_MAX_DP = Decimal("1e-18")


def s(x: Decimal | int | None) -> str:
    """OKX's number format: plain decimal string, no exponent; "" for None."""
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    if x == 0:
        return "0"
    if x.as_tuple().exponent < -18:  # type: ignore[operator]
        x = x.quantize(_MAX_DP)  # OKX sends ~16 decimals; 28-digit quotients are noise
    return format(x.normalize(), "f")


def order(o: Order) -> dict[str, Any]:
    filled = o.acc_fill_sz > 0
    base, quote = o.inst_id.split("-")[:2]
    # Before any fill OKX already names the fee currency (the settle currency of a swap, the
    # received currency of a spot order); the rebate currency is the quote currency.
    fee_ccy = o.fee_ccy or (base if o.inst_type == "SPOT" and o.side == "buy" else quote)
    return {
        "accFillSz": s(o.acc_fill_sz), "algoClOrdId": "", "algoId": "", "attachAlgoClOrdId": "",
        "attachAlgoOrds": [], "avgPx": s(o.avg_px) if filled else "", "cTime": s(o.c_time_ms),
        "cancelSource": o.cancel_source, "cancelSourceReason": "", "category": "normal",
        "ccy": o.ccy, "clOrdId": o.cl_ord_id, "fee": s(o.fee), "feeCcy": fee_ccy,
        "fillPx": s(o.last_fill_px) if filled else "", "fillSz": s(o.last_fill_sz),
        "fillTime": s(o.last_fill_ts_ms) if filled else "", "instId": o.inst_id,
        "instType": o.inst_type, "isTpLimit": "false", "lever": o.lever,
        "linkedAlgoOrd": {"algoId": ""}, "ordId": o.ord_id, "ordType": o.ord_type,
        "pnl": s(o.pnl), "posSide": o.pos_side or "net", "px": s(o.px), "pxType": "",
        "pxUsd": "", "pxVol": "", "quickMgnType": "", "rebate": "0",
        "rebateCcy": quote, "reduceOnly": "true" if o.reduce_only else "false",
        "side": o.side, "slOrdPx": "", "slTriggerPx": "", "slTriggerPxType": "", "source": "",
        "state": o.state, "stpId": "", "stpMode": "cancel_maker", "sz": s(o.sz), "tag": o.tag,
        "tdMode": o.td_mode, "tgtCcy": o.tgt_ccy, "tpOrdPx": "", "tpTriggerPx": "",
        "tpTriggerPxType": "", "tradeId": o.trade_id, "uTime": s(o.u_time_ms),
    }


def fill(f: Fill, fee_rate: Decimal) -> dict[str, Any]:
    return {
        "side": f.side, "fillSz": s(f.sz), "fillPx": s(f.px), "fillPxVol": "", "fillFwdPx": "",
        "fee": s(f.fee), "fillPnl": "0", "ordId": f.ord_id, "feeRate": s(-fee_rate),
        "instType": f.inst_type, "fillPxUsd": "", "instId": f.inst_id, "clOrdId": f.cl_ord_id,
        "posSide": f.pos_side or "net", "billId": f.bill_id, "fillMarkVol": "", "tag": f.tag,
        "fillTime": s(f.ts_ms), "execType": f.exec_type, "fillIdxPx": "", "tradeId": f.trade_id,
        "fillMarkPx": "", "feeCcy": f.fee_ccy, "ts": s(f.ts_ms),
    }


def bill(b: Bill) -> dict[str, Any]:
    trade = b.type == "2"
    # OKX leaves the trade-only amounts empty on a transfer bill (type 1).
    blank = b.type == "1"
    return {
        "bal": s(b.bal), "balChg": s(b.bal_chg), "billId": b.bill_id, "ccy": b.ccy,
        "clOrdId": b.cl_ord_id, "earnAmt": "", "earnApr": "", "execType": b.exec_type,
        "fee": "" if blank else s(b.fee), "fillFwdPx": "", "fillIdxPx": s(b.fill_idx_px),
        "fillMarkPx": s(b.fill_mark_px), "fillMarkVol": "", "fillPxUsd": "", "fillPxVol": "",
        "fillTime": s(b.ts_ms), "from": b.from_acct, "instId": b.inst_id,
        "instType": b.inst_type, "interest": s(b.interest), "mgnMode": b.mgn_mode,
        "notes": b.notes, "ordId": b.ord_id, "pnl": "" if blank else s(b.pnl),
        "posBal": "" if blank else s(b.pos_bal),
        "posBalChg": "" if blank else s(b.pos_bal_chg), "px": s(b.px), "subType": b.sub_type,
        "sz": s(b.sz),
        "tag": b.tag, "to": b.to_acct, "tradeId": b.trade_id if trade else "0",
        "ts": s(b.ts_ms), "type": b.type,
    }


def asset_bill(b: Bill) -> dict[str, Any]:
    return {"billId": b.bill_id, "ccy": b.ccy, "clientId": "", "balChg": s(b.bal_chg),
            "bal": s(b.bal), "type": b.type, "notes": b.notes, "ts": s(b.ts_ms)}


def position(ex: SimExchange, acct: Account, p: Position, v: PositionView | None = None
             ) -> dict[str, Any]:
    v = v or position_view(ex, acct, p)
    inst = ex.instruments[p.inst_id]
    isolated = p.mgn_mode == "isolated"
    upl_ratio = v.upl / v.imr if v.imr else ZERO
    bid, ask = ex.touch(p.inst_id)
    last = (bid + ask) / 2
    fee_rate = acct.fees.rate(True, False)
    be_px = None
    if p.pos != 0:
        side = Decimal(1) if p.pos > 0 else Decimal(-1)
        be_px = p.avg_px * (1 + side * 2 * fee_rate)
    return {
        "adl": "1", "availPos": s(abs(p.pos)), "avgPx": s(p.avg_px) if p.pos else "",
        "baseBal": "", "baseBorrowed": "", "baseInterest": "", "bePx": s(be_px),
        "bizRefId": "", "bizRefType": "", "cTime": s(p.c_time_ms), "ccy": inst.settle_ccy,
        "clSpotInUseAmt": "", "closeOrderAlgo": [], "deltaBS": "", "deltaPA": "",
        "fee": s(p.fee), "fundingFee": s(p.funding_fee), "gammaBS": "", "gammaPA": "",
        "hedgedPos": "", "idxPx": s(ex.index_px(inst.base_ccy)),
        "imr": "" if isolated else s(v.imr), "instId": p.inst_id, "instType": "SWAP",
        "interest": "", "last": s(last), "lever": s(v.lever), "liab": "", "liabCcy": "",
        "liqPenalty": "0", "liqPx": s(v.liq_px), "margin": s(p.margin) if isolated else "",
        "markPx": s(v.mark_px), "maxSpotInUseAmt": "", "mgnMode": p.mgn_mode,
        "mgnRatio": s(v.mgn_ratio), "mmr": s(v.mmr), "nonSettleAvgPx": "",
        "notionalUsd": s(v.notional), "optVal": "", "pendingCloseOrdLiabVal": "",
        "pnl": s(p.realized_pnl - p.fee - p.funding_fee), "pos": s(p.pos), "posCcy": "",
        "posId": p.pos_id, "posSide": "net", "quoteBal": "", "quoteBorrowed": "",
        "quoteInterest": "", "realizedPnl": s(p.realized_pnl), "settledPnl": "",
        "spotInUseAmt": "", "spotInUseCcy": "", "thetaBS": "", "thetaPA": "",
        "tradeId": p.last_trade_id, "uTime": s(p.u_time_ms), "upl": s(v.upl),
        "uplLastPx": s(p.pos * inst.ct_val * (last - p.avg_px)) if p.pos else "0",
        "uplRatio": s(upl_ratio), "uplRatioLastPx": s(upl_ratio), "usdPx": "",
        "vegaBS": "", "vegaPA": "",
    }


def balance(ex: SimExchange, acct: Account, ccys: set[str] | None = None) -> dict[str, Any]:
    """``account/balance`` for single-currency margin: per-currency details, account totals."""
    now = ex.clock.now_ms()
    pool = usdt_margin(ex, acct)
    details = []
    total_eq = ZERO
    upl_by_ccy: dict[str, Decimal] = {}
    iso_by_ccy: dict[str, Decimal] = {}
    for p in acct.positions.values():
        if p.pos == 0 and p.margin == 0:
            continue
        v = position_view(ex, acct, p, pool)
        ccy = ex.instruments[p.inst_id].settle_ccy
        upl_by_ccy[ccy] = upl_by_ccy.get(ccy, ZERO) + v.upl
        if p.mgn_mode == "isolated":
            iso_by_ccy[ccy] = iso_by_ccy.get(ccy, ZERO) + p.margin
    for ccy, b in sorted(acct.trading.items()):
        if ccys and ccy not in ccys:
            continue
        upl = upl_by_ccy.get(ccy, ZERO)
        iso = iso_by_ccy.get(ccy, ZERO)
        eq = b.cash - b.liab + upl + iso
        if b.cash == 0 and eq == 0 and b.liab == 0:
            continue
        px = ex.index_px(ccy)
        eq_usd = eq * px
        total_eq += eq_usd
        is_usdt = ccy == "USDT"
        avail_bal = b.cash - b.frozen
        details.append({
            "autoLendStatus": "off", "autoLendMtAmt": "0", "availBal": s(avail_bal),
            "availEq": s(pool.avail_eq) if is_usdt else s(avail_bal - b.liab),
            "borrowFroz": "0", "cashBal": s(b.cash), "ccy": ccy, "crossLiab": s(b.liab),
            "colRes": "0", "collateralEnabled": False, "collateralRestrict": False,
            "colBorrAutoConversion": "0", "disEq": s(eq_usd), "eq": s(eq), "eqUsd": s(eq_usd),
            "smtSyncEq": "0", "spotCopyTradingEq": "0", "fixedBal": "0",
            "frozenBal": s(b.frozen + (pool.imr if is_usdt else ZERO)), "frpType": "0",
            "imr": s(pool.imr) if is_usdt else "", "interest": s(b.interest),
            "isoEq": s(iso), "isoLiab": "0", "isoUpl": "0", "liab": s(b.liab),
            "maxLoan": "", "mgnRatio": s(pool.mgn_ratio) if is_usdt else "",
            "mmr": s(pool.mmr) if is_usdt else "", "notionalLever": "",
            "ordFrozen": s(b.frozen), "rewardBal": "0", "spotInUseAmt": "",
            "clSpotInUseAmt": "", "maxSpotInUse": "", "spotIsoBal": "0", "stgyEq": "0",
            "twap": "0", "uTime": s(b.u_time_ms or now), "upl": s(upl), "uplLiab": "0",
            "spotBal": "", "openAvgPx": "", "accAvgPx": "", "spotUpl": "", "spotUplRatio": "",
            "totalPnl": "", "totalPnlRatio": "",
        })
    notional = sum((position_view(ex, acct, p, pool).notional
                    for p in acct.positions.values() if p.pos != 0), ZERO)
    return {
        "adjEq": "", "availEq": "", "borrowFroz": "", "delta": "", "deltaLever": "",
        "deltaNeutralStatus": "0", "details": details, "imr": "", "isoEq": "", "mgnRatio": "",
        "mmr": "", "notionalUsd": s(notional), "notionalUsdForBorrow": "0",
        "notionalUsdForFutures": "0", "notionalUsdForOption": "0",
        "notionalUsdForSwap": s(notional), "ordFroz": "", "totalEq": s(total_eq),
        "uTime": s(now), "upl": s(pool.upl),
    }


def ticker(ex: SimExchange, inst_id: str) -> dict[str, Any]:
    inst = ex.instrument(inst_id)
    book = ex.book(inst_id)
    now = ex.clock.now_ms()
    bid, ask = ex.touch(inst_id)
    last = ex.mark_px(inst_id)
    last = (last / inst.tick_sz).to_integral_value() * inst.tick_sz
    samples = [ex.mark_px(inst_id, now - DAY_MS + i * DAY_MS // 24) for i in range(25)]
    open24 = samples[0]
    day_start = now - now % DAY_MS
    unit = inst.ct_val if inst.is_swap else Decimal(1)
    # a synthetic 24 h volume: 40 times the quote value of the top 20 bid levels
    vol_quote = sum(((lv[0] * lv[1] * unit) for lv in book.bids[:20]), ZERO) * 40
    vol = vol_quote / (last * unit) if last else ZERO
    vol_ccy = vol * unit if inst.is_swap else vol_quote
    q = inst.tick_sz
    return {
        "instType": inst.inst_type, "instId": inst_id, "last": s(last),
        "lastSz": s(inst.lot_sz * 10),
        "askPx": s(ask), "askSz": s(book.asks[0][1] if book.asks else ZERO), "bidPx": s(bid),
        "bidSz": s(book.bids[0][1] if book.bids else ZERO),
        "open24h": s(open24.quantize(q)), "high24h": s(max(samples).quantize(q)),
        "low24h": s(min(samples).quantize(q)), "volCcy24h": s(vol_ccy.quantize(Decimal(1))),
        "vol24h": s(vol.quantize(Decimal(1))), "ts": s(now),
        "sodUtc0": s(ex.mark_px(inst_id, day_start).quantize(q)),
        "sodUtc8": s(ex.mark_px(inst_id, day_start - 8 * 3_600_000).quantize(q)),
    }
