"""Public OKX v5 REST endpoints: instruments, funding, books, tickers, mark price, time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from laicai.sim.errors import err
from laicai.sim.server.context import Ctx, Handler
from laicai.sim.server.views import s, ticker

HOUR_MS = 3_600_000


def _inst_type(ctx: Ctx) -> str:
    t = ctx.param("instType")
    if t not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise err("51000", param0="instType")
    return t


def instruments(ctx: Ctx) -> list[dict[str, Any]]:
    t = _inst_type(ctx)
    inst_id = ctx.param("instId")
    out = []
    for inst in ctx.ex.instruments.values():
        if (inst.inst_type == t or (t == "MARGIN" and not inst.is_swap)) and (
            not inst_id or inst.inst_id == inst_id
        ):
            out.append(inst.to_okx())
    return out


def _swap_ids(ctx: Ctx) -> list[str]:
    inst_id = ctx.param("instId")
    if not inst_id:
        raise err("50014", param0="instId")
    if inst_id == "ANY":
        return sorted(i for i, x in ctx.ex.instruments.items() if x.is_swap)
    inst = ctx.ex.instrument(inst_id)
    if not inst.is_swap:
        raise err("51000", param0="instId")
    return [inst_id]


def funding_rate(ctx: Ctx) -> list[dict[str, Any]]:
    ex = ctx.ex
    now = ex.clock.now_ms()
    out = []
    for inst_id in _swap_ids(ctx):
        nxt = ex.next_funding_ms[inst_id]
        after = nxt + ex.interval_hours(inst_id, nxt) * HOUR_MS
        rate = ex.funding_rate(inst_id)
        hist = ex.funding_history.get(inst_id)
        sett = hist[-1][1] if hist else rate
        out.append({
            "formulaType": "withRate", "fundingRate": s(rate), "fundingTime": s(nxt),
            "impactValue": "20000", "instId": inst_id, "instType": "SWAP",
            "interestRate": "0.0001", "maxFundingRate": "0.02", "method": "current_period",
            "minFundingRate": "-0.02", "nextFundingRate": "", "nextFundingTime": s(after),
            "premium": s(rate / 8), "settFundingRate": s(sett), "settState": "settled",
            "ts": s(now),
        })
    return out


def funding_rate_history(ctx: Ctx) -> list[dict[str, Any]]:
    """Settled rates, newest first. Before the simulation started, the scenario's own series
    stands in for history, so a backtest of the past can be fetched like OKX's."""
    ex = ctx.ex
    (inst_id,) = _swap_ids(ctx)
    limit = min(int(ctx.param("limit") or 100), 100)
    before = int(ctx.param("before") or 0)  # newer than
    after = int(ctx.param("after") or 0)  # older than
    terms = ex.plan.swaps.get(inst_id)
    rows: list[tuple[int, Decimal]] = []
    settled = {t: r for t, r, _ in ex.funding_history.get(inst_id, [])}
    t = ex.next_funding_ms[inst_id]
    t -= ex.interval_hours(inst_id, t - 1) * HOUR_MS
    if after:
        while t >= after:
            t -= ex.interval_hours(inst_id, t - 1) * HOUR_MS
    while len(rows) < limit and t > before and t > 0:
        rate = settled.get(t)
        if rate is None:
            rate = terms.funding.rate_at(t) if terms is not None else Decimal(0)
        rows.append((t, rate))
        t -= ex.interval_hours(inst_id, t - 1) * HOUR_MS
    return [{"fundingRate": s(r), "fundingTime": s(ts), "instId": inst_id, "instType": "SWAP",
             "method": "current_period", "realizedRate": s(r), "formulaType": "withRate"}
            for ts, r in rows]


def mark_price(ctx: Ctx) -> list[dict[str, Any]]:
    ex = ctx.ex
    inst_id = ctx.param("instId")
    t = ctx.param("instType") or "SWAP"
    now = ex.clock.now_ms()
    ids = [inst_id] if inst_id else [i for i, x in ex.instruments.items()
                                     if x.inst_type == t or (t == "MARGIN" and not x.is_swap)]
    out = []
    for i in ids:
        inst = ex.instrument(i)
        out.append({"instId": i, "instType": inst.inst_type,
                    "markPx": s(ex.mark_px(i).quantize(inst.tick_sz / 10)), "ts": s(now)})
    return out


