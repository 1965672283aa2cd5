"""Sending one order safely: record it, send it once, and when the outcome is unknown, ask the
venue by client order id before anything else happens."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from laicai.domain.orders import OrderRequest, OrderState, OrderStatus
from laicai.errors import (
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TransientExchangeError,
)
from laicai.store.records import Fill, JournalEntry, JsonObject, OrderRecord, OrderUpdate
from laicai.store.states import Liquidity
from laicai.venues.port import Trading

log = logging.getLogger(__name__)


class Clock(Protocol):
    """Time for execution: timestamps and waiting (a test or backtest controls both)."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class OrderStore(Protocol):
    """The part of the repository that sending orders writes: the intent journal, orders and
    fills (:class:`~laicai.store.repository.Repository` has it all; close-all without a
    database keeps them in memory)."""

    async def add_intent(self, operation: str, payload: JsonObject, *, ts: datetime,
                         position_id: int | None = None) -> JournalEntry: ...

    async def mark_intent_sent(self, intent_id: int, *, ts: datetime) -> JournalEntry: ...

    async def mark_intent_done(self, intent_id: int, *, ts: datetime) -> JournalEntry: ...

    async def mark_intent_failed(self, intent_id: int, error: str, *, ts: datetime
                                 ) -> JournalEntry: ...

    async def upsert_order(self, order: OrderUpdate) -> OrderRecord: ...

    async def list_orders(self, position_id: int) -> list[OrderRecord]: ...

    async def add_fill(self, fill: Fill) -> bool: ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class SendResult:
    """The venue's state of the order, or why there is none. ``retryable`` says whether the
    same intent may be tried again with a new client order id (the venue never accepted it and
    the refusal was not final, e.g. a 5xx before acceptance or a rate limit)."""

    request: OrderRequest
    state: OrderState | None
    error: str = ""
    retryable: bool = False
    rate_limited: bool = False  # the venue said "too many requests": back off first


