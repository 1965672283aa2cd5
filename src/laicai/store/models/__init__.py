"""The tables, as SQLAlchemy 2 declarative models. ``Base.metadata`` holds every one of them;
the Alembic migrations must produce exactly this schema (a test compares the two)."""

from laicai.store.models.base import NAMING_CONVENTION, Base
from laicai.store.models.journal import JournalRow
from laicai.store.models.ledger import (
    BorrowEventRow,
    EarnEventRow,
    EquitySnapshotRow,
    FundingPaymentRow,
)
from laicai.store.models.ops import BotStateRow, EventRow
from laicai.store.models.orders import FillRow, OrderRow
from laicai.store.models.positions import PositionRow
from laicai.store.models.scans import ScanResultRow, ScanRunRow

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "BorrowEventRow",
    "BotStateRow",
    "EarnEventRow",
    "EquitySnapshotRow",
    "EventRow",
    "FillRow",
    "FundingPaymentRow",
    "JournalRow",
    "OrderRow",
    "PositionRow",
    "ScanResultRow",
    "ScanRunRow",
]
