"""Positions and the intent journal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from laicai.store.errors import IllegalTransition, NotFound
from laicai.store.models import JournalRow, PositionRow
from laicai.store.records import (
    JournalEntry,
    JsonObject,
    NewPosition,
    PositionChanges,
    PositionRecord,
)
from laicai.store.sql.base import SqlBase, set_fields, to_record
from laicai.store.states import (
    JOURNAL_TRANSITIONS,
    POSITION_TRANSITIONS,
    JournalStatus,
    PositionStatus,
)

_FINAL = [s.value for s in PositionStatus if s.is_final]


class PositionsMixin(SqlBase):
    async def create_position(self, new: NewPosition) -> PositionRecord:
        async with self._tx() as s:
            row = PositionRow(**set_fields(new), last_update_timestamp=new.open_timestamp)
            s.add(row)
            await s.flush()
            await s.refresh(row)
            return to_record(PositionRecord, row)

    async def get_position(self, position_id: int) -> PositionRecord | None:
        async with self._tx() as s:
            row = await s.get(PositionRow, position_id)
            return None if row is None else to_record(PositionRecord, row)

    async def list_open_positions(self) -> list[PositionRecord]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(PositionRow)
                .where(PositionRow.status.not_in(_FINAL))
                .order_by(PositionRow.open_timestamp, PositionRow.id)
            )
            return [to_record(PositionRecord, row) for row in rows]

    async def list_closed_positions(
        self, *, since: datetime | None = None, limit: int = 500
    ) -> list[PositionRecord]:
        async with self._tx() as s:
            query = select(PositionRow).where(PositionRow.status.in_(_FINAL))
            if since is not None:
                query = query.where(PositionRow.close_timestamp >= since)
            rows = await s.scalars(
                query.order_by(PositionRow.close_timestamp.desc(), PositionRow.id.desc())
                .limit(limit)
            )
            return [to_record(PositionRecord, row) for row in rows]

    async def update_position(
        self, position_id: int, changes: PositionChanges, *, ts: datetime
    ) -> PositionRecord:
        async with self._tx() as s:
            row = await self._position_for_update(s, position_id)
            for name, value in set_fields(changes).items():
                setattr(row, name, value)
            row.last_update_timestamp = ts
            await s.flush()
            await s.refresh(row)
            return to_record(PositionRecord, row)

    async def transition_position(
        self,
        position_id: int,
        to: PositionStatus,
        *,
        ts: datetime,
        changes: PositionChanges | None = None,
    ) -> PositionRecord:
        to = PositionStatus(to)
        async with self._tx() as s:
            row = await self._position_for_update(s, position_id)
            old = row.status
            allowed = POSITION_TRANSITIONS[old]
            if to not in allowed:
                legal = ", ".join(sorted(allowed)) or "none: it is final"
                raise IllegalTransition(
                    f"position {position_id} ({row.symbol}): {old} -> {to} is not a legal move "
                    f"(from {old}: {legal})"
                )
            fields = set_fields(changes) if changes is not None else {}
            for name, value in fields.items():
                setattr(row, name, value)
            reset_done = old is PositionStatus.RESETTING and to is PositionStatus.OPEN
            if reset_done and "resets_count" not in fields:
                row.resets_count = row.resets_count + 1
            if to.is_final and row.close_timestamp is None:
                row.close_timestamp = ts
            row.status = to
            row.last_update_timestamp = ts
            await s.flush()
            await s.refresh(row)
            return to_record(PositionRecord, row)

    @staticmethod
    async def _position_for_update(s: AsyncSession, position_id: int) -> PositionRow:
        row = await s.get(PositionRow, position_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no position with id {position_id}")
        return row

    # --- journal -----------------------------------------------------------------------------
    async def add_intent(
        self, operation: str, payload: JsonObject, *, ts: datetime, position_id: int | None = None
    ) -> JournalEntry:
        async with self._tx() as s:
            row = JournalRow(
                operation=operation,
                position_id=position_id,
                payload=dict(payload),
                status=JournalStatus.PENDING,
                created_at=ts,
                updated_at=ts,
            )
            s.add(row)
            await s.flush()
            await s.refresh(row)
            return to_record(JournalEntry, row)

    async def mark_intent_sent(self, intent_id: int, *, ts: datetime) -> JournalEntry:
        return await self._move_intent(intent_id, JournalStatus.SENT, ts)

    async def mark_intent_done(self, intent_id: int, *, ts: datetime) -> JournalEntry:
        return await self._move_intent(intent_id, JournalStatus.DONE, ts)

    async def mark_intent_failed(self, intent_id: int, error: str, *, ts: datetime) -> JournalEntry:
        return await self._move_intent(intent_id, JournalStatus.FAILED, ts, error)

    async def list_pending_intents(self) -> list[JournalEntry]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(JournalRow)
                .where(JournalRow.status.in_([JournalStatus.PENDING, JournalStatus.SENT]))
                .order_by(JournalRow.created_at, JournalRow.id)
            )
            return [to_record(JournalEntry, row) for row in rows]

    async def _move_intent(
        self, intent_id: int, to: JournalStatus, ts: datetime, error: str | None = None
    ) -> JournalEntry:
        async with self._tx() as s:
            row = await s.get(JournalRow, intent_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no journal intent with id {intent_id}")
            if to not in JOURNAL_TRANSITIONS[row.status]:
                raise IllegalTransition(
                    f"journal intent {intent_id} ({row.operation}): {row.status} -> {to} "
                    "is not a legal move"
                )
            row.status = to
            row.updated_at = ts
            if error is not None:
                row.error = error
            await s.flush()
            await s.refresh(row)
            return to_record(JournalEntry, row)