def open_interest(ctx: Ctx) -> list[dict[str, Any]]:
    ex = ctx.ex
    inst_id = ctx.param("instId")
    inst_type = ctx.param("instType")  # SWAP | FUTURES | OPTION: only swaps are listed here
    ids = [inst_id] if inst_id else sorted(
        i for i, x in ex.instruments.items() if x.is_swap and inst_type in ("", x.inst_type))
    out = []
    for i in ids:
        inst = ex.instrument(i)
        book = ex.book(i)
        oi = sum((lv[1] for lv in book.bids[:50]), Decimal(0)) * 25
        oi_ccy = oi * inst.ct_val
        out.append({"instId": i, "instType": "SWAP", "oi": s(oi), "oiCcy": s(oi_ccy),
                    "oiUsd": s((oi_ccy * ex.mark_px(i)).quantize(Decimal(1))),
                    "ts": s(ex.clock.now_ms())})
    return out


def books(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    if not inst_id:
        raise err("50014", param0="instId")
    depth = int(ctx.param("sz") or 1)
    if not 1 <= depth <= (5000 if ctx.endpoint == "market/books-full" else 400):
        raise err("51000", param0="sz")
    book = ctx.ex.book(inst_id)
    asks, bids = book.snapshot(depth)
    return [{"asks": [[s(p), s(q), "0", "1"] for p, q in asks],
             "bids": [[s(p), s(q), "0", "1"] for p, q in bids], "ts": s(book.ts_ms)}]


def market_ticker(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    if not inst_id:
        raise err("50014", param0="instId")
    return [ticker(ctx.ex, inst_id)]


def market_tickers(ctx: Ctx) -> list[dict[str, Any]]:
    t = _inst_type(ctx)
    return [ticker(ctx.ex, i) for i, x in ctx.ex.instruments.items() if x.inst_type == t]


def time_(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"ts": s(ctx.ex.clock.now_ms())}]


def system_status(ctx: Ctx) -> list[dict[str, Any]]:
    return []


def trades(ctx: Ctx) -> list[dict[str, Any]]:
    inst_id = ctx.param("instId")
    inst = ctx.ex.instrument(inst_id)
    _, ask = ctx.ex.touch(inst_id)
    now = ctx.ex.clock.now_ms()
    return [{"instId": inst_id, "side": "buy", "sz": s(inst.lot_sz), "px": s(ask),
             "source": "0", "tradeId": "1", "ts": s(now)}]


def currencies(ctx: Ctx) -> list[dict[str, Any]]:
    coins = {"USDT"}
    for inst in ctx.ex.instruments.values():
        coins.add(inst.base_ccy)
    out = []
    for c in sorted(coins):
        out.append({
            "canDep": True, "canInternal": True, "canWd": True, "ccy": c, "chain": f"{c}-OKX",
            "ctAddr": "", "depEstOpenTime": "", "depQuotaFixed": "", "depQuoteDailyLayer2": "",
            "fee": "0", "logoLink": "", "mainNet": True, "maxFee": "0", "maxFeeForCtAddr": "",
            "maxWd": "100000000", "minDep": "0.00000001", "minDepArrivalConfirm": "1",
            "minFee": "0", "minFeeForCtAddr": "", "minInternal": "0.0001", "minWd": "0.0001",
            "minWdUnlockConfirm": "1", "name": c, "needTag": False, "usedDepQuotaFixed": "",
            "usedWdQuota": "0", "wdEstOpenTime": "", "wdQuota": "10000000", "wdTickSz": "8",
        })
    return out


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "public/instruments"): instruments,
    ("GET", "public/funding-rate"): funding_rate,
    ("GET", "public/funding-rate-history"): funding_rate_history,
    ("GET", "public/mark-price"): mark_price,
    ("GET", "public/open-interest"): open_interest,
    ("GET", "public/time"): time_,
    ("GET", "system/status"): system_status,
    ("GET", "market/books"): books,
    ("GET", "market/books-full"): books,
    ("GET", "market/ticker"): market_ticker,
    ("GET", "market/tickers"): market_tickers,
    ("GET", "market/trades"): trades,
}

# Signed GETs that need no trading state beyond the key.
PRIVATE_READ_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "asset/currencies"): currencies,
}
