"""What the simulator's WebSocket pushes besides order books: tickers, mark price and funding
rate (public), and orders, positions, account and balance_and_position (private), in OKX's
shapes. REST renderers are reused where OKX sends the same object on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from laicai.sim.account import Account, Fill, Order, Position
from laicai.sim.instruments import SimInstrument
from laicai.sim.server import rest_public, views
from laicai.sim.server.context import Ctx
from laicai.sim.server.views import s

if TYPE_CHECKING:
    from laicai.sim.exchange import SimExchange

ZERO = Decimal(0)

PUBLIC_CHANNELS = ("tickers", "mark-price", "funding-rate")
PRIVATE_CHANNELS = ("orders", "positions", "account", "balance_and_position")
ORDER_INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY")
POSITION_INST_TYPES = ("MARGIN", "SWAP", "FUTURES", "OPTION", "ANY")


# ---------------------------------------------------------------------- public
def ticker(ex: SimExchange, inst_id: str) -> dict[str, Any]:
    return views.ticker(ex, inst_id)


def mark_price(ex: SimExchange, inst_id: str) -> dict[str, Any]:
    return rest_public.mark_price(Ctx(ex, "public/mark-price", {"instId": inst_id}))[0]


def funding_rate(ex: SimExchange, inst_id: str) -> dict[str, Any]:
    return rest_public.funding_rate(Ctx(ex, "public/funding-rate", {"instId": inst_id}))[0]


def ticker_key(ex: SimExchange, inst_id: str) -> tuple[Any, ...]:
    """What makes a new ticker push worth sending: the touch and the last price."""
    book = ex.books[inst_id]
    b = book.bids[0] if book.bids else None
    a = book.asks[0] if book.asks else None
    return (b[0] if b else None, b[1] if b else None, a[0] if a else None,
            a[1] if a else None, ex.mark_px(inst_id))


def funding_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["fundingRate"], row["fundingTime"], row["nextFundingTime"],
            row["settFundingRate"])


# ---------------------------------------------------------------------- private
@dataclass(slots=True)
class PrivateSub:
    """One private subscription of one connection."""

    channel: str
    arg: dict[str, str]  # as pushed: the subscription arg plus the account's uid
    inst_type: str = ""
    inst_family: str = ""
    inst_id: str = ""
    ccy: str = ""
    interval_s: float | None = None  # regular snapshot push period; None = events only
    next_regular: float = 0.0

    def matches(self, inst: SimInstrument, td_mode: str = "") -> bool:
        if self.inst_id and inst.inst_id != self.inst_id:
            return False
        if self.inst_family and (not inst.is_swap
                                 or f"{inst.base_ccy}-{inst.quote_ccy}" != self.inst_family):
            return False
        t = self.inst_type
        if not t or t == "ANY":
            return True
        if t == "MARGIN":
            return not inst.is_swap and td_mode in ("cross", "isolated")
        return inst.inst_type == t


def order_rows(ex: SimExchange, acct: Account, o: Order, fills: Sequence[Fill]
               ) -> list[dict[str, Any]]:
    """The orders-channel pushes for one order event: one per new fill (each with that
    fill's ``fillPx``/``fillSz``/``tradeId`` and the order as it stood after it), then the
    order's final state if that is not what the last fill left (a cancel, a new order)."""
    inst = ex.instruments.get(o.inst_id)
    unit = inst.ct_val if inst is not None and inst.is_swap else Decimal(1)
    base = views.order(o)
    px_ref = o.px if o.px is not None else (o.avg_px or ZERO)
    notional = o.sz if o.tgt_ccy == "quote_ccy" else o.sz * unit * px_ref
    base.update(
        amendResult="", amendSource="", code="0", msg="", reqId="", execType="",
        fillFee="0", fillFeeCcy="", fillNotionalUsd="", fillPnl="0", fillMarkPx="",
        fillIdxPx="", fillPxUsd="", fillPxVol="", fillMarkVol="", fillFwdPx="",
        notionalUsd=s(notional), lastPx=s(o.last_fill_px) if o.acc_fill_sz else "",
        tradeQuoteCcy=inst.quote_ccy if inst is not None and not inst.is_swap else "",
    )
    rows: list[dict[str, Any]] = []
    if fills:
        later_sz = sum((f.sz for f in fills), ZERO)
        later_notional = sum((f.sz * f.px for f in fills), ZERO)
        later_fee = sum((f.fee for f in fills), ZERO)
        acc = o.acc_fill_sz - later_sz
        notional_acc = o.fill_notional - later_notional
        fee_acc = o.fee - later_fee
        for n, f in enumerate(fills):
            acc += f.sz
            notional_acc += f.sz * f.px
            fee_acc += f.fee
            last = n == len(fills) - 1
            if last and o.state in ("filled", "partially_filled"):
                state = o.state
            else:
                state = "filled" if acc >= o.sz else "partially_filled"
            row = dict(base)
            row.update(
                accFillSz=s(acc), avgPx=s(notional_acc / acc) if acc else "",
                fillPx=s(f.px), fillSz=s(f.sz), fillTime=s(f.ts_ms), tradeId=f.trade_id,
                execType=f.exec_type, fillFee=s(f.fee), fillFeeCcy=f.fee_ccy, fee=s(fee_acc),
                fillNotionalUsd=s(f.sz * unit * f.px), lastPx=s(f.px), state=state,
                uTime=s(f.ts_ms),
            )
            rows.append(row)
        if rows[-1]["state"] == o.state:
            return rows
    final = dict(base)
    final.update(fillPx="", fillSz="0", fillTime="", tradeId="")
    rows.append(final)
    return rows


def position_row(ex: SimExchange, acct: Account, p: Position, now_ms: int) -> dict[str, Any]:
    row = views.position(ex, acct, p)
    row["pTime"] = str(now_ms)
    return row


def live_positions(acct: Account) -> list[Position]:
    return [p for p in acct.positions.values() if p.pos != 0]


def bal_row(acct: Account, ccy: str, now_ms: int) -> dict[str, str]:
    b = acct.trading.get(ccy)
    if b is None:
        return {"ccy": ccy, "cashBal": "0", "uTime": str(now_ms)}
    return {"ccy": ccy, "cashBal": s(b.cash), "uTime": s(b.u_time_ms or now_ms)}


def pos_row(ex: SimExchange, p: Position) -> dict[str, str]:
    inst = ex.instruments[p.inst_id]
    return {
        "posId": p.pos_id, "tradeId": p.last_trade_id, "instId": p.inst_id,
        "instType": inst.inst_type, "mgnMode": p.mgn_mode, "posSide": "net", "pos": s(p.pos),
        "ccy": inst.settle_ccy, "posCcy": "", "avgPx": s(p.avg_px) if p.pos else "",
        "nonSettleAvgPx": "", "settledPnl": "", "uTime": s(p.u_time_ms),
    }


def balance_and_position(ex: SimExchange, acct: Account, event_type: str, ccys: Sequence[str],
                         positions: Sequence[Position], fills: Sequence[Fill], now_ms: int
                         ) -> dict[str, Any]:
    return {
        "pTime": str(now_ms), "eventType": event_type,
        "balData": [bal_row(acct, c, now_ms) for c in ccys],
        "posData": [pos_row(ex, p) for p in positions],
        "trades": [{"instId": f.inst_id, "tradeId": f.trade_id} for f in fills],
    }


def bp_snapshot(ex: SimExchange, acct: Account, now_ms: int) -> dict[str, Any]:
    ccys = [c for c, b in sorted(acct.trading.items()) if b.cash != 0]
    return balance_and_position(ex, acct, "snapshot", ccys, live_positions(acct), [], now_ms)
