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
