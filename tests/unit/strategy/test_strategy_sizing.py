"""Sizing: common lot steps, rounding down to both legs, the coin-fee gross-up, capital and
dynamic sizing."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategy_builders import spot_instrument, swap_instrument

from laicai.domain.enums import Direction
from laicai.strategy.sizing import (
    DynamicSizing,
    capital_for_leg_notional,
    common_base_step,
    gross_up_for_coin_fee,
    leg_notional_for_capital,
    min_base_qty,
    plan_size,
    round_down_to_steps,
    target_base_qty,
)

D = Decimal

# Lot-like steps: 1..60 x 10^-k, k in 0..8 (0.00000001 ... 60)
STEP = st.builds(lambda m, k: D(m).scaleb(-k), st.integers(1, 60), st.integers(0, 8))
QTY = st.decimals(min_value=D(0), max_value=D(100_000), places=10)
FEE = st.decimals(min_value=D(0), max_value=D("0.01"), places=5)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ((D("0.00000001"), D("0.0001")), D("0.0001")),  # BTC spot lot vs 0.01 x 0.01 swap
        ((D("0.0004"), D("0.0006")), D("0.0012")),
        ((D("0.3"), D("0.2")), D("0.6")),
        ((D(1), D("0.1")), D(1)),
        ((D(10), D(4)), D(20)),
        ((D("0.001"),), D("0.001")),
    ],
)
def test_common_base_step_examples(steps: tuple[Decimal, ...], expected: Decimal) -> None:
    assert common_base_step(*steps) == expected


@given(STEP, STEP)
def test_common_base_step_is_the_least_common_multiple(a: Decimal, b: Decimal) -> None:
    step = common_base_step(a, b)
    assert step % a == 0 and step % b == 0
    scale = D(10) ** 8
    assert step * scale == math.lcm(int(a * scale), int(b * scale))


@given(QTY, STEP, STEP)
def test_rounding_gives_the_largest_multiple_of_both_steps_within_the_target(
    target: Decimal, a: Decimal, b: Decimal
) -> None:
    qty = round_down_to_steps(target, a, b)
    assert qty % a == 0 and qty % b == 0
    assert 0 <= qty <= target
    assert qty + common_base_step(a, b) > target  # the next multiple would exceed it


def test_rounding_examples() -> None:
    assert round_down_to_steps(D("0.123456789"), D("0.00000001"), D("0.0001")) == D("0.1234")
    assert round_down_to_steps(D("0.00999"), D("0.00000001"), D("0.0001")) == D("0.0099")
    assert round_down_to_steps(D("-1"), D("0.1")) == 0
    with pytest.raises(ValueError, match="> 0"):
        round_down_to_steps(D(1), D(0))


@given(st.decimals(min_value=D("0.0001"), max_value=D(1000), places=4), FEE, STEP)
def test_the_coin_fee_gross_up_is_the_smallest_lot_multiple_that_nets_the_hedge(
    net: Decimal, fee: Decimal, lot: Decimal
) -> None:
    gross = gross_up_for_coin_fee(net, fee, lot)
    assert gross % lot == 0
    assert gross * (1 - fee) >= net
    assert (gross - lot) * (1 - fee) < net


def test_capital_and_leg_notional_are_inverse() -> None:
    # 10,000 USDT at 2x: 6,666.67 of spot + 3,333.33 of perp margin
    leg = leg_notional_for_capital(D(10_000), D(2))
    assert leg == D(20_000) / 3
    assert capital_for_leg_notional(leg, D(2)) == pytest.approx(D(10_000), rel=D("1e-25"))
    assert leg_notional_for_capital(D(100), D(1)) == 50


def test_target_leaves_room_for_slippage_and_fees() -> None:
    assert target_base_qty(D(6000), D(60000), D(0), D(0)) == D("0.1")
    assert target_base_qty(D(6000), D(60000), D("0.002"), D("0.003")) < D("0.1")


@given(st.decimals(min_value=D(0), max_value=D(5), places=8), FEE,
       st.sampled_from([Direction.SHORT, Direction.LONG]))
def test_plan_matches_both_legs_exactly_and_respects_min_sizes(
    target: Decimal, fee: Decimal, direction: Direction
) -> None:
    spot = spot_instrument(lot="0.00000001", min_size="0.00001")
    swap = swap_instrument(ct_val="0.01", lot="0.01", min_size="0.01")
    plan = plan_size(target, spot, swap, direction, fee)
    if plan is None:
        assert round_down_to_steps(target, D("0.0001")) < min_base_qty(spot, swap)
        return
    q = plan.base_qty
    assert q <= target and q >= min_base_qty(spot, swap)
    assert plan.swap_contracts * swap.contract_value == q  # the perp holds exactly q
    assert plan.swap_contracts % swap.lot_size == 0
    bought = plan.spot_entry_qty if direction is Direction.SHORT else plan.spot_exit_qty
    sold = plan.spot_exit_qty if direction is Direction.SHORT else plan.spot_entry_qty
    assert sold == q
    assert bought % spot.lot_size == 0
    assert q <= bought * (1 - fee) < q + spot.lot_size  # net coin covers q, dust < 1 lot


def test_plan_below_either_minimum_is_none() -> None:
    spot = spot_instrument(min_size="0.5")
    swap = swap_instrument(ct_val="0.01", lot="1", min_size="1")
    assert plan_size(D("0.4999"), spot, swap, Direction.SHORT, D("0.001")) is None
    assert plan_size(D("0.009"), spot_instrument(), swap, Direction.SHORT, D(0)) is None
    plan = plan_size(D("0.5"), spot, swap, Direction.SHORT, D(0))
    assert plan is not None and plan.base_qty == D("0.5") and plan.swap_contracts == 50


@given(st.decimals(min_value=D(0), max_value=D(2), places=4),
       st.decimals(min_value=D(0), max_value=D(2), places=4))
def test_dynamic_multiplier_rises_with_net_apr_within_its_bounds(a: Decimal, b: Decimal) -> None:
    policy = DynamicSizing()
    low, high = sorted((a, b))
    m_low, m_high = policy.multiplier(low, D("0.15")), policy.multiplier(high, D("0.15"))
    assert policy.min_multiplier <= m_low <= m_high <= policy.max_multiplier


def test_dynamic_multiplier_examples() -> None:
    policy = DynamicSizing(min_multiplier=D("0.5"), max_multiplier=D(2), full_at_multiple=D(3))
    assert policy.multiplier(D("0.15"), D("0.15")) == D("0.5")  # barely passes: half
    assert policy.multiplier(D("0.30"), D("0.15")) == D("1.25")  # halfway up the ramp
    assert policy.multiplier(D("0.45"), D("0.15")) == 2  # 3x the threshold: full
    assert policy.multiplier(D("0.90"), D("0.15")) == 2
    assert policy.multiplier(D("0.01"), D(0)) == 2  # no threshold to measure against
    with pytest.raises(ValueError, match="full_at_multiple"):
        DynamicSizing(full_at_multiple=D(1))