class OrderRunner:
    """Sends orders for execution; every order lands in the store with its raw venue state."""

    def __init__(self, venue: Trading, store: OrderStore, clock: Clock, *,
                 lookup_attempts: int = 6, lookup_delay_s: float = 0.25,
                 settle_timeout_s: float = 5.0) -> None:
        self.venue = venue
        self.store = store
        self.clock = clock
        self.lookup_attempts = lookup_attempts
        self.lookup_delay_s = lookup_delay_s
        self.settle_timeout_s = settle_timeout_s

    async def record_pending(self, req: OrderRequest, *, position_id: int | None,
                             journal_id: int | None) -> None:
        """Store the order as pending before it is sent (the journal holds its intent)."""
        await self._record(req, None, "pending", position_id, journal_id)

    async def send(self, req: OrderRequest, *, position_id: int | None,
                   journal_id: int | None, recorded: bool = False) -> SendResult:
        """Send once. ``recorded``: the pending row is already stored (the caller wrote the
        rows of a pair before sending both at once, so no store write sits between them)."""
        if not recorded:
            await self.record_pending(req, position_id=position_id, journal_id=journal_id)
        try:
            state: OrderState | None = await self.venue.place_order(req)
        except DuplicateClientOrderId:
            # sent before (a restart replaying its journal, or a lost answer): it exists
            state = await self.lookup(req)
        except OutcomeUnknown as e:
            log.warning("order %s: outcome unknown (%s); looking it up", req.client_order_id, e)
            state = await self.lookup(req)
            if state is None:
                await self._record(req, None, "not_placed", position_id, journal_id)
                return SendResult(req, None, f"outcome unknown, not found: {e}", True)
        except (OrderRejected, InsufficientFunds) as e:
            await self._record(req, None, "rejected", position_id, journal_id)
            return SendResult(req, None, str(e), False)
        except TransientExchangeError as e:  # refused before acceptance (e.g. rate limited)
            state = await self.lookup(req)
            if state is None:
                await self._record(req, None, "not_placed", position_id, journal_id)
                return SendResult(req, None, str(e), True, isinstance(e, RateLimited))
        if state is None:
            await self._record(req, None, "not_placed", position_id, journal_id)
            return SendResult(req, None, "the venue does not know the order", True)
        if state.status is OrderStatus.OPEN and req.type.value in ("market", "ioc", "fok"):
            state = await self.settle(req.inst_id, req.client_order_id, state)
        await self._record(req, state, state.status.value, position_id, journal_id)
        await self._record_trades(state)
        return SendResult(req, state)

    async def lookup(self, req: OrderRequest) -> OrderState | None:
        """The order by client id, asking a few times: a request that timed out may still be
        on its way to the matching engine."""
        for attempt in range(self.lookup_attempts):
            try:
                state = await self.venue.get_order(req.inst_id, req.client_order_id)
            except TransientExchangeError:
                state = None
            if state is not None:
                return state
            if attempt + 1 < self.lookup_attempts:
                await self.clock.sleep(self.lookup_delay_s)
        return None

    async def settle(self, inst_id: str, client_order_id: str, state: OrderState) -> OrderState:
        """Poll an order until it is final (or the timeout passes)."""
        waited = 0.0
        while state.status is OrderStatus.OPEN and waited < self.settle_timeout_s:
            await self.clock.sleep(self.lookup_delay_s)
            waited += self.lookup_delay_s
            try:
                fresh = await self.venue.get_order(inst_id, client_order_id)
            except TransientExchangeError:
                continue
            if fresh is not None:
                state = fresh
        return state

    async def refresh(self, req: OrderRequest, *, position_id: int | None,
                      journal_id: int | None) -> OrderState | None:
        """Re-read an order (late fills of an earlier attempt) and store what is known."""
        state = await self.lookup(req)
        if state is not None:
            await self._record(req, state, state.status.value, position_id, journal_id)
            await self._record_trades(state)
        return state

    async def record_missing(self, req: OrderRequest, *, position_id: int | None,
                             journal_id: int | None) -> None:
        """A journaled order the venue does not know: it was never placed."""
        await self._record(req, None, "not_placed", position_id, journal_id)

    async def cancel(self, req: OrderRequest, *, position_id: int | None,
                     journal_id: int | None) -> OrderState | None:
        try:
            state: OrderState | None = await self.venue.cancel_order(req.inst_id,
                                                                     req.client_order_id)
        except ExchangeError:
            state = await self.lookup(req)
        if state is not None:
            await self._record(req, state, state.status.value, position_id, journal_id)
            await self._record_trades(state)
        return state

    async def _record_trades(self, state: OrderState) -> None:
        """Every fill of a final order lands in ``fills`` (idempotent on the trade id)."""
        if state.filled <= 0 or not state.status.final:
            return
        try:
            trades = await self.venue.order_trades(state.inst_id, state.venue_order_id)
        except ExchangeError as e:  # bookkeeping can catch up later; the order is stored
            log.warning("fills of %s not read: %s", state.client_order_id, e)
            return
        for t in trades:
            await self.store.add_fill(Fill(
                inst_id=t.inst_id, trade_id=t.trade_id, side=t.side, px=t.px, size=t.size,
                fee=-t.fee, fee_ccy=t.fee_ccy,
                liquidity=Liquidity.MAKER if t.maker else Liquidity.TAKER,
                ts=datetime.fromtimestamp(t.ts_ms / 1000, UTC),
                client_order_id=t.client_order_id or state.client_order_id))

    async def _record(self, req: OrderRequest, state: OrderState | None, status: str,
                      position_id: int | None, journal_id: int | None) -> None:
        await self.store.upsert_order(OrderUpdate(
            client_order_id=req.client_order_id, inst_id=req.inst_id, side=req.side,
            ord_type=req.type.value, size=req.size, state=status, ts=self.clock.now(),
            venue_order_id=state.venue_order_id if state else None, position_id=position_id,
            journal_id=journal_id, price=req.price, reduce_only=req.reduce_only,
            filled_size=state.filled if state else None, avg_px=state.avg_px if state else None,
            fee=state.fee if state else None, fee_ccy=state.fee_ccy if state else None,
            raw=state.raw if state else None))

