"""Accounting of the simulator core, as properties: every balance change is a bill; equity
moves only by trades, fees, funding and interest (transfers, borrows, Earn and margin moves
only relocate value); fees, funding and interest have OKX's sizes and signs; liquidation
happens where OKX's mgnRatio reaches 100%."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laicai.sim import trading
from laicai.sim.account import Account
from laicai.sim.errors import SimError
from laicai.sim.exchange import SimExchange
from laicai.sim.ledger import position_view, usdt_margin
from laicai.testing.sim import START_MS, make_exchange

HOUR = 3_600_000
ZERO = Decimal(0)

# What each internal move does to the funding account / Earn, by asset-bill type.
FUNDING_TYPES = {"130", "131", "149", "52"}


def check_books(ex: SimExchange, acct: Account, initial: dict[str, Decimal]) -> None:
    """Every balance of every currency equals its start plus the sum of its bills."""
    ccys = set(acct.trading) | set(acct.funding) | set(acct.savings) | set(initial)
    for ccy in ccys:
        bills = [b for b in acct.bills if b.ccy == ccy]
        cash = acct.trading[ccy].cash if ccy in acct.trading else ZERO
        assert cash == initial.get(ccy, ZERO) + sum((b.bal_chg for b in bills), ZERO), ccy
        liab = acct.trading[ccy].liab if ccy in acct.trading else ZERO
        borrowed = sum((b.sz for b in bills if b.type == "16"), ZERO)
        repaid = sum((b.sz for b in bills if b.type == "22"), ZERO)
        interest = sum((b.interest for b in bills if b.type == "7"), ZERO)
        assert liab == borrowed - repaid + interest, ccy
        asset = [b for b in acct.asset_bills if b.ccy == ccy]
        funding = sum((b.bal_chg for b in asset if b.type in FUNDING_TYPES), ZERO)
        assert acct.funding.get(ccy, ZERO) == funding, ccy
        in_earn = acct.savings.get(ccy, ZERO) + sum(
            (r.amt for r in acct.redemptions if r.ccy == ccy), ZERO)
        subscribed = -sum((b.bal_chg for b in asset if b.type == "149"), ZERO)
        earned = sum((b.bal_chg for b in asset if b.type == "150"), ZERO)
        arrived = sum((b.bal_chg for b in asset if b.type == "52"), ZERO)
        assert in_earn == subscribed + earned - arrived, ccy
    iso = sum((p.margin for p in acct.positions.values() if p.mgn_mode == "isolated"), ZERO)
    pos_moves = sum((b.pos_bal_chg for b in acct.bills if b.mgn_mode == "isolated"), ZERO)
    assert iso == pos_moves


def net_worth(acct: Account, ccy: str) -> Decimal:
    """Everything of one currency the account owns minus owes (excluding unrealised PnL)."""
    t = acct.trading.get(ccy)
    total = (t.cash - t.liab) if t else ZERO
    total += acct.funding.get(ccy, ZERO) + acct.savings.get(ccy, ZERO)
    total += sum((r.amt for r in acct.redemptions if r.ccy == ccy), ZERO)
    if ccy == "USDT":
        total += sum((p.margin for p in acct.positions.values()), ZERO)
    return total


def economic_flows(acct: Account, ccy: str) -> Decimal:
    """Trades (incl. fees), funding, interest and liquidations: the only things allowed to
    change net worth."""
    flows = ZERO
    for b in acct.bills:
        if b.ccy != ccy:
            continue
        if b.type in ("2", "5"):
            flows += b.bal_chg + b.pos_bal_chg
        elif b.type == "8":
            flows += b.pnl
        elif b.type == "7":
            flows -= b.interest
    flows += sum((b.bal_chg for b in acct.asset_bills if b.ccy == ccy and b.type == "150"),
                 ZERO)
    return flows


ops = st.lists(
    st.one_of(
        st.tuples(st.just("spot"), st.sampled_from(["buy", "sell"]),
                  st.sampled_from(["BTC-USDT", "ETH-USDT"]),
                  st.decimals("0.001", "0.5", places=3), st.sampled_from(["cash", "cross"])),
        st.tuples(st.just("swap"), st.sampled_from(["buy", "sell"]),
                  st.sampled_from(["BTC-USDT-SWAP", "ETH-USDT-SWAP"]),
                  st.integers(1, 40), st.sampled_from(["cross", "isolated"])),
        st.tuples(st.just("limit"), st.sampled_from(["buy", "sell"]),
                  st.sampled_from(["ETH-USDT", "ETH-USDT-SWAP"]), st.integers(-30, 30)),
        st.tuples(st.just("cancel")),
        st.tuples(st.just("price"), st.sampled_from(["BTC", "ETH"]), st.integers(-8, 8)),
        st.tuples(st.just("time"), st.integers(1, 9 * 60)),
        st.tuples(st.just("transfer"), st.sampled_from(["USDT", "BTC", "ETH"]),
                  st.sampled_from(["18", "6"]), st.decimals("0.01", "500", places=2)),
        st.tuples(st.just("earn"), st.sampled_from(["USDT", "BTC", "ETH"]),
                  st.sampled_from(["purchase", "redeem"]), st.decimals("0.01", "200", places=2)),
        st.tuples(st.just("loan"), st.sampled_from(["BTC", "ETH", "USDT"]),
                  st.sampled_from(["borrow", "repay"]), st.decimals("0.01", "2", places=2)),
        st.tuples(st.just("margin"), st.sampled_from(["BTC-USDT-SWAP", "ETH-USDT-SWAP"]),
                  st.booleans(), st.decimals("1", "300", places=0)),
    ),
    max_size=40,
)


def run_op(ex: SimExchange, acct: Account, op: tuple[object, ...]) -> None:
    kind = op[0]
    if kind == "spot":
        _, side, inst, sz, mode = op
        trading.place_order(ex, acct, {"instId": inst, "side": side, "ordType": "market",
                                       "sz": str(sz), "tdMode": mode, "tgtCcy": "base_ccy"})
    elif kind == "swap":
        _, side, inst, sz, mode = op
        trading.place_order(ex, acct, {"instId": inst, "side": side, "ordType": "market",
                                       "sz": str(sz), "tdMode": mode})
    elif kind == "limit":
        _, side, inst, offset = op
        mid = ex.mark_px(str(inst))
        px = (mid * (1 + Decimal(int(offset)) / 1000)).quantize(Decimal("0.01"))
        trading.place_order(ex, acct, {"instId": inst, "side": side, "ordType": "limit",
                                       "sz": "1", "px": str(px), "tdMode": "cross"
                                       if str(inst).endswith("SWAP") else "cash"})
    elif kind == "cancel":
        for o in list(acct.open_orders.values())[:1]:
            trading.cancel_order(ex, acct, o.inst_id, o.ord_id)
    elif kind == "price":
        _, coin, pct = op
        ex.set_price(str(coin), pct=Decimal(int(pct)))
    elif kind == "time":
        ex.clock.advance(int(op[1]) * 60_000)  # type: ignore[attr-defined]
        ex.sync()
    elif kind == "transfer":
        _, ccy, frm, amt = op
        trading.transfer(ex, acct, str(ccy), Decimal(amt), str(frm), "6" if frm == "18" else "18")
    elif kind == "earn":
        _, ccy, side, amt = op
        if side == "purchase":
            trading.earn_purchase(ex, acct, str(ccy), Decimal(amt), None)
        else:
            trading.earn_redeem(ex, acct, str(ccy), Decimal(amt))
    elif kind == "loan":
        _, ccy, side, amt = op
        if side == "borrow":
            trading.borrow(ex, acct, str(ccy), Decimal(amt))
        else:
            trading.repay(ex, acct, str(ccy), Decimal(amt))
    elif kind == "margin":
        _, inst, add, amt = op
        trading.adjust_margin(ex, acct, str(inst), Decimal(amt), bool(add))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_every_balance_change_is_a_bill_and_equity_moves_only_by_economics(ops_) -> None:
    from laicai.sim.market import CurrencyTerms

    ex = make_exchange(
        trading={"USDT": Decimal(50000), "BTC": Decimal(1)},
        funding_account={"USDT": Decimal(1000)},
        currencies={
            "BTC": CurrencyTerms(Decimal("0.02"), Decimal("0.05"), Decimal(3), 120_000),
            "ETH": CurrencyTerms(Decimal("0.03"), Decimal("0.07"), Decimal(50), 0),
            "USDT": CurrencyTerms(Decimal("0.05"), Decimal("0.09"), Decimal(10_000), 0),
        },
    )
    acct = ex.accounts["main"]
    initial_trading = {"USDT": Decimal(50000), "BTC": Decimal(1)}
    start = {c: net_worth(acct, c) for c in ("USDT", "BTC", "ETH")}
    for op in ops_:
        with contextlib.suppress(SimError):  # refused as OKX would: nothing may change
            run_op(ex, acct, op)
        check_books_trading_only(ex, acct, initial_trading)
    for ccy in ("USDT", "BTC", "ETH", "DOGE"):
        assert net_worth(acct, ccy) - start.get(ccy, ZERO) == economic_flows(acct, ccy), ccy


def check_books_trading_only(ex: SimExchange, acct: Account, initial: dict[str, Decimal]
                             ) -> None:
    # The funding account started with 1000 USDT, which no bill wrote.
    saved = acct.funding.get("USDT", ZERO)
    acct.funding["USDT"] = saved - Decimal(1000)
    try:
        check_books(ex, acct, initial)
    finally:
        acct.funding["USDT"] = saved


@settings(max_examples=60, deadline=None)
@given(sz=st.integers(1, 200), maker=st.booleans(), swap=st.booleans())
def test_fees_are_the_tier_rate_times_value(sz: int, maker: bool, swap: bool) -> None:
    ex = make_exchange(trading={"USDT": Decimal(10**7)})
    acct = ex.accounts["main"]
    inst = "ETH-USDT-SWAP" if swap else "ETH-USDT"
    size = Decimal(sz) if swap else Decimal(sz) / 100
    if maker:
        bid, _ = ex.touch(inst)
        order = trading.place_order(ex, acct, {"instId": inst, "side": "buy", "ordType":
                                               "post_only", "sz": str(size), "px": str(bid),
                                               "tdMode": "cross" if swap else "cash"})
        ex.set_price("ETH", pct=Decimal(-2))
    else:
        order = trading.place_order(ex, acct, {"instId": inst, "side": "buy", "ordType":
                                               "market", "sz": str(size), "tdMode": "cross"
                                               if swap else "cash", "tgtCcy": "base_ccy"})
    assert order.state == "filled"
    fills = [f for f in acct.fills if f.ord_id == order.ord_id]
    rate = acct.fees.rate(swap, maker)
    for f in fills:
        assert f.exec_type == ("M" if maker else "T")
        if swap:  # linear swap: fee in USDT on contracts x ctVal x price
            assert f.fee == -(f.sz * ex.instruments[inst].ct_val * f.px * rate)
            assert f.fee_ccy == "USDT"
        else:  # a spot buy pays its fee in the coin it receives
            assert f.fee == -(f.sz * rate)
            assert f.fee_ccy == "ETH"
    assert order.fee == sum((f.fee for f in fills), ZERO)


@settings(max_examples=60, deadline=None)
@given(contracts=st.integers(-500, 500).filter(bool),
       rate=st.decimals("-0.01", "0.01", places=6))
def test_funding_sign_and_size(contracts: int, rate: Decimal) -> None:
    ex = make_exchange(trading={"USDT": Decimal(10**7)},
                       funding={"BTC-USDT-SWAP": (rate, 8)})
    acct = ex.accounts["main"]
    trading.set_leverage(ex, acct, "BTC-USDT-SWAP", 3, "cross")
    side = "buy" if contracts > 0 else "sell"
    trading.place_order(ex, acct, {"instId": "BTC-USDT-SWAP", "side": side,
                                   "ordType": "market", "sz": str(abs(contracts)) + ".0",
                                   "tdMode": "cross"})
    before = acct.trading["USDT"].cash
    ex.clock.set(START_MS + 8 * HOUR)  # type: ignore[attr-defined]
    ex.sync()
    paid = acct.trading["USDT"].cash - before
    value = Decimal(contracts) * Decimal("0.01") * Decimal(60000)
    assert paid == -value * rate  # longs pay shorts when the rate is positive
    bill = acct.bills[-1]
    assert bill.type == "8"
    if rate != 0:
        assert bill.sub_type == ("174" if paid > 0 else "173")
    assert bill.ts_ms == START_MS + 8 * HOUR


def test_funding_settles_on_each_swaps_own_interval() -> None:
    ex = make_exchange(trading={"USDT": Decimal(10**6)})
    acct = ex.accounts["main"]
    for inst in ("BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP"):
        trading.place_order(ex, acct, {"instId": inst, "side": "sell", "ordType": "market",
                                       "sz": "1", "tdMode": "cross"})
    ex.clock.advance(24 * HOUR)  # type: ignore[attr-defined]
    ex.sync()
    counts = {i: sum(1 for b in acct.bills if b.type == "8" and b.inst_id == i)
              for i in ("BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP")}
    assert counts == {"BTC-USDT-SWAP": 3, "ETH-USDT-SWAP": 6, "DOGE-USDT-SWAP": 24}


@settings(max_examples=40, deadline=None)
@given(amt=st.decimals("0.01", "5", places=2), hours=st.integers(1, 72))
def test_borrow_interest_accrues_hourly_and_compounds(amt: Decimal, hours: int) -> None:
    ex = make_exchange()
    acct = ex.accounts["main"]
    trading.borrow(ex, acct, "BTC", amt)
    ex.clock.advance(hours * HOUR)  # type: ignore[attr-defined]
    ex.sync()
    expected = amt * (1 + Decimal("0.05") / 8760) ** hours
    assert abs(acct.trading["BTC"].liab - expected) <= hours * Decimal("1e-18")  # quantum/h
    assert len(acct.interest_accrued) == hours


@settings(max_examples=40, deadline=None)
@given(amt=st.decimals("1", "10000", places=2), hours=st.integers(1, 48))
def test_earn_interest_accrues_hourly(amt: Decimal, hours: int) -> None:
    ex = make_exchange(funding_account={"USDT": Decimal(10000)})
    acct = ex.accounts["main"]
    trading.earn_purchase(ex, acct, "USDT", amt, None)
    ex.clock.advance(hours * HOUR)  # type: ignore[attr-defined]
    ex.sync()
    expected = amt * (1 + Decimal("0.05") / 8760) ** hours
    assert abs(acct.savings["USDT"] - expected) <= hours * Decimal("1e-18")


@settings(max_examples=30, deadline=None)
@given(lever=st.integers(2, 3), capital=st.integers(2000, 20000),
       side=st.sampled_from(["buy", "sell"]))
def test_liquidation_at_the_documented_ratio(lever: int, capital: int, side: str) -> None:
    """A position is liquidated exactly when OKX's mgnRatio reaches 1, at its liqPx."""
    ex = make_exchange(trading={"USDT": Decimal(capital)})
    acct = ex.accounts["main"]
    trading.set_leverage(ex, acct, "BTC-USDT-SWAP", lever, "cross")
    notional = Decimal(capital) * lever * Decimal("0.9")
    contracts = (notional / Decimal(600)).quantize(Decimal("0.1"))
    trading.place_order(ex, acct, {"instId": "BTC-USDT-SWAP", "side": side,
                                   "ordType": "market", "sz": str(contracts),
                                   "tdMode": "cross"})
    pos = acct.positions["BTC-USDT-SWAP"]
    liq_px = position_view(ex, acct, pos).liq_px
    assert liq_px is not None
    safe = liq_px * (Decimal("0.999") if side == "sell" else Decimal("1.001"))
    ex.set_price("BTC", price=safe)
    ratio = usdt_margin(ex, acct).mgn_ratio
    assert ratio is not None and ratio > 1
    assert pos.pos != 0
    ex.set_price("BTC", price=liq_px * (Decimal("1.001") if side == "sell"
                                        else Decimal("0.999")))
    assert pos.pos == 0
    liq = [b for b in acct.bills if b.type == "5"]
    assert len(liq) == 1
    assert liq[0].sub_type == ("105" if side == "sell" else "104")
    assert liq[0].fee < 0  # the liquidation penalty


def test_isolated_liquidation_uses_position_margin_only() -> None:
    ex = make_exchange(trading={"USDT": Decimal(100000)})
    acct = ex.accounts["main"]
    trading.set_leverage(ex, acct, "ETH-USDT-SWAP", 3, "isolated")
    trading.place_order(ex, acct, {"instId": "ETH-USDT-SWAP", "side": "sell",
                                   "ordType": "market", "sz": "100", "tdMode": "isolated"})
    pos = acct.positions["ETH-USDT-SWAP"]
    margin = pos.margin
    assert margin == 100 * Decimal("0.1") * pos.avg_px / 3  # ctVal 0.1 ETH, 3x
    ex.set_price("ETH", pct=Decimal(20))
    assert pos.pos != 0
    ex.set_price("ETH", pct=Decimal(15))  # +38% vs. entry at 3x: beyond the margin
    assert pos.pos == 0
    # the price gapped past the bankruptcy price, yet the loss is capped at the position's
    # margin plus the opening fee; the rest of the account survived
    loss = Decimal(100000) - acct.trading["USDT"].cash
    open_fee = -sum((b.fee for b in acct.bills if b.type == "2"), ZERO)
    assert loss == margin + open_fee
