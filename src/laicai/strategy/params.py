"""The scanner's parameters: a frozen copy of the settings it reads, so the model itself does
not depend on pydantic (``laicai.config`` is imported for type checking only)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from laicai.strategy.sizing import DynamicSizing

if TYPE_CHECKING:
    from laicai.config.schema import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanParams:
    """What makes a carry worth opening, and how big. Names follow the configuration keys.

    ``total_capital`` (``account.total_capital``) caps the account equity the scanner plans
    with; None plans with the equity in the snapshot. ``max_position_value`` caps a carry's leg
    notional. ``fee_reserve`` is the fraction of a leg notional kept back for entry fees when
    sizing (sizing does not read the fee rates, so the planned size does not move with them).
    ``min_trade_fraction``: the smallest carry worth a slot, as a fraction of the standard
    capital per trade; when less is free (or left after better opportunities took theirs)
    the candidate is rejected as ``NO_CAPITAL`` rather than opened as a crumb.
    ``max_data_age_ms`` rejects books, tickers or funding older than that (None: no check).
    """

    min_annualized_return: Decimal = Decimal("0.15")
    capital_per_trade_ratio: Decimal = Decimal("0.1")
    max_open_positions: int = 5
    enable_negative_rate_strategy: bool = True
    enable_spot_earning: bool = True
    expected_holding_days: Decimal = Decimal(7)
    funding_rate_min: Decimal = Decimal("0.0001")
    funding_rate_max: Decimal = Decimal("0.01")
    min_volume_24h_usdt: Decimal = Decimal(5_000_000)
    dynamic_sizing: bool = False
    dynamic: DynamicSizing = field(default_factory=DynamicSizing)
    total_capital: Decimal | None = None
    max_position_value: Decimal = Decimal(10_000)
    instruments_allow: frozenset[str] = frozenset()
    instruments_deny: frozenset[str] = frozenset()
    max_allowed_slippage: Decimal = Decimal("0.002")
    leverage: Decimal = Decimal(2)
    quote_ccy: str = "USDT"
    fee_reserve: Decimal = Decimal("0.003")
    min_trade_fraction: Decimal = Decimal("0.25")
    max_data_age_ms: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.expected_holding_days <= 0:
            problems.append("expected_holding_days must be > 0")
        if self.leverage < 1:
            problems.append("leverage must be >= 1")
        if not 0 < self.capital_per_trade_ratio <= 1:
            problems.append("capital_per_trade_ratio must be in (0, 1]")
        if not 0 <= self.funding_rate_min < self.funding_rate_max:
            problems.append("need 0 <= funding_rate_min < funding_rate_max")
        if self.max_allowed_slippage < 0 or self.fee_reserve < 0:
            problems.append("max_allowed_slippage and fee_reserve must be >= 0")
        if not 0 <= self.min_trade_fraction <= 1:
            problems.append("min_trade_fraction must be in [0, 1]")
        if self.max_open_positions < 0:
            problems.append("max_open_positions must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ScanParams:
        """Copy ``strategy``, ``account`` and the two ``risk`` keys the scanner reads.

        ``overrides`` replace individual fields (e.g. ``max_data_age_ms``), by name.
        """
        strategy, account, risk = settings.strategy, settings.account, settings.risk
        params = cls(
            min_annualized_return=strategy.min_annualized_return,
            capital_per_trade_ratio=strategy.capital_per_trade_ratio,
            max_open_positions=strategy.max_open_positions,
            enable_negative_rate_strategy=strategy.enable_negative_rate_strategy,
            enable_spot_earning=strategy.enable_spot_earning,
            expected_holding_days=strategy.expected_holding_days,
            funding_rate_min=strategy.funding_rate_min,
            funding_rate_max=strategy.funding_rate_max,
            min_volume_24h_usdt=strategy.min_volume_24h_usdt,
            dynamic_sizing=strategy.dynamic_sizing,
            total_capital=account.total_capital,
            max_position_value=account.max_position_value,
            instruments_allow=frozenset(account.instruments_allow),
            instruments_deny=frozenset(account.instruments_deny),
            max_allowed_slippage=risk.max_allowed_slippage,
            leverage=risk.leverage,
        )
        return replace(params, **overrides) if overrides else params
