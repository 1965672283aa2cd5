"""The one repository interface the engine, execution, operator and dashboard use.

Everything in and out is a frozen record of :mod:`laicai.store.records` (Decimal amounts,
aware datetimes) or a domain value; no ORM object or session leaks out. Every write takes its
timestamp from the caller (``ts``), so backtests on a simulated clock store simulated time.
Each method is one transaction. Errors are :mod:`laicai.store.errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from laicai.store.records import (
    AlertEvent,
    BorrowEvent,
    EarnEvent,
    EquitySnapshot,
    Fill,
    FundingPayment,
    JournalEntry,
    JsonObject,
    NewPosition,
    OrderRecord,
    OrderUpdate,
    PositionChanges,
    PositionRecord,
    ScanResult,
    ScanRow,
    ScanRun,
)
from laicai.store.states import PositionStatus


class Repository(Protocol):
    # --- scans -------------------------------------------------------------------------------
    async def save_scan(self, run: ScanRun, rows: Sequence[ScanRow]) -> int:
        """Store one scan and all its candidates; returns the scan's id."""
        ...

    async def latest_scan(self) -> ScanResult | None:
        """The most recent scan (by start time) with its rows in stored order."""
        ...

    # --- positions ---------------------------------------------------------------------------
    async def create_position(self, new: NewPosition) -> PositionRecord:
        """Insert a position; ``ConstraintViolation`` on a duplicate (symbol, open_timestamp)."""
        ...

    async def get_position(self, position_id: int) -> PositionRecord | None: ...

    async def list_open_positions(self) -> list[PositionRecord]:
        """Every position not CLOSED or FAILED, oldest first."""
        ...

    async def list_closed_positions(
        self, *, since: datetime | None = None, limit: int = 500
    ) -> list[PositionRecord]:
        """CLOSED and FAILED positions (closed at or after ``since``), newest close first."""
        ...

    async def update_position(
        self, position_id: int, changes: PositionChanges, *, ts: datetime
    ) -> PositionRecord:
        """Set the given fields and ``last_update_timestamp = ts``; ``NotFound`` if absent."""
        ...

    async def transition_position(
        self,
        position_id: int,
        to: PositionStatus,
        *,
        ts: datetime,
        changes: PositionChanges | None = None,
    ) -> PositionRecord:
        """Move to ``to`` if that is a legal move (else ``IllegalTransition``), with ``changes``
        in the same transaction. RESETTING -> OPEN counts a reset; CLOSED/FAILED stamp
        ``close_timestamp`` (``ts`` unless given)."""
        ...

    # --- journal -----------------------------------------------------------------------------
    async def add_intent(
        self, operation: str, payload: JsonObject, *, ts: datetime, position_id: int | None = None
    ) -> JournalEntry:
        """Write an intent (``pending``) before anything of it is sent."""
        ...

    async def mark_intent_sent(self, intent_id: int, *, ts: datetime) -> JournalEntry: ...

    async def mark_intent_done(self, intent_id: int, *, ts: datetime) -> JournalEntry: ...

    async def mark_intent_failed(
        self, intent_id: int, error: str, *, ts: datetime
    ) -> JournalEntry: ...

    async def list_pending_intents(self) -> list[JournalEntry]:
        """Intents not finished (``pending`` or ``sent``), oldest first: what a restart must
        reconcile with the exchange."""
        ...

    # --- orders and fills --------------------------------------------------------------------
    async def upsert_order(self, order: OrderUpdate) -> OrderRecord:
        """Insert or update by ``client_order_id``; ``None`` fields keep stored values."""
        ...

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def list_orders(self, position_id: int) -> list[OrderRecord]: ...

    async def add_fill(self, fill: Fill) -> bool:
        """Store a trade once: ``False`` if (inst_id, trade_id) was already stored with the same
        contents; ``ConflictingDuplicate`` if it was stored with different ones."""
        ...

    async def list_fills(self, client_order_id: str) -> list[Fill]: ...

    # --- the exchange's bills ----------------------------------------------------------------
    async def add_funding_payment(self, payment: FundingPayment) -> bool:
        """Book a funding bill once (``True`` if new). A new bill of a position also adds its
        amount to ``positions.total_funding_fee`` in the same transaction."""
        ...

    async def list_funding_payments(self, position_id: int) -> list[FundingPayment]: ...

    async def add_earn_event(self, event: EarnEvent) -> bool:
        """Book an Earn bill once (``True`` if new); new INTEREST of a position adds to its
        ``total_spot_earning_yield``."""
        ...

    async def list_earn_events(self, position_id: int) -> list[EarnEvent]:
        """A position's Earn subscriptions, redemptions and interest, oldest first."""
        ...

    async def list_borrow_events(self, position_id: int) -> list[BorrowEvent]:
        """A position's borrows, repayments and interest, oldest first."""
        ...

    async def add_borrow_event(self, event: BorrowEvent) -> bool:
        """Book a borrow bill once (``True`` if new); new INTEREST of a position adds to its
        ``total_borrow_interest``."""
        ...

    # --- account, alerts, bot state ----------------------------------------------------------
    async def add_equity_snapshot(self, snapshot: EquitySnapshot) -> None: ...

    async def latest_equity_snapshot(self) -> EquitySnapshot | None: ...

    async def list_equity_snapshots(
        self, *, since: datetime | None = None, limit: int = 1000
    ) -> list[EquitySnapshot]:
        """The newest ``limit`` snapshots (at or after ``since``), oldest first."""
        ...

    async def add_event(self, event: AlertEvent) -> int: ...

    async def list_events(self, limit: int = 100) -> list[AlertEvent]:
        """The newest ``limit`` alerts, newest first."""
        ...

    async def get_bot_state(self, key: str) -> Any | None:
        """The JSON value stored under ``key``; ``None`` if unset."""
        ...

    async def set_bot_state(self, key: str, value: Any, *, ts: datetime) -> None: ...
