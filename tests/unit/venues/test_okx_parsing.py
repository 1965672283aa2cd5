"""OKX rows -> domain values, from ccxt's recorded real OKX responses where the fixtures hold
one (``tests/fixtures/okx_ccxt_static``) and from rows shaped as OKX's v5 reference shows
them otherwise. Every number must arrive as the exact Decimal of OKX's string."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.domain.enums import InstKind
from laicai.errors import ExchangeError
from laicai.venues.okx import parsing

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "okx_ccxt_static"
RESPONSES: dict[str, list[dict[str, Any]]] = json.loads(
    (FIXTURES / "response_okx.subset.json").read_text())["methods"]
MARKETS: dict[str, dict[str, Any]] = json.loads((FIXTURES / "markets_okx.json").read_text())


def recorded(method: str, description: str) -> list[dict[str, Any]]:
    """The ``data`` rows of the first recorded answer with that description that has any."""
    for case in RESPONSES[method]:
        data: list[dict[str, Any]] = case["httpResponse"]["data"]
        if case["description"] == description and data:
            return data
    raise LookupError(f"no recorded {method} {description!r} with data")


# ---------------------------------------------------------------------- recorded OKX answers
def test_instruments_from_real_okx_definitions() -> None:
    swap = parsing.instrument(MARKETS["BTC/USDT:USDT"]["info"])
    assert swap is not None
    assert swap.inst_id == "BTC-USDT-SWAP" and swap.kind is InstKind.SWAP
    assert (swap.base, swap.quote, swap.contract_value) == ("BTC", "USDT", Decimal("0.01"))
    assert (swap.lot_size, swap.min_size, swap.tick_size) == (Decimal("0.1"),) * 3
    assert swap.max_leverage == 100 and swap.live
    spot = parsing.instrument(MARKETS["BTC/USDT"]["info"])
    assert spot is not None and spot.kind is InstKind.SPOT
    assert spot.lot_size == Decimal("0.00000001") and spot.min_size == Decimal("0.00001")
    assert spot.contract_value == 1 and spot.max_leverage == 10
    # laicai trades USDT spot and USDT linear swaps only
    assert parsing.instrument(MARKETS["BTC/USD:BTC"]["info"]) is None
    assert parsing.instrument(MARKETS["BTC/USD:BTC-241227-60000-P"]["info"]) is None


def test_every_recorded_usdt_instrument_parses() -> None:
    parsed = [parsing.instrument(m["info"]) for m in MARKETS.values()]
    ids = {i.inst_id for i in parsed if i is not None}
    assert {"LTC-USDT-SWAP", "SUSHI-USDT-SWAP", "TRX-USDT", "XRP-USDT"} <= ids
    assert len(ids) == 15


def test_order_books_recorded() -> None:
    (swap,) = recorded("fetchOrderBook", "Swap orderbook")
    book = parsing.order_book("BTC-USDT-SWAP", swap)
    assert book.bids == ((Decimal("43466.3"), Decimal(13807)), (Decimal("43466.2"), Decimal(17151)))
    assert book.asks[0] == (Decimal("43466.4"), Decimal(14881))
    assert book.ts_ms == 1706612067750
    (spot,) = recorded("fetchOrderBook", "spot orderbook")
    assert parsing.order_book("BTC-USDT", spot).asks[1] == (Decimal("67975.9"),
                                                           Decimal("0.08292002"))


def test_spot_ticker_recorded_quote_volume_is_vol_ccy() -> None:
    (row,) = recorded("fetchTicker", "public spot ticker")
    t = parsing.ticker(row)
    assert t is not None
    assert t.volume_24h_quote == Decimal("1519926359.597266598")  # exact, not the float
    assert (t.last, t.bid, t.ask) == (Decimal("73384.8"), Decimal("73384.7"), Decimal("73384.8"))
    assert t.ts_ms == 1710328243709


def test_linear_position_recorded() -> None:
    (row,) = recorded("fetchPositions", "linear swap position")
    pos = parsing.position(row, contract_value=Decimal("0.001"))
    assert pos is not None
    assert pos.inst_id == "LTC-USDT-SWAP"
    assert pos.contracts == 1 and pos.base_qty == Decimal("0.001")  # posSide long
    assert pos.avg_px == Decimal("68.24") and pos.leverage == 3
    assert pos.okx_mgn_ratio == Decimal("141687115.0546428")
    assert pos.liq_px is None  # OKX sends "" when there is no liquidation price
    assert pos.notional_usdt == Decimal("0.0682283992")


def test_account_config_recorded() -> None:
    (row,) = recorded("fetchAccounts", "Fetch accounts")
    cfg = parsing.account_config(row)
    assert cfg.account_level == 1 and cfg.position_mode == "net_mode"
    assert cfg.permissions == {"read_only", "withdraw", "trade"}
    assert cfg.can_withdraw  # laicai refuses such a key (checked by the engine)
    assert cfg.uid == "374579799097793561"


def test_funding_balance_and_borrow_rate_recorded() -> None:
    row = recorded("fetchBalance", "funding balance")[0]
    bal = parsing.funding_balance(row)
    assert (bal.ccy, bal.total, bal.available) == ("TUSD", Decimal(100), Decimal(100))
    (rate,) = recorded("fetchCrossBorrowRate", "Fetch cross borrow rate")
    terms = parsing.borrow_terms("USDC", rate, {"ccy": "USDC", "maxLoan": "2500.5"})
    assert terms.hourly_rate == Decimal("0.00004453")  # hourly, whatever ccxt's "period" says
    assert terms.available == Decimal("2500.5")
    assert terms.apr == Decimal("0.00004453") * 8760


# ---------------------------------------------------------------------- OKX reference shapes
FUNDING_ROW = {
    "formulaType": "withRate", "fundingRate": "0.0000792386885340", "fundingTime":
    "1703088000000", "instId": "BTC-USDT-SWAP", "instType": "SWAP", "interestRate": "0.0001",
    "maxFundingRate": "0.00375", "method": "current_period", "minFundingRate": "-0.00375",
    "nextFundingRate": "", "nextFundingTime": "1703116800000", "premium": "0.0001",
    "settFundingRate": "0.0000899", "settState": "settled", "ts": "1703070685309",
}


def test_funding_rate_interval_from_the_two_times() -> None:
    r = parsing.funding_rate(FUNDING_ROW)
    assert r.rate == Decimal("0.0000792386885340")
    assert r.next_funding_ms == 1703088000000 and r.interval_hours == 8
    hourly = parsing.funding_rate({**FUNDING_ROW, "nextFundingTime": "1703091600000"})
    assert hourly.interval_hours == 1


@pytest.mark.parametrize("bad", [{"nextFundingTime": ""}, {"nextFundingTime": "1703088000000"},
                                 {"nextFundingTime": "1703089800000"}, {"fundingRate": "x"}])
def test_funding_rate_without_a_readable_interval_fails_fast(bad: dict[str, str]) -> None:
    with pytest.raises(ExchangeError, match="malformed OKX funding rate"):
        parsing.funding_rate({**FUNDING_ROW, **bad})


def test_funding_settlement_uses_the_realized_rate() -> None:
    row = {"fundingRate": "0.0001", "fundingTime": "1703059200000", "instId": "BTC-USDT-SWAP",
           "instType": "SWAP", "method": "current_period", "realizedRate": "0.00009"}
    s = parsing.funding_settlement(row)
    assert (s.rate, s.ts_ms) == (Decimal("0.00009"), 1703059200000)
    assert parsing.funding_settlement({**row, "realizedRate": ""}).rate == Decimal("0.0001")


def test_swap_ticker_volume_is_base_times_last() -> None:
    row = {"instType": "SWAP", "instId": "ETH-USDT-SWAP", "last": "2210.5", "lastSz": "1",
           "askPx": "2210.6", "askSz": "12", "bidPx": "2210.5", "bidSz": "3",
           "open24h": "2180", "high24h": "2250", "low24h": "2170",
           "volCcy24h": "512345.7", "vol24h": "5123457", "ts": "1703070685309",
           "sodUtc0": "2190", "sodUtc8": "2200"}
    t = parsing.ticker(row)
    assert t is not None and t.volume_24h_quote == Decimal("512345.7") * Decimal("2210.5")
    assert parsing.ticker({**row, "instId": "ETH-USD-SWAP"}) is None  # inverse
    assert parsing.ticker({**row, "instType": "SPOT", "instId": "ETH-BTC"}) is None
    empty = parsing.ticker({**row, "bidPx": "", "askPx": ""})
    assert empty is not None and empty.bid is None and empty.ask is None


def test_fee_rates_flip_okx_signs() -> None:
    spot = {"category": "1", "delivery": "", "exercise": "", "instType": "SPOT",
            "level": "Lv1", "maker": "-0.0008", "taker": "-0.001", "ts": "1"}
    swap = {"category": "1", "instType": "SWAP", "level": "Lv1", "maker": "-0.0002",
            "taker": "-0.0005", "makerU": "-0.0002", "takerU": "-0.0005",
            "makerUSDC": "-0.0002", "takerUSDC": "-0.0005", "ts": "1"}
    fees = parsing.fee_rates(spot, swap)
    assert (fees.spot_maker, fees.spot_taker) == (Decimal("0.0008"), Decimal("0.001"))
    assert (fees.swap_maker, fees.swap_taker) == (Decimal("0.0002"), Decimal("0.0005"))
    rebate = parsing.fee_rates(spot, {**swap, "makerU": "0.00005"})
    assert rebate.swap_maker == Decimal("-0.00005")  # a maker rebate is a negative cost
    grouped = {**spot, "maker": "", "taker": "",
               "feeGroup": [{"groupId": "1", "maker": "-0.0006", "taker": "-0.0009"}]}
    assert parsing.fee_rates(grouped, swap).spot_taker == Decimal("0.0009")


def test_trading_balances() -> None:
    row = {"totalEq": "10679688.0460531643092577", "details": [
        {"ccy": "USDT", "eq": "100000.5", "cashBal": "100000.5", "availBal": "99000.5",
         "availEq": "98000", "liab": "", "crossLiab": ""},
        {"ccy": "ETH", "eq": "-2", "cashBal": "0", "availBal": "0", "availEq": "",
         "liab": "2", "crossLiab": "2"},
    ]}
    usdt, eth = parsing.trading_balances(row)
    assert (usdt.total, usdt.available, usdt.liability) == (Decimal("100000.5"),
                                                            Decimal("99000.5"), Decimal(0))
    assert (eth.total, eth.liability) == (Decimal(-2), Decimal(2))


def test_short_position_in_net_mode_and_flat_rows() -> None:
    row = {"instId": "BTC-USDT-SWAP", "pos": "-10", "posSide": "net", "avgPx": "60000",
           "markPx": "60100.1", "lever": "3", "mgnMode": "cross", "upl": "-1.001",
           "mgnRatio": "85.3", "liqPx": "118000.5", "notionalUsd": "6010.01"}
    pos = parsing.position(row, Decimal("0.01"))
    assert pos is not None and pos.contracts == -10 and pos.base_qty == Decimal("-0.1")
    assert pos.liq_px == Decimal("118000.5") and pos.okx_mgn_ratio == Decimal("85.3")
    short = parsing.position({**row, "pos": "10", "posSide": "short"}, Decimal("0.01"))
    assert short is not None and short.contracts == -10  # long/short mode
    assert parsing.position({**row, "pos": "0"}, Decimal("0.01")) is None


def test_open_interest_and_earn_rate() -> None:
    oi = parsing.open_interest({"instId": "BTC-USDT-SWAP", "instType": "SWAP",
                                "oi": "2125419.4", "oiCcy": "21254.194",
                                "oiUsd": "1275251640.12", "ts": "1703070685309"})
    assert (oi.contracts, oi.base_qty) == (Decimal("2125419.4"), Decimal("21254.194"))
    earn = parsing.earn_rate({"avgAmt": "1", "avgAmtUsd": "1", "avgRate": "0.03",
                              "ccy": "USDT", "estRate": "0.04", "preRate": "0.05"})
    assert (earn.ccy, earn.apr) == ("USDT", Decimal("0.04"))
    assert parsing.earn_rate({"ccy": "BTC", "estRate": "", "avgRate": "0.01"}).apr == \
        Decimal("0.01")


@pytest.mark.parametrize("value", ["", "abc", "NaN", "Infinity", None, 1.5])
def test_malformed_numbers_fail_fast_naming_the_field(value: object) -> None:
    with pytest.raises(ExchangeError, match="tickSz"):
        parsing.instrument({**MARKETS["BTC/USDT"]["info"], "tickSz": value})


# ---------------------------------------------------------------------- properties
decimal_strings = st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("1e12"),
                              allow_nan=False, allow_infinity=False, places=12).map(
    lambda d: format(d.normalize(), "f"))


@given(px=decimal_strings, sz=decimal_strings)
def test_book_levels_are_exactly_okx_strings(px: str, sz: str) -> None:
    book = parsing.order_book("X-USDT", {"bids": [[px, sz, "0", "1"]], "asks": [], "ts": "1"})
    assert book.bids == ((Decimal(px), Decimal(sz)),)


@given(px=st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("9999999.99999999"),
                      places=8, allow_nan=False, allow_infinity=False))  # <= 15 digits
def test_websocket_float_levels_come_back_as_okx_decimals(px: Decimal) -> None:
    # ccxt.pro keeps WebSocket books as floats parsed from OKX's strings; <= 15 significant
    # digits survive the round trip exactly
    text = format(px.normalize(), "f")
    book = parsing.order_book_from_ccxt("X-USDT", {"bids": [[float(text), 2.5]], "asks": [],
                                                   "timestamp": 5}, depth=400)
    assert book.bids == ((Decimal(text), Decimal("2.5")),) and book.ts_ms == 5
