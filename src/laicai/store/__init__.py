"""Persistence: SQLAlchemy 2 models, one repository, Alembic migrations; SQLite or PostgreSQL.

Start with :func:`open_store` (connects, migrates to head, returns a :class:`Store`); code that
only needs to read or write types itself against :class:`Repository`.
"""

from laicai.store.db import database_url, masked
from laicai.store.errors import (
    ConflictingDuplicate,
    ConstraintViolation,
    IllegalTransition,
    MigrationError,
    NotFound,
    StoreError,
    StoreUnavailable,
)
from laicai.store.records import (
    AlertEvent,
    BorrowEvent,
    EarnEvent,
    EquitySnapshot,
    Fill,
    FundingPayment,
    JournalEntry,
    NewPosition,
    OrderRecord,
    OrderUpdate,
    PositionChanges,
    PositionRecord,
    ScanResult,
    ScanRow,
    ScanRun,
)
from laicai.store.repository import Repository
from laicai.store.states import (
    AlertLevel,
    BorrowEventKind,
    EarnEventKind,
    JournalStatus,
    Liquidity,
    PositionStatus,
    SpotEarningStatus,
)
from laicai.store.store import Store, open_store

__all__ = [
    "AlertEvent",
    "AlertLevel",
    "BorrowEvent",
    "BorrowEventKind",
    "ConflictingDuplicate",
    "ConstraintViolation",
    "EarnEvent",
    "EarnEventKind",
    "EquitySnapshot",
    "Fill",
    "FundingPayment",
    "IllegalTransition",
    "JournalEntry",
    "JournalStatus",
    "Liquidity",
    "MigrationError",
    "NewPosition",
    "NotFound",
    "OrderRecord",
    "OrderUpdate",
    "PositionChanges",
    "PositionRecord",
    "PositionStatus",
    "Repository",
    "ScanResult",
    "ScanRow",
    "ScanRun",
    "SpotEarningStatus",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "database_url",
    "masked",
    "open_store",
]
