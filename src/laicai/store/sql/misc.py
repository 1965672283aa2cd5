"""Scans, equity snapshots, alerts and the bot's own state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from laicai.store.models import BotStateRow, EquitySnapshotRow, EventRow, ScanResultRow, ScanRunRow
from laicai.store.records import AlertEvent, EquitySnapshot, ScanResult, ScanRow, ScanRun
from laicai.store.sql.base import SqlBase, set_fields, to_record


class MiscMixin(SqlBase):
    # --- scans -------------------------------------------------------------------------------
    async def save_scan(self, run: ScanRun, rows: Sequence[ScanRow]) -> int:
        async with self._tx() as s:
            fields = set_fields(run)
            fields.pop("id", None)
            run_row = ScanRunRow(**fields)
            s.add(run_row)
            await s.flush()
            s.add_all(ScanResultRow(scan_id=run_row.id, **set_fields(row)) for row in rows)
            await s.flush()
            return run_row.id

    async def latest_scan(self) -> ScanResult | None:
        async with self._tx() as s:
            run_row = await s.scalar(
                select(ScanRunRow)
                .order_by(ScanRunRow.started_at.desc(), ScanRunRow.id.desc())
                .limit(1)
            )
            if run_row is None:
                return None
            rows = await s.scalars(
                select(ScanResultRow)
                .where(ScanResultRow.scan_id == run_row.id)
                .order_by(ScanResultRow.id)
            )
            return ScanResult(
                run=to_record(ScanRun, run_row),
                rows=tuple(to_record(ScanRow, row) for row in rows),
            )

    # --- equity ------------------------------------------------------------------------------
    async def add_equity_snapshot(self, snapshot: EquitySnapshot) -> None:
        fields = set_fields(snapshot)
        if snapshot.details is not None:
            fields["details"] = dict(snapshot.details)
        async with self._tx() as s:
            s.add(EquitySnapshotRow(**fields))

    async def latest_equity_snapshot(self) -> EquitySnapshot | None:
        async with self._tx() as s:
            row = await s.scalar(
                select(EquitySnapshotRow)
                .order_by(EquitySnapshotRow.ts.desc(), EquitySnapshotRow.id.desc())
                .limit(1)
            )
            return None if row is None else to_record(EquitySnapshot, row)

    async def list_equity_snapshots(
        self, *, since: datetime | None = None, limit: int = 1000
    ) -> list[EquitySnapshot]:
        async with self._tx() as s:
            query = select(EquitySnapshotRow)
            if since is not None:
                query = query.where(EquitySnapshotRow.ts >= since)
            rows = list(await s.scalars(
                query.order_by(EquitySnapshotRow.ts.desc(), EquitySnapshotRow.id.desc())
                .limit(limit)
            ))
            return [to_record(EquitySnapshot, row) for row in reversed(rows)]

    # --- alerts ------------------------------------------------------------------------------
    async def add_event(self, event: AlertEvent) -> int:
        fields = set_fields(event)
        if event.payload is not None:
            fields["payload"] = dict(event.payload)
        async with self._tx() as s:
            row = EventRow(**fields)
            s.add(row)
            await s.flush()
            return row.id

    async def list_events(self, limit: int = 100) -> list[AlertEvent]:
        async with self._tx() as s:
            rows = await s.scalars(
                select(EventRow).order_by(EventRow.ts.desc(), EventRow.id.desc()).limit(limit)
            )
            return [to_record(AlertEvent, row) for row in rows]

    # --- bot state ---------------------------------------------------------------------------
    async def get_bot_state(self, key: str) -> Any | None:
        async with self._tx() as s:
            row = await s.get(BotStateRow, key)
            return None if row is None else row.value

    async def set_bot_state(self, key: str, value: Any, *, ts: datetime) -> None:
        insert = self._insert(BotStateRow).values(key=key, value=value, updated_at=ts)
        stmt = insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
        async with self._tx() as s:
            await s.execute(stmt)
