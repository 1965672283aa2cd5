"""Whole-scan monotonicity: costs only ever lower the net APR.

Higher fees never raise it, a longer expected holding never lowers it (costs are never
negative), more depth never lowers it. Dynamic sizing is off here: it may pick a larger size
on purpose, trading some APR for more capital at work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from strategy_builders import NOW_MS, Market, snapshot

from laicai.domain.market import BorrowTerms, FeeRates
from laicai.strategy import Opportunity, ScanParams, find_opportunities

D = Decimal
FEE = st.decimals(min_value=D(0), max_value=D("0.003"), places=5)
BORROW = BorrowTerms("BTC", hourly_rate=D("0.000001"), available=D(1000))


@dataclass(frozen=True)
class Case:
    market: Market
    fees: FeeRates
    total: Decimal
    params: ScanParams

    def run(self, market: Market | None = None, fees: FeeRates | None = None,
            params: ScanParams | None = None) -> Opportunity:
        snap = snapshot(market or self.market, fees=fees or self.fees, total=self.total,
                        borrow=[BORROW])
        (o,) = find_opportunities(snap, params or self.params, NOW_MS).opportunities
        return o


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rate = draw(st.decimals(min_value=D("0.0001"), max_value=D("0.01"), places=5))
    if draw(st.booleans()):
        rate = -rate
    n_spot, n_perp = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    spot_sizes = tuple(draw(st.lists(st.decimals(min_value=D("0.001"), max_value=D("0.5"),
                                                 places=3), min_size=n_spot, max_size=n_spot)))
    perp_sizes = tuple(draw(st.lists(st.decimals(min_value=D("0.1"), max_value=D(50), places=1),
                                     min_size=n_perp, max_size=n_perp)))
    half_spot = draw(st.decimals(min_value=D("0.5"), max_value=D(30), places=1))
    half_perp = draw(st.decimals(min_value=D("0.5"), max_value=D(30), places=1))
    basis = draw(st.decimals(min_value=D(-200), max_value=D(200), places=1))
    market = Market(
        rate=rate,
        interval_hours=draw(st.sampled_from([1, 2, 4, 8])),
        spot_bid=60000 - half_spot, spot_ask=60000 + half_spot,
        perp_bid=60000 + basis - half_perp, perp_ask=60000 + basis + half_perp,
        tick=draw(st.decimals(min_value=D("0.1"), max_value=D(20), places=1)),
        spot_sizes=spot_sizes, perp_sizes=perp_sizes,
    )
    fees = FeeRates(D("0.0008"), draw(FEE), D("0.0002"), draw(FEE))
    params = ScanParams(
        min_annualized_return=D("0.05"),
        expected_holding_days=draw(st.decimals(min_value=D(1), max_value=D(90), places=1)),
        max_position_value=draw(st.decimals(min_value=D(500), max_value=D(50_000), places=0)),
        max_allowed_slippage=D("0.01"),
    )
    total = draw(st.decimals(min_value=D(10_000), max_value=D(500_000), places=0))
    return Case(market, fees, total, params)


def _le(worse: Opportunity, better: Opportunity) -> bool:
    """``worse``'s net APR is not above ``better``'s (no APR = not costed = worst)."""
    if worse.net_apr is None:
        return True
    return better.net_apr is not None and worse.net_apr <= better.net_apr


@settings(max_examples=150, deadline=None)
@given(cases(), FEE, FEE)
def test_higher_fees_never_raise_net_apr(case: Case, more_spot: Decimal,
                                         more_swap: Decimal) -> None:
    higher = replace(case.fees, spot_taker=case.fees.spot_taker + more_spot,
                     swap_taker=case.fees.swap_taker + more_swap)
    base, dear = case.run(), case.run(fees=higher)
    assert _le(dear, base)
    if base.net_apr is not None and dear.net_apr is not None:
        assert base.fees_usdt is not None and dear.fees_usdt is not None
        assert dear.fees_usdt >= base.fees_usdt


@settings(max_examples=150, deadline=None)
@given(cases(), st.decimals(min_value=D(0), max_value=D(300), places=1))
def test_longer_holding_never_lowers_net_apr(case: Case, longer_by: Decimal) -> None:
    base = case.run()
    longer = case.run(params=replace(case.params, expected_holding_days=(
        case.params.expected_holding_days + longer_by)))
    assert base.round_trip_cost_fraction is None or base.round_trip_cost_fraction >= 0
    assert _le(base, longer)
    assert longer.base_qty == base.base_qty


@settings(max_examples=150, deadline=None)
@given(cases(), st.data())
def test_more_depth_never_lowers_net_apr(case: Case, data: st.DataObject) -> None:
    m = case.market
    extra = st.decimals(min_value=D(0), max_value=D("0.3"), places=3)
    more_spot = data.draw(st.lists(extra, min_size=len(m.spot_sizes),
                                   max_size=len(m.spot_sizes)))
    more_perp = data.draw(st.lists(extra.map(lambda x: x * 100), min_size=len(m.perp_sizes),
                                   max_size=len(m.perp_sizes)))
    tail = data.draw(st.integers(0, 20))
    deeper = replace(
        m,
        spot_sizes=tuple(s + x for s, x in zip(m.spot_sizes, more_spot, strict=True))
        + (D("0.2"),) * tail,
        perp_sizes=tuple(s + x for s, x in zip(m.perp_sizes, more_perp, strict=True))
        + (D(20),) * tail,
    )
    assert _le(case.run(), case.run(market=deeper))
