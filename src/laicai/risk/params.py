"""The risk guards' parameters: a frozen copy of the settings they read, so the guards do not
depend on pydantic (``laicai.config`` is imported for type checking only).

Names follow the configuration keys (``risk.*``, ``risk.circuit_breaker.*``, and the few
``strategy``/``account`` keys the entry limits read). Durations become integer milliseconds
(``spike_seconds`` -> ``spike_window_ms``). Fields below the line "engineering defaults" have
no configuration key yet; :meth:`RiskParams.from_settings` takes them as ``overrides``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from laicai.config.schema import Settings

MAX_LEVERAGE = Decimal(3)
ONE = Decimal(1)
ZERO = Decimal(0)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskParams:
    """Every threshold a guard compares against. Validated on construction: an instance that
    exists has a ladder in order, a leverage of at most 3 and a stop loss below zero, so no
    guard has to re-check them ("no position without a stop rule", by construction).

    Engineering defaults (no configuration key):

    - ``margin_hysteresis``: fraction of the distance from a ladder trigger to the target
      ``1/leverage`` that the margin ratio must recover before the level it entered is left
      (see :mod:`laicai.risk.margin_guard`). In [0, 1).
    - ``okx_sweep_floor``: a profit sweep is skipped while OKX's ``mgnRatio`` is below
      ``min_okx_mgn_ratio x okx_sweep_floor`` (moving margin out lowers OKX's ratio too).
    - ``min_transfer_usdt``: top-ups and sweeps smaller than this are not worth a transfer.
    - ``topup_reserve_usdt``: USDT left in the trading account by a top-up.
    - ``usdt_step``: transfers are rounded to this (top-ups up, sweeps and sources down).
    - ``funding_ema_alpha``, ``min_funding_samples``, ``exit_horizon_days``,
      ``assumed_exit_cost_fraction``: the funding forecast exit (:mod:`laicai.risk.exits`).
    - ``breaker_cooldown_ms``: None = a tripped breaker waits for an operator.
    - ``min_trade_fraction``, ``max_trade_multiple``, ``min_depth_multiple``: entry limits.
    - ``max_error_rate`` .. ``exchange_pause_ms``: the exchange guard.
    """

    leverage: Decimal = Decimal(2)
    margin_sweep_ratio: Decimal = Decimal("0.625")
    margin_topup_ratio: Decimal = Decimal("0.4")
    margin_reset_threshold: Decimal = Decimal("0.15")
    margin_emergency_ratio: Decimal = Decimal("0.1")
    min_okx_mgn_ratio: Decimal = Decimal(3)
    profit_close_threshold: Decimal = Decimal("-0.0001")
    max_allowed_slippage: Decimal = Decimal("0.002")
    max_naked_usd: Decimal = Decimal(100)
    max_naked_ms: int = 10_000
    take_profit: Decimal = Decimal("0.05")
    stop_loss: Decimal = Decimal("-0.02")
    max_consecutive_losses: int = 3
    daily_loss_limit_usdt: Decimal = Decimal(500)
    max_drawdown: Decimal = Decimal("0.15")
    spike_pct: Decimal = Decimal("0.03")
    spike_window_ms: int = 60_000
    hedge_deviation_ratio: Decimal = Decimal("0.01")
    max_open_positions: int = 5
    capital_per_trade_ratio: Decimal = Decimal("0.1")
    max_position_value: Decimal = Decimal(10_000)
    total_capital: Decimal | None = None
    # --- engineering defaults -------------------------------------------------------------
    margin_hysteresis: Decimal = Decimal("0.25")
    okx_sweep_floor: Decimal = Decimal(2)
    min_transfer_usdt: Decimal = Decimal(1)
    topup_reserve_usdt: Decimal = ZERO
    usdt_step: Decimal = Decimal("0.01")
    funding_ema_alpha: Decimal = Decimal("0.3")
    min_funding_samples: int = 3
    exit_horizon_days: Decimal = Decimal(7)
    assumed_exit_cost_fraction: Decimal = Decimal("0.0015")
    breaker_cooldown_ms: int | None = None
    min_trade_fraction: Decimal = Decimal("0.25")
    max_trade_multiple: Decimal = ONE
    min_depth_multiple: Decimal = ONE
    max_error_rate: Decimal = Decimal("0.2")
    min_requests_for_error_rate: int = 10
    max_latency_p95_ms: int = 2_000
    max_ws_stale_ms: int = 30_000
    max_clock_skew_ms: int = 1_000
    exchange_failure_evaluations: int = 5
    exchange_pause_ms: int = 60_000

    def __post_init__(self) -> None:
        problems = _ladder_problems(self) + _other_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def target_margin_ratio(self) -> Decimal:
        """Where top-ups and sweeps bring the margin ratio back to: ``1 / leverage``."""
        return ONE / self.leverage

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RiskParams:
        """Copy ``risk``, ``risk.circuit_breaker`` and the entry-limit keys of ``strategy`` and
        ``account``. ``overrides`` replace individual fields by name (e.g. the engineering
        defaults). With ``strategy.dynamic_sizing`` a carry may take up to twice the standard
        capital per trade (the scanner's largest multiplier)."""
        risk, breaker = settings.risk, settings.risk.circuit_breaker
        strategy, account = settings.strategy, settings.account
        params = cls(
            leverage=risk.leverage,
            margin_sweep_ratio=risk.margin_sweep_ratio,
            margin_topup_ratio=risk.margin_topup_ratio,
            margin_reset_threshold=risk.margin_reset_threshold,
            margin_emergency_ratio=risk.margin_emergency_ratio,
            min_okx_mgn_ratio=risk.min_okx_mgn_ratio,
            profit_close_threshold=risk.profit_close_threshold,
            max_allowed_slippage=risk.max_allowed_slippage,
            max_naked_usd=risk.max_naked_usd,
            max_naked_ms=_ms(risk.max_naked_seconds),
            take_profit=risk.take_profit,
            stop_loss=risk.stop_loss,
            max_consecutive_losses=breaker.max_consecutive_losses,
            daily_loss_limit_usdt=breaker.daily_loss_limit_usdt,
            max_drawdown=breaker.max_drawdown,
            spike_pct=risk.spike_pct,
            spike_window_ms=_ms(risk.spike_seconds),
            hedge_deviation_ratio=risk.hedge_deviation_ratio,
            max_open_positions=strategy.max_open_positions,
            capital_per_trade_ratio=strategy.capital_per_trade_ratio,
            max_position_value=account.max_position_value,
            total_capital=account.total_capital,
            exit_horizon_days=strategy.expected_holding_days,
            max_trade_multiple=Decimal(2) if strategy.dynamic_sizing else ONE,
        )
        return replace(params, **overrides) if overrides else params


def _ladder_problems(p: RiskParams) -> list[str]:
    problems: list[str] = []
    if not ONE <= p.leverage <= MAX_LEVERAGE:
        problems.append(f"leverage must be within 1..{MAX_LEVERAGE}, got {p.leverage}")
        return problems
    ladder = [
        ("margin_sweep_ratio", p.margin_sweep_ratio),
        ("1/leverage", p.target_margin_ratio),
        ("margin_topup_ratio", p.margin_topup_ratio),
        ("margin_reset_threshold", p.margin_reset_threshold),
        ("margin_emergency_ratio", p.margin_emergency_ratio),
        ("0", ZERO),
    ]
    for (upper_name, upper), (lower_name, lower) in itertools.pairwise(ladder):
        if upper <= lower:
            problems.append(f"{upper_name} ({upper}) must be above {lower_name} ({lower})")
    if not ZERO <= p.margin_hysteresis < ONE:
        problems.append("margin_hysteresis must be in [0, 1)")
    if p.min_okx_mgn_ratio <= ONE:
        problems.append("min_okx_mgn_ratio must be above 1 (OKX liquidates at 1)")
    if p.okx_sweep_floor < ONE:
        problems.append("okx_sweep_floor must be >= 1")
    return problems


def _other_problems(p: RiskParams) -> list[str]:
    problems: list[str] = []
    if p.stop_loss >= 0:
        problems.append(f"stop_loss must be below 0, got {p.stop_loss}: every carry has a stop")
    if p.take_profit <= 0:
        problems.append("take_profit must be above 0")
    if p.max_consecutive_losses < 1 or p.daily_loss_limit_usdt <= 0:
        problems.append("max_consecutive_losses must be >= 1, daily_loss_limit_usdt > 0")
    if not ZERO < p.max_drawdown <= ONE:
        problems.append("max_drawdown must be in (0, 1]")
    if p.spike_pct <= 0 or p.spike_window_ms <= 0:
        problems.append("spike_pct and spike_window_ms must be above 0")
    if p.hedge_deviation_ratio <= 0 or p.max_naked_usd < 0 or p.max_naked_ms <= 0:
        problems.append("hedge_deviation_ratio, max_naked_ms > 0 and max_naked_usd >= 0")
    if p.max_open_positions < 0 or not ZERO < p.capital_per_trade_ratio <= ONE:
        problems.append("max_open_positions >= 0 and capital_per_trade_ratio in (0, 1]")
    if p.max_position_value <= 0 or (p.total_capital is not None and p.total_capital <= 0):
        problems.append("max_position_value and total_capital must be above 0")
    if p.min_transfer_usdt < 0 or p.topup_reserve_usdt < 0 or p.usdt_step <= 0:
        problems.append("min_transfer_usdt, topup_reserve_usdt >= 0 and usdt_step > 0")
    if not ZERO < p.funding_ema_alpha <= ONE or p.min_funding_samples < 1:
        problems.append("funding_ema_alpha must be in (0, 1] and min_funding_samples >= 1")
    if p.exit_horizon_days <= 0 or p.assumed_exit_cost_fraction < 0:
        problems.append("exit_horizon_days > 0 and assumed_exit_cost_fraction >= 0")
    if p.breaker_cooldown_ms is not None and p.breaker_cooldown_ms <= 0:
        problems.append("breaker_cooldown_ms must be above 0 (or None: operator resumes)")
    if not ZERO <= p.min_trade_fraction <= ONE or p.max_trade_multiple < ONE:
        problems.append("min_trade_fraction in [0, 1] and max_trade_multiple >= 1")
    if p.min_depth_multiple < 0 or p.max_allowed_slippage < 0:
        problems.append("min_depth_multiple and max_allowed_slippage must be >= 0")
    if not ZERO < p.max_error_rate <= ONE or p.min_requests_for_error_rate < 1:
        problems.append("max_error_rate in (0, 1] and min_requests_for_error_rate >= 1")
    durations = (p.max_latency_p95_ms, p.max_ws_stale_ms, p.max_clock_skew_ms,
                 p.exchange_pause_ms, p.exchange_failure_evaluations)
    if min(durations) <= 0:
        problems.append("exchange guard thresholds must be above 0")
    return problems
