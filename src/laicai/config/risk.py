"""The ``risk`` section: leverage, the margin ladder, exits, naked exposure, circuit breaker.

The margin ladder (see ARCHITECTURE.md) must stay in this order, cheapest action first::

    margin_sweep_ratio > 1/leverage > margin_topup_ratio > margin_reset_threshold
        > margin_emergency_ratio

``margin_topup_ratio`` defaults to 80% of the initial margin ratio (0.8 / leverage, seed 000) and
``margin_sweep_ratio`` to 125% of it, when the file does not set them.
"""

from __future__ import annotations

import itertools
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import Field, model_validator

from laicai.config.base import (
    Conflicts,
    PositiveRatio,
    PositiveUsdt,
    Seconds,
    Section,
    Usdt,
)

MAX_LEVERAGE = Decimal("3")
DEFAULT_LEVERAGE = Decimal("2")
TOPUP_FACTOR = Decimal("0.8")
SWEEP_FACTOR = Decimal("1.25")
_PLACES = Decimal("0.0001")

MarginRatio = Annotated[Decimal, Field(gt=0, lt=1)]


def derived_topup_ratio(leverage: Decimal) -> Decimal:
    """Default top-up trigger: 80% of the initial margin ratio 1/leverage."""
    return (TOPUP_FACTOR / leverage).quantize(_PLACES)


def derived_sweep_ratio(leverage: Decimal) -> Decimal:
    """Default profit-sweep trigger: 125% of the initial margin ratio 1/leverage."""
    return (SWEEP_FACTOR / leverage).quantize(_PLACES)


class CircuitBreakerConfig(Section):
    """Stop opening new positions after losses (seed 000 熔断器)."""

    max_consecutive_losses: Annotated[int, Field(ge=1, le=100)] = 3
    daily_loss_limit_usdt: PositiveUsdt = Decimal("500")
    max_drawdown: PositiveRatio = Decimal("0.15")


class RiskConfig(Section):
    """Limits that every decision passes through before an order is sent."""

    leverage: Annotated[Decimal, Field(ge=1, le=MAX_LEVERAGE)] = DEFAULT_LEVERAGE
    margin_sweep_ratio: Annotated[Decimal, Field(gt=0, le=10)] = derived_sweep_ratio(
        DEFAULT_LEVERAGE
    )
    margin_topup_ratio: MarginRatio = derived_topup_ratio(DEFAULT_LEVERAGE)
    margin_reset_threshold: MarginRatio = Decimal("0.15")
    margin_emergency_ratio: MarginRatio = Decimal("0.1")
    min_okx_mgn_ratio: Annotated[Decimal, Field(gt=1, le=1000)] = Decimal("3")
    profit_close_threshold: Annotated[Decimal, Field(ge=-1, le=1)] = Decimal("-0.0001")
    max_allowed_slippage: PositiveRatio = Decimal("0.002")
    max_naked_usd: Usdt = Decimal("100")
    max_naked_seconds: Seconds = 10.0
    take_profit: PositiveRatio = Decimal("0.05")
    stop_loss: Annotated[Decimal, Field(ge=-1, lt=0)] = Decimal("-0.02")
    circuit_breaker: CircuitBreakerConfig = Field(default_factory=CircuitBreakerConfig)
    spike_pct: PositiveRatio = Decimal("0.03")
    spike_seconds: Seconds = 60.0
    hedge_deviation_ratio: PositiveRatio = Decimal("0.01")

    @property
    def initial_margin_ratio(self) -> Decimal:
        """laicai's margin ratio of a freshly opened carry: 1 / leverage."""
        return Decimal(1) / self.leverage

    @model_validator(mode="before")
    @classmethod
    def _derive_ladder_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            leverage = Decimal(str(data.get("leverage", DEFAULT_LEVERAGE)))
        except (InvalidOperation, ValueError):
            return data  # the leverage error itself is reported by field validation
        if not leverage.is_finite() or not 1 <= leverage <= MAX_LEVERAGE:
            return data  # invalid: reported on leverage, not on values derived from it
        filled = dict(data)
        if filled.get("margin_topup_ratio") is None:
            filled["margin_topup_ratio"] = derived_topup_ratio(leverage)
        if filled.get("margin_sweep_ratio") is None:
            filled["margin_sweep_ratio"] = derived_sweep_ratio(leverage)
        return filled

    @model_validator(mode="after")
    def _ladder_in_order(self) -> RiskConfig:
        conflicts = Conflicts()
        initial = self.initial_margin_ratio.quantize(_PLACES)
        if self.margin_sweep_ratio <= self.initial_margin_ratio:
            conflicts.add(
                f"{{0}} ({self.margin_sweep_ratio}) must be above the initial margin ratio "
                f"1/{{1}} = {initial}",
                "margin_sweep_ratio",
                "leverage",
            )
        if self.margin_topup_ratio >= self.initial_margin_ratio:
            conflicts.add(
                f"{{0}} ({self.margin_topup_ratio}) must be below the initial margin ratio "
                f"1/{{1}} = {initial}",
                "margin_topup_ratio",
                "leverage",
            )
        ladder = [
            ("margin_topup_ratio", self.margin_topup_ratio),
            ("margin_reset_threshold", self.margin_reset_threshold),
            ("margin_emergency_ratio", self.margin_emergency_ratio),
        ]
        for (upper_key, upper), (lower_key, lower) in itertools.pairwise(ladder):
            if upper <= lower:
                conflicts.add(
                    f"{{0}} ({upper}) must be greater than {{1}} ({lower}): the ladder runs "
                    "sweep > top-up > reset > emergency",
                    upper_key,
                    lower_key,
                )
        conflicts.raise_if_any()
        return self
