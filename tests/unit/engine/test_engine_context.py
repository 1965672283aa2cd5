"""The engine's views of the account (laicai.engine.context) and its memory across restarts
(laicai.engine.core.Memory): plain values in, exact figures out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.account import Balance, PerpPosition
from laicai.domain.enums import Direction, InstKind
from laicai.domain.instrument import Instrument
from laicai.domain.market import FundingRate
from laicai.engine.context import (
    AccountState,
    CarryMemory,
    Health,
    account_view,
    carry_view,
    coin_held,
    initial_margin_budget,
    with_mark,
)
from laicai.engine.core import Memory
from laicai.risk import BreakerState, BreakerStatus, MarginLevel
from laicai.store.records import PositionRecord
from laicai.store.states import PositionStatus, SpotEarningStatus

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = 1_767_225_600_000
BTC_SWAP = "BTC-USDT-SWAP"
DOGE_SWAP = "DOGE-USDT-SWAP"

INSTRUMENTS = {
    "BTC-USDT": Instrument("BTC-USDT", InstKind.SPOT, "BTC", "USDT", D("0.1"), D("0.00000001"),
                           D("0.00001")),
    BTC_SWAP: Instrument(BTC_SWAP, InstKind.SWAP, "BTC", "USDT", D("0.1"), D("0.01"),
                         D("0.01"), contract_value=D("0.01"), max_leverage=100),
    "DOGE-USDT": Instrument("DOGE-USDT", InstKind.SPOT, "DOGE", "USDT", D("0.00001"), D("1"),
                            D("10")),
    DOGE_SWAP: Instrument(DOGE_SWAP, InstKind.SWAP, "DOGE", "USDT", D("0.00001"), D("1"),
                          D("1"), contract_value=D(1000), max_leverage=75),
}


def record(direction: Direction = Direction.SHORT, coin: str = "BTC", pid: int = 1,
           **kw: object) -> PositionRecord:
    base = PositionRecord(
        id=pid, symbol=coin, direction=direction, status=PositionStatus.OPEN, leverage=D(2),
        open_timestamp=T0, close_timestamp=None, last_update_timestamp=None,
        position_amount=D(1), entry_spot_price=D(100), entry_swap_price=D(101),
        exit_spot_price=None, exit_swap_price=None,
        spot_earning_status=SpotEarningStatus.NONE, total_spot_earning_yield=D(0),
        initial_spot_earning_rate=None, margin_ratio=None, initial_funding_rate=D(0),
        total_funding_fee=D(0), total_trade_fee=D(0), resets_count=0, pnl_usd=None,
        spot_inst_id=f"{coin}-USDT", swap_inst_id=f"{coin}-USDT-SWAP", swap_contracts=None,
        notional_usdt=None, funding_interval_hours=8, earn_amount=D(0), okx_mgn_ratio=None,
        liq_px=None, reset_cost=D(0), unrealized_pnl_usd=None, borrow_ccy=None,
        borrowed_amount=D(0), initial_borrow_rate=None, total_borrow_interest=D(0),
        close_reason=None)
    return replace(base, **kw)  # type: ignore[arg-type]


OKX_RATIO = D(20)


def perp(inst_id: str, base_qty: Decimal, avg: Decimal, mark: Decimal, *,
         okx: Decimal | None = OKX_RATIO, liq: Decimal | None = None) -> PerpPosition:
    sign = 1 if base_qty > 0 else -1
    return PerpPosition(inst_id=inst_id, contracts=base_qty, base_qty=base_qty, avg_px=avg,
                        mark_px=mark, leverage=D(2), margin_mode="cross",
                        upl=sign * (mark - avg) * abs(base_qty), okx_mgn_ratio=okx,
                        liq_px=liq, notional_usdt=abs(base_qty) * mark)


def bal(ccy: str, total: str, available: str | None = None, liability: str = "0") -> Balance:
    return Balance(ccy, D(total), D(available if available is not None else total),
                   D(liability))


def state(*, trading: list[Balance] | None = None, funding: list[Balance] | None = None,
          perps: list[PerpPosition] | None = None, earn: dict[str, Decimal] | None = None,
          prices: dict[str, Decimal] | None = None,
          rates: list[FundingRate] | None = None) -> AccountState:
    return AccountState(
        ts_ms=T0_MS + 3_600_000,
        trading={b.ccy: b for b in trading or []},
        funding={b.ccy: b for b in funding or []},
        positions={p.inst_id: p for p in perps or []},
        earn=earn or {}, prices=prices or {},
        funding_rates={r.inst_id: r for r in rates or []})


# ---------------------------------------------------------------------- AccountState
def test_equity_sums_both_accounts_and_earn_at_spot_prices() -> None:
    s = state(trading=[bal("USDT", "1000", "800"), bal("BTC", "0.5"),
                       bal("DOGE", "-100", "0", liability="100")],
              funding=[bal("USDT", "250"), bal("ETH", "2")],
              earn={"BTC": D("0.25")},
              prices={"BTC": D(60_000), "DOGE": D("0.2")})
    # 1000 + 0.5 x 60000 - 100 x 0.2 + 250 + ETH unpriced (0) + 0.25 x 60000
    assert s.equity_usdt == D(1000) + D(30_000) - D(20) + D(250) + D(15_000)
    assert s.price("USDT") == 1 and s.price("ETH") == 0
    assert s.usdt_available() == D(800)
    assert s.usdt_available("funding") == D(250)
    assert state().usdt_available() == 0 and state().equity_usdt == 0


# ---------------------------------------------------------------------- carry_view
def test_short_carry_view() -> None:
    pos = record(spot_earning_status=SpotEarningStatus.SUBSCRIBED, total_funding_fee=D(3),
                 total_trade_fee=D("0.5"), total_spot_earning_yield=D("0.01"),
                 initial_spot_earning_rate=D("0.02"))
    s = state(trading=[bal("USDT", "5000"), bal("BTC", "0.4")],
              perps=[perp(BTC_SWAP, D(-1), D(101), D(110), okx=D("12.5"), liq=D(180))],
              earn={"BTC": D("0.6")}, prices={"BTC": D(109)},
              rates=[FundingRate(BTC_SWAP, D("0.0003"), T0_MS + 8 * 3_600_000, 4, T0_MS)])
    mem = CarryMemory(margin_budget=D("50.5"), level=MarginLevel.TOPUP, naked_since_ms=7)
    v = carry_view(pos, s, mem, INSTRUMENTS)
    assert v is not None
    assert v.position_id == 1 and v.symbol == BTC_SWAP and v.direction is Direction.SHORT
    assert v.spot_base == D(1)  # 0.4 held + 0.6 in Earn
    assert v.perp_base == D(1)
    assert v.mark_px == D(110) and v.index_px == D(109)
    assert v.perp_notional_usdt == D(110)
    # perp equity = margin budget + upl = 50.5 - (110 - 101) x 1
    assert v.perp_equity_usdt == D("41.5")
    assert v.margin_ratio == D("41.5") / D(110)
    assert v.okx_mgn_ratio == D("12.5") and v.liq_px == D(180)
    # spot +9, perp -9, funding +3, Earn 0.01 BTC x 109, fees -0.5
    assert v.total_pnl_usdt == D(9) - D(9) + D(3) + D("1.09") - D("0.5")
    assert v.capital_usdt == D(100) + D("50.5")
    assert v.opened_ms == T0_MS
    assert v.funding_rate == D("0.0003") and v.funding_interval_hours == 4
    assert v.earn_apr == D("0.02") and v.borrow_apr == 0
    assert v.base_step == D("0.0001")  # 0.01 contracts x 0.01 BTC > 1e-8 spot lot
    assert v.naked_since_ms == 7 and v.last_margin_level is MarginLevel.TOPUP
    assert v.naked_usdt == 0


def test_long_carry_view() -> None:
    pos = record(Direction.LONG, "DOGE", pid=2, position_amount=D(1000),
                 entry_spot_price=D("0.2"), entry_swap_price=D("0.2"), leverage=D(2),
                 notional_usdt=D(200), borrow_ccy="DOGE", borrowed_amount=D(1000),
                 initial_borrow_rate=D("0.1"), total_borrow_interest=D(2),
                 total_funding_fee=D(1), funding_interval_hours=1)
    s = state(trading=[bal("USDT", "5000"), bal("DOGE", "-990", "0", liability="1000")],
              perps=[perp(DOGE_SWAP, D(1000), D("0.2"), D("0.25"), okx=None)],
              prices={"DOGE": D("0.25")})
    mem = CarryMemory(margin_budget=D(100))
    v = carry_view(pos, s, mem, INSTRUMENTS)
    assert v is not None
    assert v.direction is Direction.LONG
    assert v.spot_base == D(1000)  # what is owed, as a magnitude
    assert v.perp_base == D(1000)
    assert v.perp_notional_usdt == D(250)
    # a LONG perp gains as the price rises: 100 + (0.25 - 0.2) x 1000
    assert v.perp_equity_usdt == D(150)
    assert v.margin_ratio == D("0.6")
    # short spot loses 50, perp gains 50, funding +1, borrow interest 2 DOGE x 0.25
    assert v.total_pnl_usdt == D(-50) + D(50) + D(1) - D("0.5")
    assert v.funding_rate is None and v.funding_interval_hours == 1  # the record's interval
    assert v.borrow_apr == D("0.1")
    assert v.okx_mgn_ratio is None
    assert v.capital_usdt == D(200) + D(100)  # spot leg + initial budget (200 / 2)
    assert v.base_step == D(1000)  # one swap contract of 1000 DOGE


def test_naked_exposure_and_missing_perp() -> None:
    pos = record()
    s = state(trading=[bal("BTC", "1")], prices={"BTC": D(100)})
    v = carry_view(pos, s, CarryMemory(D(50)), INSTRUMENTS)
    assert v is not None
    assert v.perp_base == 0 and v.mark_px == D(100)  # the spot price stands in
    assert v.margin_ratio is None
    assert v.naked_usdt == D(100)
    # a negative coin balance of a SHORT counts as none held
    s2 = state(trading=[bal("BTC", "-0.1")], perps=[perp(BTC_SWAP, D(-1), D(100), D(100))],
               prices={"BTC": D(100)})
    assert coin_held(s2, pos) == 0
    assert coin_held(s2, record(Direction.LONG)) == 0  # no liability


@pytest.mark.parametrize("status", [s for s in PositionStatus if s is not PositionStatus.OPEN])
def test_no_view_of_a_carry_that_is_not_open(status: PositionStatus) -> None:
    s = state(trading=[bal("BTC", "1")], perps=[perp(BTC_SWAP, D(-1), D(100), D(100))],
              prices={"BTC": D(100)})
    assert carry_view(record(status=status), s, CarryMemory(D(50)), INSTRUMENTS) is None


def test_no_view_without_size_or_price() -> None:
    s = state(trading=[bal("BTC", "1")], perps=[perp(BTC_SWAP, D(-1), D(100), D(100))],
              prices={"BTC": D(100)})
    mem = CarryMemory(D(50))
    assert carry_view(record(position_amount=D(0)), s, mem, INSTRUMENTS) is None
    assert carry_view(record(), replace(s, prices={}), mem, INSTRUMENTS) is None


def test_initial_margin_budget() -> None:
    assert initial_margin_budget(record()) == D("50.5")  # 1 x 101 / 2
    assert initial_margin_budget(record(notional_usdt=D(300), leverage=D(3))) == D(100)
    assert initial_margin_budget(record(leverage=D(0))) == D(101)  # no leverage: 1x


# ---------------------------------------------------------------------- with_mark
def test_with_mark_reprices_only_the_perp() -> None:
    pos = record()
    p = perp(BTC_SWAP, D(-1), D(101), D(110))
    s = state(trading=[bal("BTC", "1")], perps=[p], prices={"BTC": D(109)})
    v = carry_view(pos, s, CarryMemory(D("50.5")), INSTRUMENTS)
    assert v is not None
    # at the mark it was read with, nothing moves
    same = with_mark(v, p, D(110), D("50.5"))
    assert same.perp_equity_usdt == v.perp_equity_usdt
    assert same.margin_ratio == v.margin_ratio
    up = with_mark(v, p, D(130), D("50.5"))
    assert up.mark_px == D(130) and up.perp_notional_usdt == D(130)
    assert up.perp_equity_usdt == D("50.5") - D(29)
    assert up.index_px == v.index_px and up.spot_base == v.spot_base
    # without the venue's position the record's entry price is the reference
    assert with_mark(v, None, D(130), D(60)).perp_equity_usdt == D(60) - D(29)


def test_with_mark_leaves_a_carry_without_perp_alone() -> None:
    s = state(trading=[bal("BTC", "1")], prices={"BTC": D(100)})
    v = carry_view(record(), s, CarryMemory(D(50)), INSTRUMENTS)
    assert v is not None
    assert with_mark(v, None, D(1), D(50)) is v


prices = st.decimals(min_value=D("0.001"), max_value=D(1_000_000), places=3)
qtys = st.decimals(min_value=D("0.001"), max_value=D(10_000), places=3)
leverages = st.decimals(min_value=D("1.01"), max_value=D(3), places=2)


@given(prices, qtys, leverages, prices, prices)
def test_a_higher_mark_lowers_a_short_and_raises_a_long(
        entry: Decimal, qty: Decimal, lev: Decimal, m1: Decimal, m2: Decimal) -> None:
    lo, hi = sorted((m1, m2))
    if lo == hi:
        hi = lo + D("0.001")
    budget = entry * qty / lev
    for direction, sign in ((Direction.SHORT, -1), (Direction.LONG, 1)):
        coin = "BTC" if direction is Direction.SHORT else "DOGE"
        pos = record(direction, coin, position_amount=qty, entry_spot_price=entry,
                     entry_swap_price=entry, leverage=lev)
        p = perp(pos.swap_inst_id, sign * qty, entry, entry)
        held = (bal(coin, str(qty)) if direction is Direction.SHORT
                else bal(coin, str(-qty), "0", liability=str(qty)))
        s = state(trading=[held], perps=[p], prices={coin: entry})
        v = carry_view(pos, s, CarryMemory(budget), INSTRUMENTS)
        assert v is not None
        r_lo = with_mark(v, p, lo, budget).margin_ratio
        r_hi = with_mark(v, p, hi, budget).margin_ratio
        assert r_lo is not None and r_hi is not None
        if direction is Direction.SHORT:
            assert r_hi < r_lo
        else:
            assert r_hi > r_lo
        # the ratio at the entry price is 1 / leverage
        at_entry = with_mark(v, p, entry, budget).margin_ratio
        assert at_entry is not None
        assert abs(at_entry - 1 / lev) < D("1e-20")


# ---------------------------------------------------------------------- account_view
def test_account_view() -> None:
    btc = record(pid=1)  # committed 100 + 50.5
    doge = record(Direction.LONG, "DOGE", pid=2, position_amount=D(1000),
                  entry_spot_price=D("0.2"), entry_swap_price=D("0.2"),
                  notional_usdt=D(200), status=PositionStatus.RESETTING)  # 200 + 100
    gone = record(pid=3, coin="ETH", status=PositionStatus.CLOSED)
    failed = record(pid=4, coin="SOL", status=PositionStatus.FAILED)
    s = state(trading=[bal("USDT", "1000", "700")], funding=[bal("USDT", "300")],
              prices={"BTC": D(100)})
    v = account_view(s, [btc, doge, gone, failed], peak_equity=D(1200),
                     realized_today=D(-12))
    assert v.held_symbols == frozenset({"BTC", BTC_SWAP, "DOGE", DOGE_SWAP})
    assert v.open_positions_count == 2
    assert v.committed_capital_usdt == D("150.5") + D(300)
    assert v.trading_available_usdt == D(700) and v.funding_available_usdt == D(300)
    assert v.total_equity_usdt == D(1300)
    assert v.peak_equity_usdt == D(1300)  # equity above the remembered peak
    assert v.realized_pnl_today_usdt == D(-12)
    assert v.funds.total_usdt == D(1000)
    low = account_view(s, [], peak_equity=D(5000), realized_today=D(0))
    assert low.peak_equity_usdt == D(5000)
    assert low.held_symbols == frozenset() and low.committed_capital_usdt == 0


# ---------------------------------------------------------------------- Health
def test_health_keeps_a_rolling_window() -> None:
    h = Health(window_ms=1000)
    h.record(0, 5, False)
    h.record(500, 7, True)
    assert (h.requests, h.errors) == (2, 1)
    h.record(1000, 9, False)  # 0 is exactly window_ms old: kept
    assert h.requests == 3
    h.record(1501, 1, False)  # drops 0 and 500
    assert (h.requests, h.errors) == (2, 0)
    assert [s[0] for s in h.samples] == [1000, 1501]


# ---------------------------------------------------------------------- Memory
money = st.decimals(allow_nan=False, allow_infinity=False, min_value=D(-10**12),
                    max_value=D(10**12), places=12)
epoch_ms = st.none() | st.integers(min_value=0, max_value=4 * 10**12)


@st.composite
def memories(draw: st.DrawFn) -> Memory:
    tripped = draw(st.booleans())
    breaker = BreakerState(
        status=BreakerStatus.TRIPPED if tripped else BreakerStatus.ARMED,
        since_ms=draw(epoch_ms), tripped_ms=draw(epoch_ms),
        reason=draw(st.text(max_size=40)),
        peak_equity_usdt=draw(st.none() | money))
    carries = draw(st.dictionaries(
        st.integers(min_value=1, max_value=10**9),
        st.builds(CarryMemory, money, st.sampled_from(list(MarginLevel)), epoch_ms,
                  st.none() | st.integers(min_value=0, max_value=1000)),
        max_size=8))
    return Memory(breaker, draw(st.none() | st.text(max_size=30)), draw(money),
                  draw(st.none() | money), carries)


@given(memories())
def test_memory_round_trips_through_json(mem: Memory) -> None:
    data = json.loads(json.dumps(mem.to_json()))  # as bot_state stores it
    back = Memory.from_json(data)
    assert back == mem
    for pid, c in mem.carries.items():
        assert back.carries[pid].margin_budget == c.margin_budget
        assert str(back.carries[pid].margin_budget) == str(c.margin_budget)  # exact digits
    assert Memory.from_json(back.to_json()).to_json() == mem.to_json()


def test_memory_from_nothing_is_fresh() -> None:
    nothing: list[dict[str, object] | None] = [None, {}]
    for empty in nothing:
        m = Memory.from_json(empty)
        assert m == Memory()
        assert not m.breaker.tripped and m.carries == {} and m.start_equity is None


def test_memory_json_shape() -> None:
    m = Memory(BreakerState(BreakerStatus.TRIPPED, None, 5, "3 losing closes", D("1.5")),
               "paused by tg", D("100000.25"), D(99_000),
               {7: CarryMemory(D("3000.10"), MarginLevel.RESET, 42, resets=2)})
    assert m.to_json() == {
        "breaker": {"status": "tripped", "since_ms": None, "tripped_ms": 5,
                    "reason": "3 losing closes", "peak": "1.5"},
        "operator_pause": "paused by tg",
        "peak_equity": "100000.25", "start_equity": "99000",
        "carries": {"7": {"budget": "3000.10", "level": "RESET", "naked_since_ms": 42,
                          "resets": 2}},
    }


def test_memory_written_before_resets_were_remembered_still_loads() -> None:
    m = Memory.from_json({"breaker": {"status": "armed"}, "peak_equity": "5",
                          "carries": {"3": {"budget": "12.5", "level": "TOPUP"}}})
    assert m.carries == {3: CarryMemory(D("12.5"), MarginLevel.TOPUP, None, None)}
    assert m.peak_equity == D(5) and m.start_equity is None and m.operator_pause is None
    assert m.breaker == BreakerState()
