"""What a built scenario hands to the simulator core."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from laicai.sim.fees import FEE_TIERS, FeeRates
from laicai.sim.instruments import SimInstrument
from laicai.sim.market import MarketPlan

if TYPE_CHECKING:
    from laicai.sim.exchange import AccountSetup

DEFAULT_API_KEY = "laicai-sim-key"
DEFAULT_SECRET_KEY = "laicai-sim-secret"
DEFAULT_PASSPHRASE = "laicai-sim-pass"


@dataclass(frozen=True, slots=True)
class Balances:
    """Starting balances per currency in the trading (unified) and funding accounts."""

    trading: dict[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal("100000")})
    funding: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One simulated OKX account and the API key that reaches it.

    ``perm`` is OKX's comma-separated permission list ("read_only", "trade", "withdraw");
    ``acct_lv`` OKX's account mode (1 simple, 2 single-currency margin, 3 multi-currency margin,
    4 portfolio margin); ``fees`` the rates of ``fee_tier`` (:data:`laicai.sim.fees.FEE_TIERS`).
    """

    name: str = "main"
    api_key: str = DEFAULT_API_KEY
    secret_key: str = DEFAULT_SECRET_KEY
    passphrase: str = DEFAULT_PASSPHRASE
    perm: str = "read_only,trade"
    acct_lv: int = 2
    pos_mode: str = "net_mode"
    fee_tier: str = "VIP0"
    fees: FeeRates = FEE_TIERS["VIP0"]
    balances: Balances = field(default_factory=Balances)

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.perm.split(",") if p.strip())

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def to_setup(self) -> AccountSetup:
        """The core's :class:`laicai.sim.exchange.AccountSetup` for this account."""
        from laicai.sim.account import ApiKey
        from laicai.sim.exchange import AccountSetup

        key = ApiKey(self.api_key, self.secret_key, self.passphrase, self.perm)
        return AccountSetup(
            name=self.name,
            keys=[key],
            fee_tier=self.fee_tier,
            acct_lv=self.acct_lv,
            pos_mode=self.pos_mode,
            trading=dict(self.balances.trading),
            funding=dict(self.balances.funding),
        )


@dataclass(slots=True)
class ScenarioSetup:
    """A scenario compiled for one run: feed ``plan``, ``instruments`` and ``accounts`` to the
    simulator core and start its clock at ``start_ms``."""

    name: str
    description: str
    seed: int
    start_ms: int
    plan: MarketPlan
    instruments: list[SimInstrument]
    accounts: list[AccountSpec]
    duration_ms: int | None = None  # suggested run length, if the scenario has one
    coins: list[str] = field(default_factory=list)

    def instrument(self, inst_id: str) -> SimInstrument:
        for inst in self.instruments:
            if inst.inst_id == inst_id:
                return inst
        raise KeyError(f"scenario {self.name!r} has no instrument {inst_id!r}")

    def account(self, name: str) -> AccountSpec:
        for acct in self.accounts:
            if acct.name == name:
                return acct
        raise KeyError(f"scenario {self.name!r} has no account {name!r}")

    @property
    def end_ms(self) -> int | None:
        return None if self.duration_ms is None else self.start_ms + self.duration_ms
