"""The PnL decomposition and the account's books (pure): hand-computed carries, the total
identity against an independent OKX-style account model, the interest price moving value only
between parts, and the reconciliation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laicai.domain.enums import Direction, Side
from laicai.engine.events import PnlBreakdown
from laicai.engine.pnl import (
    Holdings,
    Valuation,
    breakdown_change,
    carry_pnl,
    equity_usdt,
    reconcile,
    sum_breakdowns,
)
from laicai.store.records import BorrowEvent, EarnEvent, Fill, FundingPayment, PositionRecord
from laicai.store.states import (
    BorrowEventKind,
    EarnEventKind,
    Liquidity,
    PositionStatus,
    SpotEarningStatus,
)

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_n = 0


def position(direction: Direction = Direction.SHORT, coin: str = "BTC", pid: int = 1
             ) -> PositionRecord:
    return PositionRecord(
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


def fill(inst_id: str, side: Side, px: str | Decimal, size: str | Decimal,
         fee_paid: str | Decimal, fee_ccy: str, trade_id: str | None = None) -> Fill:
    global _n
    _n += 1
    return Fill(inst_id=inst_id, trade_id=trade_id or f"t{_n}", side=side, px=D(px),
                size=D(size), fee=-D(fee_paid), fee_ccy=fee_ccy, liquidity=Liquidity.TAKER,
                ts=T0)


def funding(*amounts: str) -> list[FundingPayment]:
    return [FundingPayment(f"f{i}", "X-USDT-SWAP", D(a), T0) for i, a in enumerate(amounts)]


def earn(coin: str, *amounts: str) -> list[EarnEvent]:
    return [EarnEvent(f"e{i}", EarnEventKind.INTEREST, coin, D(a), T0)
            for i, a in enumerate(amounts)]


def borrow(coin: str, *amounts: str) -> list[BorrowEvent]:
    return [BorrowEvent(f"b{i}", BorrowEventKind.INTEREST, coin, D(a), T0)
            for i, a in enumerate(amounts)]


# ---------------------------------------------------------------------- by hand
SHORT_FILLS = [
    fill("BTC-USDT", Side.BUY, "100", "1", "0.001", "BTC", "buy"),  # fee in coin
    fill("BTC-USDT-SWAP", Side.SELL, "101", "100", "0.505", "USDT", "short"),
    fill("BTC-USDT", Side.SELL, "110", "1", "0.11", "USDT"),
    fill("BTC-USDT-SWAP", Side.BUY, "111", "100", "0.555", "USDT"),
]


def test_short_carry_by_hand() -> None:
    pnl = carry_pnl(position(), SHORT_FILLS, funding("0.5", "0.25"),
                    contract_value=D("0.01"), valuation=Valuation(D(110), D(111)),
                    earn=earn("BTC", "0.0015", "0.0005"),
                    reference_px={"buy": D("99.9"), "short": D("101.05")})
    b = pnl.breakdown
    assert pnl.coin_net == D("0.001")  # bought 1, fee 0.001, +0.002 interest, sold 1
    assert pnl.perp_contracts == 0
    assert pnl.spot_basis == D("9.99")  # +10 on the 0.999 BTC the carry held
    assert pnl.perp_basis == D("-10")
    assert (b.funding, b.earn, b.fees, b.borrow) == (D("0.75"), D("0.22"), D("1.27"), D(0))
    assert b.basis == D("-0.01")
    assert b.total == D("-0.31")
    assert b.slippage == D("0.15")  # 0.1 on the spot buy, 0.05 on the perp sell


def test_long_carry_by_hand() -> None:
    fills = [
        fill("DOGE-USDT", Side.SELL, "0.2", "1000", "0.2", "USDT"),
        fill("DOGE-USDT-SWAP", Side.BUY, "0.201", "1", "0.1005", "USDT"),
        fill("DOGE-USDT", Side.BUY, "0.19", "1001", "1.001", "DOGE"),
        fill("DOGE-USDT-SWAP", Side.SELL, "0.191", "1", "0.0955", "USDT"),
    ]
    pnl = carry_pnl(position(Direction.LONG, "DOGE"), fills, funding("1"),
                    contract_value=D(1000),
                    valuation=Valuation(D("0.19"), D("0.191"), interest_px=D("0.19")),
                    borrow=borrow("DOGE", "0.5"))
    b = pnl.breakdown
    assert pnl.coin_net == D("-0.501")  # still owes half a DOGE of interest, 1 fee short
    assert pnl.spot_basis == D("10")  # 1000 DOGE sold 0.01 above where they came back
    assert pnl.perp_basis == D("-10")
    assert (b.funding, b.borrow, b.fees) == (D(1), D("0.095"), D("0.58619"))
    assert b.total == D("0.31881")


def test_open_carry_is_marked_at_the_mark_and_the_index() -> None:
    pnl = carry_pnl(position(), SHORT_FILLS[:2], [], contract_value=D("0.01"),
                    valuation=Valuation(D(105), D("105.5")))
    assert pnl.perp_contracts == -100
    assert pnl.perp_basis == D("-4.5")  # short 1 BTC from 101, marked at 105.5
    assert pnl.spot_basis == D("4.995")  # 0.999 BTC from 100 to 105
    assert pnl.coin_net == D("0.999")


def test_refuses_what_cannot_be_the_carrys() -> None:
    val = Valuation(D(1), D(1))
    with pytest.raises(ValueError, match="not a leg"):
        carry_pnl(position(), [fill("ETH-USDT", Side.BUY, "1", "1", "0", "ETH")], [],
                  contract_value=D(1), valuation=val)
    with pytest.raises(ValueError, match="fee in"):
        carry_pnl(position(), [fill("BTC-USDT", Side.BUY, "1", "1", "0.1", "OKB")], [],
                  contract_value=D(1), valuation=val)
    with pytest.raises(ValueError, match="carry's coin"):
        carry_pnl(position(), [], [], contract_value=D(1), valuation=val,
                  earn=earn("ETH", "1"))
    with pytest.raises(ValueError, match="expected USDT"):
        carry_pnl(position(), [], [replace(funding("1")[0], ccy="BTC")],
                  contract_value=D(1), valuation=val)
    with pytest.raises(ValueError, match="positive price"):
        Valuation(D(0), D(1))


def test_only_interest_events_count() -> None:
    events = [*earn("BTC", "0.1"),
              EarnEvent("s", EarnEventKind.SUBSCRIBE, "BTC", D(5), T0),
              EarnEvent("r", EarnEventKind.REDEEM, "BTC", D(5), T0)]
    pnl = carry_pnl(position(), [], [], contract_value=D(1), valuation=Valuation(D(10), D(10)),
                    earn=events)
    assert pnl.earn_coin == D("0.1") and pnl.breakdown.earn == D(1)


# ---------------------------------------------------------------------- properties
class Model:
    """An OKX-style account fed the same events, independently of :func:`carry_pnl`: cash and
    coin balances, and the perp with an average entry price, realised PnL on each reduction
    and unrealised PnL at mark (as OKX books them)."""

    def __init__(self, ct: Decimal) -> None:
        self.ct = ct
        self.usdt = self.coin = self.pos = self.avg = D(0)

    def trade_spot(self, f: Fill) -> None:
        paid = -f.fee
        if f.side is Side.BUY:
            self.usdt -= f.size * f.px
            self.coin += f.size - (paid if f.fee_ccy != "USDT" else 0)
        else:
            self.coin -= f.size
            self.usdt += f.size * f.px
        if f.fee_ccy == "USDT":
            self.usdt -= paid

    def trade_perp(self, f: Fill) -> None:
        signed = f.size if f.side is Side.BUY else -f.size
        old = self.pos
        if old == 0 or (old > 0) == (signed > 0):
            self.avg = (abs(old) * self.avg + f.size * f.px) / abs(old + signed)
        else:
            closed = min(f.size, abs(old))
            self.usdt += closed * self.ct * (f.px - self.avg) * (1 if old > 0 else -1)
            if f.size > abs(old):
                self.avg = f.px
        self.pos = old + signed
        self.usdt += f.fee

    def equity(self, spot_px: Decimal, mark_px: Decimal) -> Decimal:
        return self.usdt + self.coin * spot_px + self.pos * self.ct * (mark_px - self.avg)


prices = st.decimals(min_value=D("0.01"), max_value=D(100000), places=2)
sizes = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
rates = st.sampled_from([D(0), D("0.0002"), D("0.0005"), D("0.001"), D("-0.0001")])
coin_amounts = st.decimals(min_value=D(0), max_value=D(10), places=8)


@st.composite
def carries(draw: st.DrawFn) -> tuple[list[Fill], list[Decimal], Decimal, Decimal, Decimal]:
    ct = draw(st.sampled_from([D("0.01"), D(1), D(10), D(1000)]))
    fills = []
    for _ in range(draw(st.integers(0, 12))):
        spot = draw(st.booleans())
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        px, size, rate = draw(prices), draw(sizes), draw(rates)
        if spot and side is Side.BUY:  # a spot buy pays its fee in the coin received
            fills.append(fill("BTC-USDT", side, px, size, size * rate, "BTC"))
        else:
            value = size * px * (ct if not spot else 1)
            fills.append(fill("BTC-USDT" if spot else "BTC-USDT-SWAP", side, px, size,
                              value * rate, "USDT"))
    pay = draw(st.lists(st.decimals(min_value=D(-50), max_value=D(50), places=9), max_size=6))
    return fills, pay, ct, draw(coin_amounts), draw(coin_amounts)


@settings(max_examples=200, deadline=None)
@given(carries(), prices, prices, prices)
def test_total_is_the_accounts_equity_change(
        carry: tuple[list[Fill], list[Decimal], Decimal, Decimal, Decimal],
        spot_px: Decimal, mark_px: Decimal, interest_px: Decimal) -> None:
    fills, pay, ct, earned, owed = carry
    model = Model(ct)
    for f in fills:
        (model.trade_spot if f.inst_id == "BTC-USDT" else model.trade_perp)(f)
    model.usdt += sum(pay, D(0))
    model.coin += earned - owed
    pnl = carry_pnl(position(), fills, [FundingPayment(f"f{i}", "BTC-USDT-SWAP", a, T0)
                                        for i, a in enumerate(pay)],
                    contract_value=ct, valuation=Valuation(spot_px, mark_px, interest_px),
                    earn=earn("BTC", str(earned)), borrow=borrow("BTC", str(owed)))
    b = pnl.breakdown
    assert b.total == b.funding + b.earn + b.basis - b.fees - b.borrow
    assert abs(b.total - model.equity(spot_px, mark_px)) <= D("1e-9")
    assert pnl.coin_net == model.coin and pnl.perp_contracts == model.pos
    assert b.funding == sum(pay, D(0))
    assert b.earn == earned * interest_px and b.borrow == owed * interest_px


@settings(max_examples=100, deadline=None)
@given(carries(), prices, prices, prices, prices)
def test_the_interest_price_only_moves_value_between_parts(
        carry: tuple[list[Fill], list[Decimal], Decimal, Decimal, Decimal],
        spot_px: Decimal, mark_px: Decimal, px_a: Decimal, px_b: Decimal) -> None:
    fills, _, ct, earned, owed = carry

    def at(px: Decimal) -> PnlBreakdown:
        return carry_pnl(position(), fills, [], contract_value=ct,
                         valuation=Valuation(spot_px, mark_px, px),
                         earn=earn("BTC", str(earned)), borrow=borrow("BTC", str(owed))
                         ).breakdown

    a, b = at(px_a), at(px_b)
    assert abs(a.total - b.total) <= D("1e-12")
    assert (a.funding, a.fees) == (b.funding, b.fees)
    assert abs((a.basis - b.basis) - ((b.earn - a.earn) - (b.borrow - a.borrow))) <= D("1e-12")


breakdowns = st.builds(PnlBreakdown, *[st.decimals(min_value=D(-1000), max_value=D(1000),
                                                   places=6)] * 6)


@given(st.lists(breakdowns, max_size=6), st.lists(breakdowns, max_size=6))
def test_sums_and_changes_add_up(after: list[PnlBreakdown], before: list[PnlBreakdown]
                                 ) -> None:
    total = sum_breakdowns(after)
    assert total.total == sum((b.total for b in after), D(0))
    change = breakdown_change(total, sum_breakdowns(before))
    assert change.total == total.total - sum((b.total for b in before), D(0))
    rec = reconcile(D(1000), D(1000) + change.total, after, before)
    assert rec.unexplained == 0 and rec.balanced(D(0))


def test_reconciliation_finds_what_the_books_miss() -> None:
    carry = carry_pnl(position(), SHORT_FILLS, funding("0.5", "0.25"),
                      contract_value=D("0.01"), valuation=Valuation(D(110), D(111)),
                      earn=earn("BTC", "0.002"))
    equity_after = D(100000) + D("-0.31")
    assert reconcile(D(100000), equity_after, [carry.breakdown]).balanced()
    missed = carry_pnl(position(), SHORT_FILLS, funding("0.5"),  # a funding bill not booked
                       contract_value=D("0.01"), valuation=Valuation(D(110), D(111)),
                       earn=earn("BTC", "0.002"))
    rec = reconcile(D(100000), equity_after, [missed.breakdown])
    assert not rec.balanced() and rec.unexplained == D("0.25")


def test_equity_values_every_account_and_refuses_a_missing_price() -> None:
    h = Holdings(trading={"USDT": D("1000.5"), "BTC": D("-0.1"), "ETH": D(0)},
                 funding={"USDT": D(10), "BTC": D("0.3")}, earn={"BTC": D("0.05")})
    assert equity_usdt(h, {"BTC": D(60000)}) == D("1010.5") + D("0.25") * 60000
    assert h.currencies() == {"USDT", "BTC"}
    with pytest.raises(ValueError, match="no price for BTC"):
        equity_usdt(h, {})
