"""Account values: balances and positions as the venue reports them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Balance:
    """One currency of one account (``trading`` or ``funding``)."""

    ccy: str
    total: Decimal  # equity of the currency
    available: Decimal
    liability: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class PerpPosition:
    """A net-mode swap position. ``contracts`` is signed (positive = long)."""

    inst_id: str
    contracts: Decimal
    base_qty: Decimal  # signed
    avg_px: Decimal
    mark_px: Decimal
    leverage: Decimal
    margin_mode: str
    upl: Decimal
    okx_mgn_ratio: Decimal | None
    liq_px: Decimal | None
    notional_usdt: Decimal


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What the key and account allow: laicai needs a unified account (acctLv >= 2), net
    position mode, and a key that can trade but not withdraw."""

    account_level: int
    position_mode: str
    permissions: frozenset[str]
    uid: str

    @property
    def can_trade(self) -> bool:
        return "trade" in self.permissions

    @property
    def can_withdraw(self) -> bool:
        return "withdraw" in self.permissions


# Bill types laicai books (OKX's ``type`` of ``account/bills``; the funding account's
# ``asset/bills`` has its own numbering).
BILL_TRANSFER = "1"
BILL_TRADE = "2"
BILL_LIQUIDATION = "5"
BILL_MARGIN_TRANSFER = "6"
BILL_INTEREST = "7"  # interest deduction (subType 9: margin loans)
BILL_FUNDING = "8"  # funding fee (subType 173 expense, 174 income)
BILL_BORROW = "16"
BILL_REPAY = "22"
# ``asset/bills`` type of Simple Earn interest as ``laicai.sim`` writes it. (OKX adds Simple
# Earn interest to the savings balance, ``finance/savings/balance`` ``earnings``; an
# ``asset/bills`` type for it is not in the OKX material checked here, so against OKX this type
# may find nothing and Earn interest may need another source, e.g. the lending history.)
ASSET_BILL_EARN_INTEREST = "150"


@dataclass(frozen=True, slots=True)
class Bill:
    """One balance change the venue booked: a row of ``account/bills`` (``account`` =
    "trading") or ``asset/bills`` ("funding"). Amounts are in ``ccy`` and keep OKX's signs
    (``bal_chg``, ``pnl`` positive = received), except ``fee``, which is positive when paid
    (as in :class:`laicai.domain.orders.Trade`). ``interest`` is the interest of a type-7 bill
    (or the interest part of a repayment), as the venue reports it. ``sz`` is in contracts
    for swaps, else in ``ccy``. Fields a bill type does not use are "" / 0 / None."""

    bill_id: str
    account: str  # trading | funding
    ccy: str
    type: str
    sub_type: str
    bal_chg: Decimal
    ts_ms: int
    inst_id: str = ""
    inst_type: str = ""
    pnl: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)  # positive = paid
    interest: Decimal = Decimal(0)
    sz: Decimal = Decimal(0)
    px: Decimal | None = None
    venue_order_id: str = ""
    client_order_id: str = ""
    trade_id: str = ""
    fill_idx_px: Decimal | None = None  # index price when a trade filled
    fill_mark_px: Decimal | None = None  # mark price when a swap trade filled
    notes: str = ""

    @property
    def id_number(self) -> int:
        """The bill id as a number: OKX's ids grow with time, which is what paging and the
        bookkeeping cursor rely on."""
        return int(self.bill_id)
