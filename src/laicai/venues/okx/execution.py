"""The write side (signed): orders, leverage, transfers, Simple Earn and margin loans.

What is sent again and what is not:

- **Placing an order** is never repeated after it may have reached OKX. A timeout, a dropped
  connection, a 5xx or an unreadable answer raises :class:`OutcomeUnknown` (the caller looks
  the order up by its client order id). Only a rate-limit refusal (OKX 50011 / HTTP 429: OKX
  did not process the request) is retried by the gateway's retrier; when the retries run out
  the :class:`RateLimited` itself is raised (the order was not placed). A refusal of the order
  (``sCode``) raises :class:`OrderRejected`, :class:`InsufficientFunds` or, for a client order
  id OKX already has (51016), :class:`DuplicateClientOrderId`.
- **Transfers, Earn purchases/redemptions, borrows and repayments** move money, so they are
  sent at most once the same way. A transfer carries a ``clientId`` and an unknown outcome is
  settled by asking ``asset/transfer-state`` for it; the others raise :class:`OutcomeUnknown`
  (compare balances, :meth:`OkxExecution.earn_balance` or :meth:`OkxExecution.liability`).
- **Reads, cancels and leverage settings** are idempotent and retried on transient errors.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from laicai.domain.orders import OrderRequest, OrderState, Trade
from laicai.errors import ExchangeError, OrderRejected, OutcomeUnknown
from laicai.venues.okx import orders
from laicai.venues.okx.constants import (
    ACCOUNT_TYPES,
    BALANCE,
    CANCEL_FINAL_CODES,
    CANCEL_ORDER,
    EARN_PURCHASE_RATE,
    FILLS,
    LEVERAGE_INFO,
    MARGIN_BALANCE,
    ORDER,
    ORDER_NOT_FOUND_CODE,
    ORDERS_PENDING,
    ORDERS_PENDING_PAGE,
    SAVINGS_BALANCE,
    SAVINGS_PURCHASE_REDEMPT,
    SET_LEVERAGE,
    SPOT_MANUAL_BORROW_REPAY,
    TRANSFER,
    TRANSFER_STATE,
)
from laicai.venues.okx.errors import item_error, okx_code_of
from laicai.venues.okx.gateway import OkxGateway
from laicai.venues.okx.parsing import dec, first_dec, opt_dec
from laicai.venues.okx.providers import OkxInstrumentProvider
from laicai.venues.okx.types import Row

log = logging.getLogger(__name__)

MARGIN_MODES = ("cross", "isolated")


def _check_item(what: str, rows: list[Row]) -> Row | None:
    """The first item of a per-item answer; a failed one raises (OKX answers ``code`` 1 and
    ccxt raises for it, so this only guards against an answer that says otherwise)."""
    row = rows[0] if rows else None
    if row is not None:
        code = str(row.get("sCode") or "0")
        if code != "0":
            raise item_error(what, code, str(row.get("sMsg") or ""))
    return row


class OkxExecution:
    def __init__(self, gateway: OkxGateway, instruments: OkxInstrumentProvider) -> None:
        self._gw = gateway
        self._instruments = instruments

    # ------------------------------------------------------------------ orders
    async def place_order(self, request: OrderRequest) -> OrderState:
        """Send ``request`` once and return OKX's state of the order, read back by its client
        order id right after OKX accepted it (a market order is usually final by then)."""
        what = f"place order {request.client_order_id} {request.inst_id}"
        try:
            instrument = await self._instruments.get(request.inst_id)
        except ExchangeError as e:
            if e.retryable:  # nothing was sent: the caller may simply try again
                raise
            raise OrderRejected(f"{what}: {e}") from e
        body = orders.order_body(request, instrument)
        try:
            rows = await self._gw.post(ORDER, body, idempotent=False, what=what)
        except ExchangeError as e:
            if type(e) is ExchangeError:  # a refusal code ccxt has no class for (e.g. 51169)
                raise OrderRejected(str(e)) from e.__cause__
            raise
        accepted = _check_item(what, rows)
        if accepted is None:
            raise OutcomeUnknown(f"{what}: OKX answered without the order's item; look it up")
        ord_id = str(accepted.get("ordId") or "")
        log.info("%s: accepted as ordId %s", what, ord_id)
        try:
            state = await self.get_order(request.inst_id, request.client_order_id)
        except ExchangeError as e:
            raise OutcomeUnknown(f"{what}: accepted as ordId {ord_id}, but its state could not "
                                 f"be read: {e}") from e
        if state is None:
            raise OutcomeUnknown(f"{what}: accepted as ordId {ord_id}, but OKX does not find it "
                                 f"by clOrdId yet")
        return state

    async def get_order(self, inst_id: str, client_order_id: str) -> OrderState | None:
        """OKX's state of the order, or ``None`` when OKX has no order with that client order
        id (51603). A read: retried on transient errors."""
        what = f"order {client_order_id} {inst_id}"
        try:
            rows = await self._gw.rows(ORDER, {"instId": inst_id, "clOrdId": client_order_id},
                                       private=True, what=what)
        except ExchangeError as e:
            if okx_code_of(e) == ORDER_NOT_FOUND_CODE:
                return None
            raise
        return orders.order_state(rows[0]) if rows else None

    async def open_orders(self) -> list[OrderState]:
        """Every resting order of the account, all instrument types, newest first
        (``trade/orders-pending``, paged by ``after`` = the oldest ordId seen). A read."""
        out: list[OrderState] = []
        params = {"limit": str(ORDERS_PENDING_PAGE)}
        while True:
            rows = await self._gw.rows(ORDERS_PENDING, params, private=True,
                                       what="open orders")
            out.extend(orders.order_state(r) for r in rows)
            if len(rows) < ORDERS_PENDING_PAGE:
                return out
            params = {"limit": str(ORDERS_PENDING_PAGE), "after": out[-1].venue_order_id}

    async def order_trades(self, inst_id: str, venue_order_id: str) -> list[Trade]:
        """The fills of one order (``trade/fills`` by ordId). A read: retried."""
        rows = await self._gw.rows(FILLS, {"instId": inst_id, "ordId": venue_order_id},
                                   private=True, what=f"fills of order {venue_order_id}")
        return [orders.trade(r) for r in rows]

    async def cancel_order(self, inst_id: str, client_order_id: str) -> OrderState:
        """Cancel by client order id and return the order's state afterwards. An order that is
        already final (OKX 51400/51401/51402) is not an error: its state is returned. OKX
        cancels asynchronously, so the state may still be OPEN for a moment. Unknown order ->
        :class:`OrderRejected`."""
        what = f"cancel order {client_order_id} {inst_id}"
        body = {"instId": inst_id, "clOrdId": client_order_id}
        refusal: ExchangeError | None = None
        try:
            rows = await self._gw.post(CANCEL_ORDER, body, idempotent=True, what=what)
        except ExchangeError as e:
            if okx_code_of(e) not in CANCEL_FINAL_CODES:
                raise
            refusal = e
        else:
            code = str(rows[0].get("sCode") or "0") if rows else "0"
            if code in CANCEL_FINAL_CODES:
                refusal = item_error(what, code, str(rows[0].get("sMsg") or ""))
            elif code != "0":
                raise item_error(what, code, str(rows[0].get("sMsg") or ""))
        state = await self.get_order(inst_id, client_order_id)
        if state is None:
            if refusal is not None:
                raise OrderRejected(f"{what}: OKX has no such order ({refusal})") from refusal
            raise ExchangeError(f"{what}: canceled, but OKX does not find the order")
        return state

    async def cancel_venue_order(self, inst_id: str, venue_order_id: str) -> None:
        """Cancel by OKX's ``ordId`` (for an order without a client order id of ours). An
        order that is already final (51400/51401/51402) is not an error. Idempotent."""
        what = f"cancel order ordId {venue_order_id} {inst_id}"
        try:
            rows = await self._gw.post(CANCEL_ORDER, {"instId": inst_id, "ordId": venue_order_id},
                                       idempotent=True, what=what)
        except ExchangeError as e:
            if okx_code_of(e) in CANCEL_FINAL_CODES:
                return
            raise
        code = str(rows[0].get("sCode") or "0") if rows else "0"
        if code != "0" and code not in CANCEL_FINAL_CODES:
            raise item_error(what, code, str(rows[0].get("sMsg") or ""))

    # ------------------------------------------------------------------ account
    async def set_leverage(self, inst_id: str, leverage: int, margin_mode: str = "cross"
                           ) -> None:
        if leverage < 1:
            raise ValueError(f"leverage must be at least 1, got {leverage}")
        if margin_mode not in MARGIN_MODES:
            raise ValueError(f"margin mode must be one of {MARGIN_MODES}, got {margin_mode!r}")
        body = {"instId": inst_id, "lever": str(leverage), "mgnMode": margin_mode}
        await self._gw.post(SET_LEVERAGE, body, idempotent=True,
                            what=f"set leverage {inst_id} {leverage}x {margin_mode}")

    async def leverage(self, inst_id: str, margin_mode: str = "cross") -> int:
        """The leverage set for ``inst_id`` in ``margin_mode`` (``account/leverage-info``)."""
        if margin_mode not in MARGIN_MODES:
            raise ValueError(f"margin mode must be one of {MARGIN_MODES}, got {margin_mode!r}")
        what = f"leverage of {inst_id} {margin_mode}"
        rows = await self._gw.rows(LEVERAGE_INFO, {"instId": inst_id, "mgnMode": margin_mode},
                                   private=True, what=what)
        row = next((r for r in rows if r.get("instId") == inst_id), None)
        if row is None:
            raise ExchangeError(f"{what}: OKX answered no row for the instrument")
        return int(dec(row, "lever", what))

    async def transfer(self, ccy: str, amount: Decimal, from_account: str, to_account: str,
                       client_id: str | None = None) -> None:
        """Move ``amount`` of ``ccy`` between the "trading" (18) and "funding" (6) accounts.
        Not enough to move -> :class:`InsufficientFunds` (58350). ``client_id`` (1-32 letters
        and digits) is generated when not given."""
        src, dst = ACCOUNT_TYPES.get(from_account), ACCOUNT_TYPES.get(to_account)
        if src is None or dst is None or src == dst:
            raise ValueError(f"transfer goes between {' and '.join(ACCOUNT_TYPES)}, "
                             f"got {from_account!r} -> {to_account!r}")
        if client_id is None:
            client_id = uuid.uuid4().hex  # 32 letters and digits, as OKX's clientId allows
        elif not (0 < len(client_id) <= 32 and client_id.isalnum() and client_id.isascii()):
            raise ValueError(f"a transfer clientId is 1-32 letters and digits, got {client_id!r}")
        body = {"ccy": ccy, "amt": orders.positive(amount, "transfer amount"), "from": src,
                "to": dst, "type": "0", "clientId": client_id}
        what = f"transfer {orders.plain(amount)} {ccy} {from_account} -> {to_account}"
        try:
            await self._gw.post(TRANSFER, body, idempotent=False, what=what)
        except OutcomeUnknown as e:
            state = await self._transfer_state(client_id, what)
            if state == "success":
                log.warning("%s: the answer was lost, but OKX reports clientId %s done",
                            what, client_id)
                return
            if state == "failed":
                raise ExchangeError(f"{what}: OKX reports clientId {client_id} failed") from e
            raise OutcomeUnknown(f"{e}; transfer clientId {client_id} is "
                                 f"{state or 'not known to OKX yet'}") from e

    async def transfer_state(self, client_id: str) -> str | None:
        """``asset/transfer-state`` of ``client_id``: ``success``, ``pending``, ``failed``, or
        None when OKX does not know it. A read: retried; unreadable -> the error is raised."""
        rows = await self._gw.rows(TRANSFER_STATE, {"clientId": client_id, "type": "0"},
                                   private=True, what=f"transfer state of clientId {client_id}")
        row = next((r for r in rows if r.get("clientId") == client_id), None)
        return None if row is None else str(row.get("state") or "") or None

    async def transferable(self, ccy: str) -> Decimal:
        """What of ``ccy`` may leave the trading account: ``availBal`` less what it owes, and
        no more than ``availEq`` (the equity the margin requirements leave free) where OKX
        reports it; 0 when the currency is absent."""
        what = f"transferable {ccy}"
        rows = await self._gw.rows(BALANCE, {"ccy": ccy}, private=True, what=what)
        if not rows:
            raise ExchangeError(f"{what}: OKX answered no data")
        details = rows[0].get("details")
        row = orders.find_ccy(details, ccy) if isinstance(details, list) else None
        if row is None:
            return Decimal(0)
        free = first_dec(row, ("availBal", "cashBal"), what) - orders.liability(rows[0], ccy)
        avail_eq = opt_dec(row, "availEq", what)
        if avail_eq is not None:
            free = min(free, avail_eq)
        return max(free, Decimal(0))

    async def adjust_margin(self, inst_id: str, amount: Decimal, add: bool) -> None:
        """Add USDT to (or take it from) an isolated position's margin
        (``account/position/margin-balance``). Moves money: sent at most once."""
        kind = "add" if add else "reduce"
        body = {"instId": inst_id, "posSide": "net", "type": kind,
                "amt": orders.positive(amount, "margin amount")}
        await self._gw.post(MARGIN_BALANCE, body, idempotent=False,
                            what=f"{kind} {orders.plain(amount)} USDT isolated margin {inst_id}")

    async def _transfer_state(self, client_id: str, what: str) -> str | None:
        """``asset/transfer-state`` of our ``clientId`` (``None``: unknown or unreadable)."""
        try:
            rows = await self._gw.rows(TRANSFER_STATE, {"clientId": client_id, "type": "0"},
                                       private=True, what=f"{what}: state")
        except ExchangeError as e:
            log.warning("%s: transfer state of clientId %s unreadable: %s", what, client_id, e)
            return None
        row = next((r for r in rows if r.get("clientId") == client_id), None)
        return None if row is None else str(row.get("state") or "") or None

    # ------------------------------------------------------------------ Simple Earn
    async def earn_purchase(self, ccy: str, amount: Decimal) -> None:
        """Lend ``amount`` of ``ccy`` from the funding account through Simple Earn. The minimum
        lending rate sent is the lowest OKX accepts (1%, ``EARN_PURCHASE_RATE``), so the coin
        is lent whenever the market rate is at least that; interest is the market's rate."""
        body = {"ccy": ccy, "amt": orders.positive(amount, "Earn purchase"), "side": "purchase",
                "rate": EARN_PURCHASE_RATE}
        await self._gw.post(SAVINGS_PURCHASE_REDEMPT, body, idempotent=False,
                            what=f"Earn purchase {orders.plain(amount)} {ccy}")

    async def earn_redeem(self, ccy: str, amount: Decimal) -> None:
        """Redeem ``amount`` to the funding account (it may arrive later: OKX settles
        redemptions with a delay)."""
        body = {"ccy": ccy, "amt": orders.positive(amount, "Earn redemption"),
                "side": "redempt"}
        await self._gw.post(SAVINGS_PURCHASE_REDEMPT, body, idempotent=False,
                            what=f"Earn redemption {orders.plain(amount)} {ccy}")

    async def earn_balance(self, ccy: str) -> Decimal:
        """``amt`` of ``finance/savings/balance``: principal plus earned interest, less what
        is being redeemed; 0 when nothing of ``ccy`` is in Simple Earn."""
        what = f"Earn balance {ccy}"
        rows = await self._gw.rows(SAVINGS_BALANCE, {"ccy": ccy}, private=True, what=what)
        row = orders.find_ccy(rows, ccy)
        return Decimal(0) if row is None else dec(row, "amt", what)

    async def earn_balances(self) -> dict[str, Decimal]:
        """Every currency held in Simple Earn (``amt`` of ``finance/savings/balance``, as in
        :meth:`earn_balance`), only those above zero."""
        rows = await self._gw.rows(SAVINGS_BALANCE, private=True, what="Earn balances")
        out: dict[str, Decimal] = {}
        for row in rows:
            amount = dec(row, "amt", "Earn balances")
            if amount > 0:
                out[str(row.get("ccy") or "")] = amount
        return out

    # ------------------------------------------------------------------ margin loans
    async def borrow(self, ccy: str, amount: Decimal) -> None:
        await self._borrow_repay("borrow", ccy, amount)

    async def repay(self, ccy: str, amount: Decimal) -> None:
        """Repay ``amount`` of what ``ccy`` owes (OKX takes accrued interest first)."""
        await self._borrow_repay("repay", ccy, amount)

    async def _borrow_repay(self, side: str, ccy: str, amount: Decimal) -> None:
        body = {"ccy": ccy, "side": side, "amt": orders.positive(amount, f"{side} amount")}
        await self._gw.post(SPOT_MANUAL_BORROW_REPAY, body, idempotent=False,
                            what=f"{side} {orders.plain(amount)} {ccy}")

    async def liability(self, ccy: str) -> Decimal:
        """Borrowed principal plus accrued interest of ``ccy`` (``liab`` of its
        ``account/balance`` detail), 0 when nothing is owed."""
        what = f"liability {ccy}"
        rows = await self._gw.rows(BALANCE, {"ccy": ccy}, private=True, what=what)
        if not rows:
            raise ExchangeError(f"{what}: OKX answered no data")
        return orders.liability(rows[0], ccy)
