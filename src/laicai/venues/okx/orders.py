"""Orders in OKX's shapes: the ``trade/order`` body of an :class:`OrderRequest`, and an OKX order
row -> :class:`OrderState`. Pure functions; amounts go out as plain decimal strings (never an
exponent, never through a float) and come back as the exact Decimals of OKX's strings.
"""

from __future__ import annotations

from decimal import Decimal

from laicai.domain.enums import Side
from laicai.domain.instrument import Instrument
from laicai.domain.orders import OrderRequest, OrderState, OrderStatus, OrderType, Trade
from laicai.errors import ExchangeError, OrderRejected
from laicai.venues.okx.parsing import dec, dec_or_zero, ms, opt_dec, text
from laicai.venues.okx.types import Row

# OKX ``state`` -> laicai status
STATES: dict[str, OrderStatus] = {
    "live": OrderStatus.OPEN,
    "partially_filled": OrderStatus.OPEN,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}
PRICED = frozenset({OrderType.LIMIT, OrderType.POST_ONLY, OrderType.IOC, OrderType.FOK})


def plain(amount: Decimal) -> str:
    """``amount`` as OKX wants a number: a plain decimal string (``1E-8`` -> ``0.00000001``,
    ``1E+2`` -> ``100``)."""
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    return format(amount, "f")


def positive(amount: Decimal, what: str) -> str:
    """``amount`` as a plain string, refusing zero and negatives (a bug of the caller)."""
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{what} must be a positive amount, got {amount}")
    return plain(amount)


def order_body(request: OrderRequest, instrument: Instrument) -> dict[str, str]:
    """The ``trade/order`` body of ``request``, after checking what OKX would refuse anyway
    for sure (a size that is not a multiple of the lot, a missing price): such a request is
    refused here with :class:`OrderRejected` and never sent. Sizes are in order units
    (contracts for swaps, base for spot: spot market orders say so with ``tgtCcy``)."""
    what = f"order {request.client_order_id} {request.inst_id}"
    size, lot = request.size, instrument.lot_size
    if not size.is_finite() or size <= 0:
        raise OrderRejected(f"{what}: size {size} must be positive")
    if size % lot != 0:
        raise OrderRejected(f"{what}: size {plain(size)} is not a multiple of the lot size "
                            f"{plain(lot)}")
    body = {
        "instId": request.inst_id,
        "tdMode": request.td_mode,
        "side": request.side.value,
        "ordType": request.type.value,
        "sz": plain(size),
        "clOrdId": request.client_order_id,
    }
    if request.type in PRICED:
        price = request.price
        if price is None or not price.is_finite() or price <= 0:
            raise OrderRejected(f"{what}: a {request.type.value} order needs a positive price, "
                                f"got {price}")
        body["px"] = plain(price)
    elif not instrument.is_swap:  # a spot market order: the size is in base, not quote
        body["tgtCcy"] = "base_ccy"
    if request.reduce_only:
        body["reduceOnly"] = "true"
    return body


def order_state(row: Row) -> OrderState:
    """A ``trade/order`` row (GET, or the ``orders`` WebSocket push). ``filled`` is OKX's
    ``accFillSz`` (order units); ``fee`` flips OKX's sign (negative = charged) so that a
    positive fee is paid; ``avg_px`` is ``None`` until something filled."""
    what = "order"
    state = text(row, "state", what)
    status = STATES.get(state)
    if status is None:
        raise ExchangeError(f"malformed OKX order: unknown state={state!r}")
    side = text(row, "side", what)
    if side not in (Side.BUY.value, Side.SELL.value):
        raise ExchangeError(f"malformed OKX order: side={side!r}")
    avg_px = opt_dec(row, "avgPx", what)
    return OrderState(
        client_order_id=str(row.get("clOrdId") or ""),
        venue_order_id=text(row, "ordId", what),
        inst_id=text(row, "instId", what),
        side=Side(side),
        status=status,
        size=dec(row, "sz", what),
        filled=dec_or_zero(row, "accFillSz", what),
        avg_px=avg_px if avg_px else None,  # OKX may send "0" before the first fill
        fee=-dec_or_zero(row, "fee", what),
        fee_ccy=str(row.get("feeCcy") or ""),
        ts_ms=ms(row, "uTime" if row.get("uTime") else "cTime", what),
        raw=dict(row),
    )


def find_ccy(rows: list[Row], ccy: str) -> Row | None:
    """The row of ``ccy`` in an answer listing currencies."""
    return next((r for r in rows if r.get("ccy") == ccy), None)


def liability(balance_row: Row, ccy: str) -> Decimal:
    """What ``ccy`` owes in an ``account/balance`` answer: ``liab`` (principal plus accrued
    interest, OKX's ``crossLiab`` where ``liab`` is empty), 0 when the currency is absent."""
    details = balance_row.get("details")
    if not isinstance(details, list):
        raise ExchangeError(f"malformed OKX trading balance: details={details!r}")
    row = find_ccy(details, ccy)
    if row is None:
        return Decimal(0)
    what = "trading balance"
    liab = opt_dec(row, "liab", what)
    return abs(liab if liab is not None else dec_or_zero(row, "crossLiab", what))


def trade(row: Row) -> Trade:
    """One row of ``trade/fills`` as a domain :class:`Trade` (fee positive when paid)."""
    return Trade(
        trade_id=str(row["tradeId"]), venue_order_id=str(row["ordId"]),
        client_order_id=str(row.get("clOrdId") or ""), inst_id=str(row["instId"]),
        side=Side(str(row["side"])), px=Decimal(str(row["fillPx"])),
        size=Decimal(str(row["fillSz"])), fee=-Decimal(str(row.get("fee") or "0")),
        fee_ccy=str(row.get("feeCcy") or ""), maker=row.get("execType") == "M",
        ts_ms=int(str(row.get("ts") or row.get("fillTime") or 0)))
