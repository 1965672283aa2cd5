"""Orders in OKX's shapes: the ``trade/order`` body built from an OrderRequest (plain decimal
strings, lot check, tgtCcy, px, reduceOnly) and OKX order rows -> OrderState, from ccxt's
recorded real OKX answers where the fixtures hold one."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.enums import InstKind, Side
from laicai.domain.instrument import Instrument
from laicai.domain.orders import OrderRequest, OrderStatus, OrderType
from laicai.errors import ExchangeError, OrderRejected
from laicai.venues.okx import orders

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "okx_ccxt_static"
RESPONSES: dict[str, list[dict[str, Any]]] = json.loads(
    (FIXTURES / "response_okx.subset.json").read_text())["methods"]

SPOT = Instrument("BTC-USDT", InstKind.SPOT, "BTC", "USDT", Decimal("0.1"),
                  Decimal("0.00000001"), Decimal("0.00001"))
SWAP = Instrument("BTC-USDT-SWAP", InstKind.SWAP, "BTC", "USDT", Decimal("0.1"), Decimal("0.1"),
                  Decimal("0.1"), Decimal("0.01"), 100)


def recorded(method: str, description: str) -> dict[str, Any]:
    for case in RESPONSES[method]:
        if case["description"] == description:
            row: dict[str, Any] = case["httpResponse"]["data"][0]
            return row
    raise LookupError(description)


def request(inst: Instrument, type_: OrderType = OrderType.MARKET, size: str = "1",
            price: str | None = None, **kw: Any) -> OrderRequest:
    return OrderRequest("cl1", inst.inst_id, kw.pop("side", Side.BUY), type_, Decimal(size),
                        kw.pop("td_mode", "cash"), None if price is None else Decimal(price),
                        **kw)


# ---------------------------------------------------------------------- numbers out
@pytest.mark.parametrize(("value", "text"), [
    ("1E+2", "100"), ("1E-8", "0.00000001"), ("0.10", "0.10"), ("60000", "60000"),
    ("2.5E-3", "0.0025"),
])
def test_plain_never_writes_an_exponent(value: str, text: str) -> None:
    assert orders.plain(Decimal(value)) == text


@given(st.decimals(allow_nan=False, allow_infinity=False, places=12,
                   min_value=Decimal("-1e12"), max_value=Decimal("1e12")))
def test_plain_round_trips_exactly(value: Decimal) -> None:
    text = orders.plain(value)
    assert "E" not in text.upper() and Decimal(text) == value


@pytest.mark.parametrize("bad", ["0", "-1", "NaN", "Infinity"])
def test_positive_refuses_what_is_not_an_amount(bad: str) -> None:
    with pytest.raises(ValueError):
        orders.positive(Decimal(bad), "amount")


# ---------------------------------------------------------------------- bodies
def test_spot_market_body_is_sized_in_base() -> None:
    body = orders.order_body(request(SPOT, size="0.00120000"), SPOT)
    assert body == {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market",
                    "sz": "0.00120000", "clOrdId": "cl1", "tgtCcy": "base_ccy"}


def test_swap_market_body_has_no_tgt_ccy_and_may_reduce_only() -> None:
    body = orders.order_body(request(SWAP, size="12.3", side=Side.SELL, td_mode="cross",
                                     reduce_only=True), SWAP)
    assert body == {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "sell",
                    "ordType": "market", "sz": "12.3", "clOrdId": "cl1", "reduceOnly": "true"}


@pytest.mark.parametrize("type_", [OrderType.LIMIT, OrderType.POST_ONLY, OrderType.IOC,
                                   OrderType.FOK])
def test_priced_types_send_px_and_no_tgt_ccy(type_: OrderType) -> None:
    body = orders.order_body(request(SPOT, type_, "0.5", "6E+4"), SPOT)
    assert (body["ordType"], body["px"], body["sz"]) == (type_.value, "60000", "0.5")
    assert "tgtCcy" not in body and "reduceOnly" not in body


@pytest.mark.parametrize("type_", [OrderType.LIMIT, OrderType.POST_ONLY, OrderType.IOC,
                                   OrderType.FOK])
def test_priced_types_need_a_positive_price(type_: OrderType) -> None:
    for price in (None, "0", "-1"):
        with pytest.raises(OrderRejected, match="needs a positive price"):
            orders.order_body(request(SPOT, type_, "0.5", price), SPOT)


def test_a_market_order_sends_no_price() -> None:
    assert "px" not in orders.order_body(request(SWAP, price="60000"), SWAP)


@pytest.mark.parametrize(("size", "lot"), [("0.05", "0.1"), ("1.01", "0.1"), ("0.1", "1")])
def test_size_off_the_lot_is_refused_naming_both(size: str, lot: str) -> None:
    inst = Instrument("X-USDT-SWAP", InstKind.SWAP, "X", "USDT", Decimal("0.1"), Decimal(lot),
                      Decimal(lot))
    with pytest.raises(OrderRejected) as caught:
        orders.order_body(request(inst, size=size), inst)
    assert f"size {size} " in str(caught.value) and f"lot size {lot}" in str(caught.value)


@pytest.mark.parametrize("size", ["0", "-0.1", "NaN"])
def test_size_must_be_positive(size: str) -> None:
    with pytest.raises(OrderRejected, match="must be positive"):
        orders.order_body(request(SWAP, size=size), SWAP)


@given(st.integers(min_value=1, max_value=10**9))
def test_every_lot_multiple_is_accepted_as_sent(lots: int) -> None:
    size = lots * SPOT.lot_size
    body = orders.order_body(request(SPOT, size=orders.plain(size)), SPOT)
    assert Decimal(body["sz"]) == size and "E" not in body["sz"].upper()


# ---------------------------------------------------------------------- states in
def test_recorded_filled_spot_order() -> None:
    state = orders.order_state(recorded("fetchOrder", "fetch spot order"))
    assert state.status is OrderStatus.FILLED
    assert state.client_order_id == "e847386590ce4dBC6f7ae74854f6a617"
    assert (state.venue_order_id, state.inst_id, state.side) == (
        "1339107111507525632", "LTC-USDT", Side.BUY)
    assert (state.size, state.filled, state.avg_px) == (Decimal("0.1"), Decimal("0.1"),
                                                        Decimal("101.58"))
    assert (state.fee, state.fee_ccy) == (Decimal("0.0001"), "LTC")  # OKX -0.0001 = paid
    assert state.ts_ms == 1712410901852  # uTime
    assert state.raw is not None and state.raw["tgtCcy"] == "base_ccy"


def test_recorded_live_swap_order() -> None:
    row = recorded("fetchOpenOrders", "fetch swap limit open order with take profit and stop "
                                      "loss")
    state = orders.order_state(row)
    assert state.status is OrderStatus.OPEN
    assert (state.size, state.filled, state.avg_px, state.fee) == (Decimal(50), 0, None, 0)
    assert state.remaining == 50


@pytest.mark.parametrize(("okx_state", "status"), [
    ("live", OrderStatus.OPEN), ("partially_filled", OrderStatus.OPEN),
    ("filled", OrderStatus.FILLED), ("canceled", OrderStatus.CANCELED),
    ("mmp_canceled", OrderStatus.CANCELED),
])
def test_state_mapping(okx_state: str, status: OrderStatus) -> None:
    row = {**recorded("fetchOrder", "fetch spot order"), "state": okx_state}
    assert orders.order_state(row).status is status


def test_a_rebate_is_a_negative_fee_and_avg_px_zero_is_none() -> None:
    row = {**recorded("fetchOrder", "fetch spot order"), "fee": "0.02", "avgPx": "0",
           "uTime": ""}
    state = orders.order_state(row)
    assert state.fee == Decimal("-0.02") and state.avg_px is None
    assert state.ts_ms == 1712410901848  # cTime when uTime is empty


@pytest.mark.parametrize(("key", "value"), [("state", "pending_new"), ("side", "short"),
                                            ("sz", ""), ("accFillSz", "x"), ("ordId", "")])
def test_malformed_rows_name_the_field(key: str, value: str) -> None:
    row = {**recorded("fetchOrder", "fetch spot order"), key: value}
    with pytest.raises(ExchangeError, match="malformed OKX order"):
        orders.order_state(row)


# ---------------------------------------------------------------------- liability
def test_liability_reads_liab_then_cross_liab_and_zero_when_absent() -> None:
    balance = {"details": [{"ccy": "BTC", "liab": "0.5000057", "crossLiab": ""},
                           {"ccy": "ETH", "liab": "", "crossLiab": "-2"},
                           {"ccy": "USDT", "liab": "", "crossLiab": ""}]}
    assert orders.liability(balance, "BTC") == Decimal("0.5000057")
    assert orders.liability(balance, "ETH") == 2
    assert orders.liability(balance, "USDT") == 0
    assert orders.liability(balance, "DOGE") == 0
    with pytest.raises(ExchangeError):
        orders.liability({"details": None}, "BTC")
