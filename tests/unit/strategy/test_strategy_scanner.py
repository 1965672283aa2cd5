"""find_opportunities: a worked example, every reject reason, ranking and the portfolio's room."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from strategy_builders import (
    NOW_MS,
    Market,
    params,
    snapshot,
    spot_instrument,
    swap_instrument,
)

from laicai.config import Settings
from laicai.domain.enums import Direction
from laicai.domain.market import BorrowTerms, EarnRate
from laicai.strategy import (
    MarketSnapshot,
    Opportunity,
    RejectReason,
    ScanParams,
    ScanResult,
    find_opportunities,
)

D = Decimal
R = RejectReason
BTC_BORROW = BorrowTerms("BTC", hourly_rate=D("0.000002"), available=D(10))


def _scan(snap: MarketSnapshot | None = None, **overrides: Any) -> ScanResult:
    return find_opportunities(snap or snapshot(), params(**overrides), NOW_MS)


def _only(result: ScanResult) -> Opportunity:
    assert len(result.opportunities) == 1
    return result.opportunities[0]


def test_worked_example_btc_short() -> None:
    """BTC at 0.01% per 8 h with 2% Earn, checked by hand.

    Books (one deep level a side): spot 59,990 / 60,010 (mid 60,000), perp 60,020 / 60,040.
    Fees: spot taker 0.1%, swap taker 0.05%. Capital 100,000 x 0.1 = 10,000 at 2x leverage:
    leg notional 10,000 x 2/3 = 6,666.67, capped by max_position_value at 6,000.
    Reference price = max(spot ask, perp bid) = 60,020; room for 0.2% slippage and the 0.3%
    fee reserve: 6,000 / (60,020 x 1.002 x 1.003) = 0.099468 BTC -> rounded down to the
    common step of 0.00000001 (spot) and 0.01 x 0.01 (swap) = 0.0001: q = 0.0994 BTC
    = 9.94 contracts. The spot buy pays its 0.1% fee in BTC: 0.0994 / 0.999 = 0.09949949...
    -> up to the spot lot: 0.09949950 (x 0.999 = 0.0994000005 >= 0.0994).
    """
    snap = snapshot(Market(), earn=[EarnRate("BTC", D("0.02"))])
    o = _only(_scan(snap))
    assert o.accepted and o.reject_reason is None
    assert (o.direction, o.swap_inst_id, o.spot_inst_id) == (Direction.SHORT, "BTC-USDT-SWAP",
                                                             "BTC-USDT")
    assert o.funding_apr == D("0.1095")  # 0.0001 x 3 x 365
    assert o.earn_apr == D("0.02") and o.borrow_apr == 0
    assert o.ms_to_next_funding == 4 * 3_600_000
    assert o.base_qty == D("0.0994") and o.swap_contracts == D("9.94")
    assert o.spot_entry_qty == D("0.09949950") and o.spot_exit_qty == D("0.0994")
    assert o.notional_usdt == D(5964)  # 0.0994 x 60,000
    # entry: spot buy 0.0994995 x 60,010 = 5,970.964995; perp sell 0.0994 x 60,020 = 5,965.988
    # exit: spot sell 0.0994 x 59,990 = 5,963.006; perp buy 0.0994 x 60,040 = 5,967.976
    fees = (D("0.001") * D("5970.964995") + D("0.0005") * D("5965.988")
            + D("0.001") * D("5963.006") + D("0.0005") * D("5967.976"))
    assert fees == D("17.900952995")
    assert o.fees_usdt == fees
    assert o.slippage_cost_usdt == 0  # every order fits in the first level
    assert (o.spot_entry_slippage, o.perp_entry_slippage) == (D(0), D(0))
    # spread: half-spread 10 on the spot (0.0994995 + 0.0994) and perp (2 x 0.0994) coins
    assert o.spread_cost_usdt == D("3.976995")
    assert o.round_trip_cost_usdt == D("21.877947995")
    assert o.round_trip_cost_fraction == D("21.877947995") / D(5964)  # 0.3668%
    # net APR = 10.95% + 2% - 0.3668% x 365 / 30 = 8.4869%
    assert o.net_apr == D("0.1295") - D("21.877947995") / D(5964) * 365 / 30
    assert o.net_apr == pytest.approx(D("0.084869"), abs=D("1e-6"))
    # break-even: 0.3668% x 365 / 10.95% = 12.23 days (Earn left out)
    assert o.break_even_days == D("21.877947995") / D(5964) * 365 / D("0.1095")
    # capital: spot 5,970.964995 + perp margin 5,965.988 / 2 + perp fee 2.982994
    assert o.capital_usdt == D("8956.941989")
    assert o.entry_basis == D("0.0005")  # (60,030 - 60,000) / 60,000


def test_worked_example_btc_long() -> None:
    """Negative funding, -0.02% per 4 h: a LONG on borrowed BTC at 0.0002% an hour.

    Funding APR earned = 0.0002 x 6 x 365 = 43.8%; borrow APR = 0.000002 x 8760 = 1.752%.
    Earn does not apply (the coin is sold). Reference price = max(spot bid 59,990, perp ask
    60,040) -> q = 6,000 / (60,040 x 1.002 x 1.003) = 0.099435 -> 0.0994. The exit buys the
    coin back with the fee in coin: 0.09949950, as the SHORT's entry did.
    """
    market = Market(rate=D("-0.0002"), interval_hours=4)
    snap = snapshot(market, earn=[EarnRate("BTC", D("0.02"))], borrow=[BTC_BORROW])
    o = _only(_scan(snap))
    assert o.accepted and o.direction is Direction.LONG
    assert o.funding_apr == D("0.438") and o.borrow_apr == D("0.01752") and o.earn_apr == 0
    assert o.base_qty == D("0.0994")
    assert o.spot_entry_qty == D("0.0994") and o.spot_exit_qty == D("0.09949950")
    # entry: spot sell 0.0994 x 59,990; perp buy 0.0994 x 60,040 (fees in USDT)
    # exit: spot buy 0.0994995 x 60,010; perp sell 0.0994 x 60,020
    fees = (D("0.001") * D("5963.006") + D("0.0005") * D("5967.976")
            + D("0.001") * D("5970.964995") + D("0.0005") * D("5965.988"))
    assert o.fees_usdt == fees
    total = fees + D("3.976995")
    assert o.round_trip_cost_usdt == total
    assert o.net_apr == D("0.438") - D("0.01752") - total / D(5964) * 365 / 30
    assert o.break_even_days == total / D(5964) * 365 / (D("0.438") - D("0.01752"))
    assert o.borrow_cost_usdt == D(5964) * D("0.01752") * 30 / 365
    # capital: spot proceeds kept 5,963.006 + margin 5,967.976 / 2 + both entry fees in USDT
    assert o.capital_usdt == D("5963.006") + D("2983.988") + D("5.963006") + D("2.983988")


def _held(s: MarketSnapshot) -> MarketSnapshot:
    return replace(s, held_symbols=frozenset({"BTC-USDT-SWAP"}))


def _no_ticker(s: MarketSnapshot) -> MarketSnapshot:
    return replace(s, tickers={k: v for k, v in s.tickers.items() if k != "BTC-USDT"})


# reason -> (markets, snapshot options, params overrides, snapshot edit)
Case = tuple[Market, dict[str, Any], dict[str, Any], Callable[[MarketSnapshot], MarketSnapshot]]
_SAME: Callable[[MarketSnapshot], MarketSnapshot] = lambda s: s  # noqa: E731
THIN = tuple(D("0.002") for _ in range(100))  # 0.002 BTC a level
CASES: dict[str, tuple[RejectReason, Case]] = {
    "deny": (R.DENY_LISTED, (Market(), {}, {"instruments_deny": frozenset({"BTC"})}, _SAME)),
    "allow": (R.NOT_ALLOWED, (Market(), {}, {"instruments_allow": frozenset({"ETH"})}, _SAME)),
    "held by base": (R.ALREADY_HELD, (Market(), {"held": ["BTC"]}, {}, _SAME)),
    "held by swap id": (R.ALREADY_HELD, (Market(), {}, {}, _held)),
    "no spot": (R.NO_SPOT_MARKET, (Market(has_spot=False), {}, {}, _SAME)),
    "spot suspended": (R.NOT_LIVE, (Market(spot=spot_instrument(live=False)), {}, {}, _SAME)),
    "swap suspended": (R.NOT_LIVE, (Market(swap=swap_instrument(live=False)), {}, {}, _SAME)),
    "negative off": (R.NEGATIVE_FUNDING_DISABLED,
                     (Market(rate=D("-0.0003")), {"borrow": [BTC_BORROW]},
                      {"enable_negative_rate_strategy": False}, _SAME)),
    "rate too small": (R.FUNDING_OUT_OF_BAND, (Market(rate=D("0.00009")), {}, {}, _SAME)),
    "rate zero": (R.FUNDING_OUT_OF_BAND, (Market(rate=D(0)), {}, {}, _SAME)),
    "rate too large": (R.FUNDING_OUT_OF_BAND, (Market(rate=D("0.0101")), {}, {}, _SAME)),
    "negative too large": (R.FUNDING_OUT_OF_BAND,
                           (Market(rate=D("-0.02")), {"borrow": [BTC_BORROW]}, {}, _SAME)),
    "no ticker": (R.MISSING_DATA, (Market(), {}, {}, _no_ticker)),
    "no book": (R.MISSING_DATA, (Market(), {"skip_books": ["BTC-USDT"]}, {}, _SAME)),
    "crossed book": (R.MISSING_DATA, (Market(perp_bid=D(60050)), {}, {}, _SAME)),
    "no funding interval": (R.MISSING_DATA, (Market(interval_hours=0), {}, {}, _SAME)),
    "empty book side": (R.INSUFFICIENT_DEPTH, (Market(spot_sizes=()), {}, {}, _SAME)),
    "stale": (R.STALE_DATA, (Market(ts_ms=NOW_MS - 60_000), {}, {"max_data_age_ms": 30_000},
                             _SAME)),
    "thin spot volume": (R.THIN_VOLUME, (Market(spot_volume=D(4_999_999)), {}, {}, _SAME)),
    "thin swap volume": (R.THIN_VOLUME, (Market(volume=D(1_000_000)), {}, {}, _SAME)),
    "not borrowable": (R.NOT_BORROWABLE, (Market(rate=D("-0.0003")), {}, {}, _SAME)),
    "borrow limit": (R.BORROW_LIMIT,
                     (Market(rate=D("-0.0003")),
                      {"borrow": [BorrowTerms("BTC", D("0.000002"), D("0.05"))]}, {}, _SAME)),
    "no free capital": (R.NO_CAPITAL, (Market(), {"free": D(0)}, {}, _SAME)),
    "no equity": (R.NO_CAPITAL, (Market(), {"total": D(0)}, {}, _SAME)),
    "max positions": (R.MAX_POSITIONS, (Market(), {"open_count": 5}, {}, _SAME)),
    "below min size": (R.BELOW_MIN_SIZE, (Market(), {"total": D(50)}, {}, _SAME)),
    "insufficient depth": (R.INSUFFICIENT_DEPTH,
                           (Market(spot_sizes=(D("0.05"),)), {}, {}, _SAME)),
    "slippage": (R.SLIPPAGE_TOO_HIGH, (Market(spot_sizes=THIN, tick=D(10)), {}, {}, _SAME)),
    "net apr": (R.NET_APR_TOO_LOW, (Market(), {}, {"min_annualized_return": D("0.15")},
                                    _SAME)),
    "net apr, short holding": (R.NET_APR_TOO_LOW,
                               (Market(), {}, {"expected_holding_days": D(7)}, _SAME)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_reject_reason(name: str) -> None:
    reason, (market, snap_kw, overrides, edit) = CASES[name]
    o = _only(_scan(edit(snapshot(market, **snap_kw)), **overrides))
    assert not o.accepted
    assert o.reject_reason is reason, o.detail
    assert o.detail


def test_every_reject_reason_has_a_case() -> None:
    assert {reason for reason, _ in CASES.values()} == set(RejectReason)


def test_the_checks_report_the_first_failing_reason() -> None:
    """Deny-listed, thin and out of band at once: the list check comes first."""
    market = Market(rate=D("0.5"), volume=D(1))
    o = _only(_scan(snapshot(market), instruments_deny=frozenset({"BTC"})))
    assert o.reject_reason is R.DENY_LISTED


def test_rejections_after_costing_keep_their_numbers() -> None:
    o = _only(_scan(snapshot(Market(spot_sizes=THIN, tick=D(10)))))
    assert o.reject_reason is R.SLIPPAGE_TOO_HIGH
    assert o.spot_entry_slippage is not None and o.spot_entry_slippage > D("0.002")
    assert o.net_apr is not None and o.base_qty is not None
    early = _only(_scan(snapshot(Market(rate=D("0.00001")))))
    assert early.net_apr is None and early.base_qty is None


def test_max_position_value_caps_the_leg_notional_and_capital_stays_within_budget() -> None:
    o = _only(_scan(snapshot(total=D(1_000_000)), max_position_value=D(3000)))
    assert o.accepted and o.notional_usdt is not None and o.capital_usdt is not None
    assert o.notional_usdt <= 3000
    small = _only(_scan(snapshot(total=D(30_000)), max_position_value=D(1_000_000)))
    assert small.capital_usdt is not None and small.capital_usdt <= D(3000)  # 10% of 30,000


def test_total_capital_setting_caps_the_equity_planned_with() -> None:
    big = _only(_scan(snapshot(total=D(1_000_000)), max_position_value=D(10**9),
                      total_capital=D(20_000)))
    assert big.capital_usdt is not None and big.capital_usdt <= D(2000)


def test_earn_only_when_enabled() -> None:
    snap = snapshot(earn=[EarnRate("BTC", D("0.05"))])
    on, off = _only(_scan(snap)), _only(_scan(snap, enable_spot_earning=False))
    assert on.earn_apr == D("0.05") and off.earn_apr == 0
    assert on.net_apr is not None and off.net_apr is not None
    assert on.net_apr - off.net_apr == pytest.approx(D("0.05"), abs=D("1e-25"))


BTC, ETH, SOL, DOGE, XRP = (Market(base=b, rate=r) for b, r in (
    ("BTC", D("0.0001")), ("ETH", D("0.0003")), ("SOL", D("0.0002")), ("DOGE", D("0.5")),
    ("XRP", D("0.00015"))))


def test_ranking_accepted_first_then_net_apr_descending() -> None:
    # XRP's book is too thin (slippage) but its net APR is still computed
    xrp = replace(XRP, rate=D("0.001"), spot_sizes=THIN, tick=D(10))
    result = _scan(snapshot(BTC, ETH, SOL, DOGE, xrp))
    order = [(o.base, o.accepted) for o in result.opportunities]
    assert order == [("ETH", True), ("SOL", True), ("BTC", True), ("XRP", False),
                     ("DOGE", False)]
    xrp_o = result.opportunities[3]
    assert xrp_o.net_apr is not None and result.opportunities[0].net_apr is not None
    assert xrp_o.net_apr > result.opportunities[0].net_apr  # better on paper, still after
    assert [o.base for o in result.accepted] == ["ETH", "SOL", "BTC"]
    assert result.reasons() == {R.SLIPPAGE_TOO_HIGH: 1, R.FUNDING_OUT_OF_BAND: 1}
    assert result.ts_ms == NOW_MS


def test_free_slots_go_to_the_best() -> None:
    result = _scan(snapshot(BTC, ETH, SOL, open_count=3), max_open_positions=5)
    assert [(o.base, o.reject_reason) for o in result.opportunities] == [
        ("ETH", None), ("SOL", None), ("BTC", R.MAX_POSITIONS)]


def test_free_capital_goes_to_the_best_and_the_rest_is_resized_or_refused() -> None:
    # each carry plans about 9,000 USDT (10% of 100,000, leg capped at 6,000)
    result = _scan(snapshot(BTC, ETH, SOL, free=D(12_000)))
    eth, sol, btc = result.opportunities
    assert (eth.base, eth.accepted) == ("ETH", True)
    assert (sol.base, sol.accepted) == ("SOL", True)  # re-sized into what ETH left
    assert eth.capital_usdt is not None and sol.capital_usdt is not None
    assert sol.capital_usdt < eth.capital_usdt
    assert eth.capital_usdt + sol.capital_usdt <= D(12_000)
    assert (btc.base, btc.reject_reason) == ("BTC", R.NO_CAPITAL)  # a crumb is left
    # less than min_trade_fraction (25%) of the standard capital per trade free: refused
    assert _only(_scan(snapshot(free=D(2400)))).reject_reason is R.NO_CAPITAL
    assert _only(_scan(snapshot(free=D(2600)))).accepted


def test_dynamic_sizing_gives_more_to_the_best_and_less_to_the_marginal() -> None:
    rich = Market(base="ETH", rate=D("0.001"))  # ~109.5% funding APR
    marginal = Market(base="BTC", rate=D("0.0001"))
    snap = snapshot(rich, marginal, total=D(1_000_000))
    fixed = {o.base: o for o in _scan(snap, max_position_value=D(10**9)).opportunities}
    dyn = {o.base: o for o in _scan(snap, max_position_value=D(10**9),
                                   dynamic_sizing=True).opportunities}
    assert dyn["ETH"].sizing_multiplier == 2 and dyn["ETH"].accepted
    assert dyn["BTC"].sizing_multiplier < 1 and dyn["BTC"].accepted
    for base, ratio in (("ETH", D(2)), ("BTC", dyn["BTC"].sizing_multiplier)):
        q_dyn, q_fixed = dyn[base].base_qty, fixed[base].base_qty
        assert q_dyn is not None and q_fixed is not None
        assert q_dyn / q_fixed == pytest.approx(ratio, rel=D("0.01"))


def test_dynamic_sizing_keeps_the_standard_size_when_the_book_cannot_take_more() -> None:
    # depth for the standard size (~0.11 BTC), not for twice it: 7 levels of 0.02 BTC
    shallow = Market(rate=D("0.001"), spot_sizes=tuple(D("0.02") for _ in range(7)),
                     tick=D("0.5"))
    o = _only(_scan(snapshot(shallow), dynamic_sizing=True, max_position_value=D(10**9)))
    assert o.accepted and o.sizing_multiplier == 1
    assert o.base_qty == _only(_scan(snapshot(shallow), max_position_value=D(10**9))).base_qty


def test_from_settings_copies_the_keys_the_scanner_reads() -> None:
    settings = Settings.model_validate({
        "strategy": {"min_annualized_return": "0.2", "expected_holding_days": 14,
                     "enable_negative_rate_strategy": False, "dynamic_sizing": True},
        "account": {"total_capital": 50_000, "max_position_value": 2000,
                    "instruments_deny": ["doge"], "instruments_allow": ["btc", "eth"]},
        "risk": {"leverage": 3, "max_allowed_slippage": "0.001"},
    })
    p = ScanParams.from_settings(settings, max_data_age_ms=5000)
    assert p.min_annualized_return == D("0.2") and p.expected_holding_days == 14
    assert not p.enable_negative_rate_strategy and p.dynamic_sizing
    assert p.total_capital == 50_000 and p.max_position_value == 2000
    assert p.instruments_deny == {"DOGE"} and p.instruments_allow == {"BTC", "ETH"}
    assert p.leverage == 3 and p.max_allowed_slippage == D("0.001")
    assert p.funding_rate_min == D("0.0001") and p.funding_rate_max == D("0.01")
    assert p.max_data_age_ms == 5000
    defaults = ScanParams.from_settings(Settings())
    assert defaults == ScanParams()  # the dataclass defaults mirror the configuration's
    with pytest.raises(TypeError):
        ScanParams.from_settings(Settings(), no_such_field=1)


def test_params_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="expected_holding_days"):
        ScanParams(expected_holding_days=D(0))
    with pytest.raises(ValueError, match="funding_rate_min"):
        ScanParams(funding_rate_min=D("0.01"), funding_rate_max=D("0.001"))


def test_swaps_in_other_quotes_and_swaps_without_funding_are_not_candidates() -> None:
    snap = snapshot(BTC)
    coin_margined = replace(swap_instrument("ETH"), inst_id="ETH-USD-SWAP", quote="USD")
    snap = replace(snap, instruments={**snap.instruments, coin_margined.inst_id: coin_margined,
                                      "SOL-USDT-SWAP": swap_instrument("SOL")})
    assert [o.base for o in _scan(snap).opportunities] == ["BTC"]
