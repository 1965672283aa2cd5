"""State of one simulated OKX account: balances, positions, orders, bills, Earn and loans.

Plain mutable records; all rules live in :mod:`laicai.sim.exchange`. Every balance change is
written as a bill (trading account: ``account/bills``; funding account: ``asset/bills``), which
is what makes conservation checkable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from laicai.sim.fees import FeeRates

ZERO = Decimal(0)

TRADING = "18"
FUNDING = "6"


@dataclass(slots=True)
class ApiKey:
    api_key: str
    secret_key: str
    passphrase: str
    perm: str = "read_only,trade"  # comma list of read_only / trade / withdraw
    label: str = "laicai-sim"


@dataclass(slots=True)
class Balance:
    """One currency in the trading account. ``cash`` >= 0 is coin held; ``liab`` is borrowed
    principal plus unpaid interest (``interest`` is the unpaid-interest part)."""

    cash: Decimal = ZERO
    liab: Decimal = ZERO
    interest: Decimal = ZERO
    frozen: Decimal = ZERO  # held by pending orders
    u_time_ms: int = 0


@dataclass(slots=True)
class Position:
    """A net-mode swap position. ``pos`` is signed contracts (positive = long)."""

    inst_id: str
    mgn_mode: str  # cross | isolated
    pos_id: str
    pos: Decimal = ZERO
    avg_px: Decimal = ZERO
    margin: Decimal = ZERO  # isolated only: margin held in the position
    realized_pnl: Decimal = ZERO
    fee: Decimal = ZERO
    funding_fee: Decimal = ZERO
    c_time_ms: int = 0
    u_time_ms: int = 0
    last_trade_id: str = ""


@dataclass(slots=True)
class Fill:
    trade_id: str
    ord_id: str
    cl_ord_id: str
    inst_id: str
    inst_type: str
    side: str
    px: Decimal
    sz: Decimal
    fee: Decimal  # negative = charged
    fee_ccy: str
    exec_type: str  # T | M
    ts_ms: int
    pos_side: str = "net"
    bill_id: str = ""
    tag: str = ""


@dataclass(slots=True)
class Order:
    ord_id: str
    cl_ord_id: str
    inst_id: str
    inst_type: str
    side: str  # buy | sell
    ord_type: str  # market | limit | post_only | ioc | fok | optimal_limit_ioc
    td_mode: str  # cash | cross | isolated
    sz: Decimal
    px: Decimal | None
    tgt_ccy: str = ""
    reduce_only: bool = False
    pos_side: str = ""
    tag: str = ""
    ccy: str = ""
    lever: str = ""
    state: str = "live"  # live | partially_filled | filled | canceled
    acc_fill_sz: Decimal = ZERO
    fill_notional: Decimal = ZERO
    fee: Decimal = ZERO
    fee_ccy: str = ""
    last_fill_px: Decimal = ZERO
    last_fill_sz: Decimal = ZERO
    last_fill_ts_ms: int = 0
    trade_id: str = ""
    exec_type: str = ""
    pnl: Decimal = ZERO
    cancel_source: str = ""
    frozen_ccy: str = ""
    frozen_amt: Decimal = ZERO
    max_fill_sz: Decimal | None = None  # fault injection: cap on what may ever fill
    c_time_ms: int = 0
    u_time_ms: int = 0

    @property
    def avg_px(self) -> Decimal:
        return self.fill_notional / self.acc_fill_sz if self.acc_fill_sz else ZERO

    @property
    def remaining(self) -> Decimal:
        return self.sz - self.acc_fill_sz

    @property
    def is_open(self) -> bool:
        return self.state in ("live", "partially_filled")


@dataclass(slots=True)
class Bill:
    bill_id: str
    ts_ms: int
    ccy: str
    bal_chg: Decimal
    bal: Decimal
    type: str
    sub_type: str
    inst_id: str = ""
    inst_type: str = ""
    mgn_mode: str = ""
    ord_id: str = ""
    cl_ord_id: str = ""
    trade_id: str = ""
    exec_type: str = ""
    sz: Decimal = ZERO
    px: Decimal | None = None
    pnl: Decimal = ZERO
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    pos_bal: Decimal = ZERO
    pos_bal_chg: Decimal = ZERO
    from_acct: str = ""
    to_acct: str = ""
    notes: str = ""
    tag: str = ""
    fill_mark_px: Decimal | None = None
    fill_idx_px: Decimal | None = None


@dataclass(slots=True)
class Transfer:
    trans_id: str
    client_id: str
    ccy: str
    amt: Decimal
    from_acct: str
    to_acct: str
    ts_ms: int
    state: str = "success"


@dataclass(slots=True)
class Redemption:
    """Earn redemption in flight: ``amt`` arrives in the funding account at ``due_ms``."""

    ccy: str
    amt: Decimal
    due_ms: int


@dataclass(slots=True)
class Account:
    name: str
    uid: str
    keys: list[ApiKey]
    fees: FeeRates
    fee_tier: str = "VIP0"
    acct_lv: int = 2  # 2 = single-currency margin (OKX "Spot and futures mode")
    pos_mode: str = "net_mode"
    trading: dict[str, Balance] = field(default_factory=dict)
    funding: dict[str, Decimal] = field(default_factory=dict)
    savings: dict[str, Decimal] = field(default_factory=dict)  # Simple Earn principal+interest
    savings_earnings: dict[str, Decimal] = field(default_factory=dict)
    lending_rate: dict[str, Decimal] = field(default_factory=dict)
    redemptions: list[Redemption] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)  # inst_id -> net position
    leverage: dict[tuple[str, str], int] = field(default_factory=dict)  # (inst_id, mgnMode)
    orders: dict[str, Order] = field(default_factory=dict)  # ord_id -> order
    orders_by_cl: dict[str, Order] = field(default_factory=dict)
    open_orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    bills: list[Bill] = field(default_factory=list)  # trading account
    asset_bills: list[Bill] = field(default_factory=list)  # funding account
    transfers: dict[str, Transfer] = field(default_factory=dict)
    interest_accrued: list[dict[str, str]] = field(default_factory=list)
    borrowed_total: dict[str, Decimal] = field(default_factory=dict)

    def bal(self, ccy: str) -> Balance:
        b = self.trading.get(ccy)
        if b is None:
            b = self.trading[ccy] = Balance()
        return b
