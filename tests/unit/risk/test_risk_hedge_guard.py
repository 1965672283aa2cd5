"""Hedge repair: deviation and naked exposure shrink the larger leg to the smaller."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from risk_builders import NOW_MS, PARAMS, carry

from laicai.domain.enums import Direction
from laicai.risk import Alert, AlertLevel, CarryView, Leg, Rebalance, adds_to_position
from laicai.risk.hedge_guard import deviation, evaluate

D = Decimal


def coin(spot: str, perp: str, **kw: object) -> CarryView:
    """A 1 000-coin carry of a 1 USDT coin: 1% deviation = 10 USDT naked, under the limit."""
    return carry(base_qty=D(1_000), spot_base=D(spot), perp_base=D(perp), mark_px=D(1),
                 index_px=D(1), perp_notional_usdt=D(perp), perp_equity_usdt=D(perp) / 2,
                 **kw)


def test_a_matched_hedge_needs_nothing() -> None:
    assert evaluate(carry(), PARAMS, NOW_MS) == []


def test_spot_above_perp_by_more_than_the_ratio_sells_the_excess_spot() -> None:
    (cmd,) = evaluate(coin("1015", "1000"), PARAMS, NOW_MS)
    assert isinstance(cmd, Rebalance)
    assert (cmd.leg, cmd.base_qty, cmd.urgent) == (Leg.SPOT, D(-15), False)


def test_perp_above_spot_buys_back_the_excess_perp() -> None:
    (cmd,) = evaluate(coin("980", "1000"), PARAMS, NOW_MS)
    assert isinstance(cmd, Rebalance)
    assert (cmd.leg, cmd.base_qty) == (Leg.PERP, D(-20))


@pytest.mark.parametrize(("spot", "perp"), [("1005", "1000"), ("1010", "1000"),
                                            ("990", "1000")])
def test_within_the_ratio_nothing_happens(spot: str, perp: str) -> None:
    assert deviation(coin(spot, perp)) <= PARAMS.hedge_deviation_ratio  # type: ignore[operator]
    assert evaluate(coin(spot, perp), PARAMS, NOW_MS) == []


def test_the_trim_is_rounded_down_to_the_lot_step() -> None:
    (cmd,) = evaluate(coin("1015.7", "1000", base_step=D(1)), PARAMS, NOW_MS)
    assert isinstance(cmd, Rebalance) and cmd.base_qty == D(-15)


def test_naked_exposure_over_the_limit_is_urgent_even_within_the_ratio() -> None:
    # 0.005 BTC at 60 000 = 300 USDT naked; the deviation is only 0.5%
    (cmd,) = evaluate(carry(spot_base=D("1.005")), PARAMS, NOW_MS)
    assert isinstance(cmd, Rebalance)
    assert (cmd.leg, cmd.base_qty, cmd.urgent) == (Leg.SPOT, D("-0.005"), True)


def test_at_the_naked_limit_it_is_not_urgent() -> None:
    view = carry(spot_base=D("1.002"), index_px=D(50_000))  # exactly 100 USDT naked, 0.2%
    assert evaluate(view, PARAMS, NOW_MS) == []


def test_naked_for_too_long_raises_an_error_alert() -> None:
    view = carry(spot_base=D("1.005"), naked_since_ms=NOW_MS - 10_001)
    rebalance, alert = evaluate(view, PARAMS, NOW_MS)
    assert isinstance(rebalance, Rebalance) and rebalance.urgent
    assert isinstance(alert, Alert) and alert.level is AlertLevel.ERROR
    on_time = carry(spot_base=D("1.005"), naked_since_ms=NOW_MS - 10_000)
    assert [type(c) for c in evaluate(on_time, PARAMS, NOW_MS)] == [Rebalance]


def test_a_flat_perp_leaves_all_the_coin_naked() -> None:
    view = carry(perp_base=D(0), perp_notional_usdt=D(0), spot_base=D("0.5"))
    (cmd,) = evaluate(view, PARAMS, NOW_MS)
    assert isinstance(cmd, Rebalance)
    assert (cmd.leg, cmd.base_qty, cmd.urgent) == (Leg.SPOT, D("-0.5"), True)


def test_a_long_carry_trims_the_same_way() -> None:
    (cmd,) = evaluate(coin("1000", "1030", direction=Direction.LONG), PARAMS, NOW_MS)
    assert isinstance(cmd, Rebalance) and (cmd.leg, cmd.base_qty) == (Leg.PERP, D(-30))


QTY = st.decimals(min_value=D(0), max_value=D(2), places=6)


@given(QTY, QTY, st.sampled_from([D(0), D("0.001"), D("0.01")]),
       st.decimals(min_value=D(1), max_value=D(100_000), places=2))
def test_a_rebalance_only_ever_shrinks_the_larger_leg_toward_the_smaller(
        spot: Decimal, perp: Decimal, step: Decimal, px: Decimal) -> None:
    view = carry(base_qty=D(2), spot_base=spot, perp_base=perp, index_px=px, mark_px=px,
                 perp_notional_usdt=perp * px, perp_equity_usdt=perp * px / 2, base_step=step)
    for cmd in evaluate(view, PARAMS, NOW_MS):
        if not isinstance(cmd, Rebalance):
            continue
        assert not adds_to_position(cmd)
        larger, smaller = max(spot, perp), min(spot, perp)
        current = spot if cmd.leg is Leg.SPOT else perp
        assert current == larger
        after = current + cmd.base_qty
        assert smaller <= after < larger
        if step:
            assert after - smaller < step
        else:
            assert after == smaller
