"""Orders, fills and the exchange's bills (funding, Earn, borrow), each booked exactly once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from laicai.store.errors import NotFound
from laicai.store.models import (
    BorrowEventRow,
    EarnEventRow,
    FillRow,
    FundingPaymentRow,
    OrderRow,
    PositionRow,
)
from laicai.store.records import (
    BorrowEvent,
    EarnEvent,
    Fill,
    FundingPayment,
    OrderRecord,
    OrderUpdate,
)
from laicai.store.sql.base import SqlBase, set_fields, to_record
from laicai.store.states import BorrowEventKind, EarnEventKind

_BILL_COMPARED = ("inst_id", "ccy", "amount", "ts")
_EVENT_COMPARED = ("kind", "ccy", "amount", "ts")
_FILL_COMPARED = ("side", "px", "size", "fee", "fee_ccy", "liquidity", "ts")


class TradingMixin(SqlBase):
    # --- orders ------------------------------------------------------------------------------
    async def upsert_order(self, order: OrderUpdate) -> OrderRecord:
        values: dict[str, Any] = set_fields(order)
        ts = values.pop("ts")
        values["created_at"] = values["updated_at"] = ts
        values["reduce_only"] = order.reduce_only
        if order.raw is not None:
            values["raw"] = dict(order.raw)
        insert = self._insert(OrderRow).values(**values)
        # Only what this update knows (its non-None fields) overwrites the stored row.
        updated = {
            name: insert.excluded[name]
            for name in values
            if name not in ("client_order_id", "created_at")
        }
        stmt = insert.on_conflict_do_update(
            index_elements=["client_order_id"],
            set_=updated,
            # An update older than the stored state (a late push after a poll) changes nothing.
            where=OrderRow.updated_at <= insert.excluded.updated_at,
        )
        async with self._tx() as s:
            await s.execute(stmt)
            row = await self._order(s, order.client_order_id)
            assert row is not None
            return to_record(OrderRecord, row)

    async def get_order(self, client_order_id: str) -> OrderRecord | None:
        async with self._tx() as s:
            row = await self._order(s, client_order_id)
            return None if row is None else to_record(OrderRecord, row)

    async def list_orders(self, position_id: int) -> list[OrderRecord]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(OrderRow)
                .where(OrderRow.position_id == position_id)
                .order_by(OrderRow.created_at, OrderRow.id)
            )
            return [to_record(OrderRecord, row) for row in rows]

    @staticmethod
    async def _order(s: AsyncSession, client_order_id: str) -> OrderRow | None:
        # populate_existing: the upsert changed the row behind the session's identity map.
        return await s.scalar(
            select(OrderRow)
            .where(OrderRow.client_order_id == client_order_id)
            .execution_options(populate_existing=True)
        )

    # --- fills -------------------------------------------------------------------------------
    async def add_fill(self, fill: Fill) -> bool:
        values = set_fields(fill)
        async with self._tx() as s:
            if fill.client_order_id is not None:
                values["order_id"] = await s.scalar(
                    select(OrderRow.id).where(OrderRow.client_order_id == fill.client_order_id)
                )
            return await self._insert_once(
                s, FillRow, values, ("inst_id", "trade_id"), _FILL_COMPARED
            )

    async def list_fills(self, client_order_id: str) -> list[Fill]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(FillRow)
                .where(FillRow.client_order_id == client_order_id)
                .order_by(FillRow.ts, FillRow.id)
            )
            return [to_record(Fill, row) for row in rows]

    # --- bills -------------------------------------------------------------------------------
    async def add_funding_payment(self, payment: FundingPayment) -> bool:
        async with self._tx() as s:
            new = await self._insert_once(
                s, FundingPaymentRow, set_fields(payment), ("bill_id",), _BILL_COMPARED
            )
            if new and payment.position_id is not None:
                await self._add_to_total(
                    s, payment.position_id, "total_funding_fee", payment.amount
                )
            return new

    async def list_funding_payments(self, position_id: int) -> list[FundingPayment]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(FundingPaymentRow)
                .where(FundingPaymentRow.position_id == position_id)
                .order_by(FundingPaymentRow.ts, FundingPaymentRow.id)
            )
            return [to_record(FundingPayment, row) for row in rows]

    async def add_earn_event(self, event: EarnEvent) -> bool:
        async with self._tx() as s:
            new = await self._insert_once(
                s, EarnEventRow, set_fields(event), ("ref_id",), _EVENT_COMPARED
            )
            if new and event.position_id is not None and event.kind is EarnEventKind.INTEREST:
                await self._add_to_total(
                    s, event.position_id, "total_spot_earning_yield", event.amount
                )
            return new

    async def list_earn_events(self, position_id: int) -> list[EarnEvent]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(EarnEventRow)
                .where(EarnEventRow.position_id == position_id)
                .order_by(EarnEventRow.ts, EarnEventRow.id)
            )
            return [to_record(EarnEvent, row) for row in rows]

    async def list_borrow_events(self, position_id: int) -> list[BorrowEvent]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(BorrowEventRow)
                .where(BorrowEventRow.position_id == position_id)
                .order_by(BorrowEventRow.ts, BorrowEventRow.id)
            )
            return [to_record(BorrowEvent, row) for row in rows]

    async def add_borrow_event(self, event: BorrowEvent) -> bool:
        async with self._tx() as s:
            new = await self._insert_once(
                s, BorrowEventRow, set_fields(event), ("ref_id",), _EVENT_COMPARED
            )
            if new and event.position_id is not None and event.kind is BorrowEventKind.INTEREST:
                await self._add_to_total(
                    s, event.position_id, "total_borrow_interest", event.amount
                )
            return new

    @staticmethod
    async def _add_to_total(
        s: AsyncSession, position_id: int, column: str, amount: Decimal
    ) -> None:
        """Add in Python, not SQL: SQLite keeps amounts as exact text."""
        row = await s.get(PositionRow, position_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no position with id {position_id}")
        setattr(row, column, getattr(row, column) + amount)
