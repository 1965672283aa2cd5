"""The intent journal, orders and fills of one run kept in memory: what close-all records when
there is no database (``laicai close-all --no-db``, or a database that is lost). It follows
the :class:`~laicai.execution.orders.OrderStore` contract of the real repository: intents move
pending -> sent -> done | failed, an order is upserted by client order id with ``None`` fields
keeping what is known, a fill is stored once per (instrument, trade id)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from laicai.store.records import Fill, JournalEntry, JsonObject, OrderRecord, OrderUpdate
from laicai.store.states import JOURNAL_TRANSITIONS, JournalStatus

ZERO = Decimal(0)
T = TypeVar("T")


def _keep(new: T | None, known: T | None) -> T | None:
    """An update's ``None`` keeps what is known."""
    return known if new is None else new


class MemoryJournal:
    def __init__(self) -> None:
        self.intents: dict[int, JournalEntry] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.fills: dict[tuple[str, str], Fill] = {}

    async def add_intent(self, operation: str, payload: JsonObject, *, ts: datetime,
                         position_id: int | None = None) -> JournalEntry:
        entry = JournalEntry(len(self.intents) + 1, operation, position_id, dict(payload),
                             JournalStatus.PENDING, None, ts, ts)
        self.intents[entry.id] = entry
        return entry

    def _move(self, intent_id: int, to: JournalStatus, ts: datetime,
              error: str | None = None) -> JournalEntry:
        entry = self.intents[intent_id]
        if to not in JOURNAL_TRANSITIONS[entry.status]:
            raise ValueError(f"intent {intent_id}: {entry.status} -> {to} is not a legal move")
        entry = dataclasses.replace(entry, status=to, error=error, updated_at=ts)
        self.intents[intent_id] = entry
        return entry

    async def mark_intent_sent(self, intent_id: int, *, ts: datetime) -> JournalEntry:
        return self._move(intent_id, JournalStatus.SENT, ts)

    async def mark_intent_done(self, intent_id: int, *, ts: datetime) -> JournalEntry:
        return self._move(intent_id, JournalStatus.DONE, ts)

    async def mark_intent_failed(self, intent_id: int, error: str, *, ts: datetime
                                 ) -> JournalEntry:
        return self._move(intent_id, JournalStatus.FAILED, ts, error)

    async def upsert_order(self, order: OrderUpdate) -> OrderRecord:
        old = self.orders.get(order.client_order_id)
        record = OrderRecord(
            id=old.id if old else len(self.orders) + 1,
            client_order_id=order.client_order_id,
            venue_order_id=_keep(order.venue_order_id, old.venue_order_id if old else None),
            position_id=_keep(order.position_id, old.position_id if old else None),
            journal_id=_keep(order.journal_id, old.journal_id if old else None),
            inst_id=order.inst_id, side=order.side, ord_type=order.ord_type, size=order.size,
            price=_keep(order.price, old.price if old else None),
            reduce_only=order.reduce_only, state=order.state,
            filled_size=_keep(order.filled_size, old.filled_size if old else None) or ZERO,
            avg_px=_keep(order.avg_px, old.avg_px if old else None),
            fee=_keep(order.fee, old.fee if old else None) or ZERO,
            fee_ccy=_keep(order.fee_ccy, old.fee_ccy if old else None),
            raw=dict(order.raw) if order.raw is not None else old.raw if old else None,
            created_at=old.created_at if old else order.ts, updated_at=order.ts)
        self.orders[order.client_order_id] = record
        return record

    async def list_orders(self, position_id: int) -> list[OrderRecord]:
        return [o for o in self.orders.values() if o.position_id == position_id]

    async def add_fill(self, fill: Fill) -> bool:
        key = (fill.inst_id, fill.trade_id)
        if key in self.fills:
            return False
        self.fills[key] = fill
        return True
