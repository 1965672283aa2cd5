"""Bills parsed from OKX's own samples (the ``account/bills`` reference page and ccxt's
recorded ``fetchLedger`` answer): exact Decimals from OKX's strings, the fee's sign turned to
"positive = paid", empty fields, and malformed rows refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from laicai.domain.account import Bill
from laicai.errors import ExchangeError
from laicai.venues.okx import parsing

D = Decimal

# OKX v5 reference, "Get bills details (last 7 days)", response example: a spot buy.
DOCS_SPOT_BUY = {
    "bal": "8694.2179403378290202", "balChg": "0.0219338232210000",
    "billId": "623950854533513219", "ccy": "USDT", "clOrdId": "", "earnAmt": "",
    "earnApr": "", "execType": "T", "fee": "-0.000021955779", "fillFwdPx": "",
    "fillIdxPx": "27104.1", "fillMarkPx": "", "fillMarkVol": "", "fillPxUsd": "",
    "fillPxVol": "", "fillTime": "1695033476166", "from": "", "instId": "BTC-USDT",
    "instType": "SPOT", "interest": "0", "mgnMode": "isolated", "notes": "",
    "ordId": "623950854525124608", "pnl": "0", "posBal": "0", "posBalChg": "0",
    "px": "27105.9", "subType": "1", "sz": "0.021955779", "tag": "", "to": "",
    "tradeId": "586760148", "ts": "1695033476167", "type": "2",
}
# ccxt's static fetchLedger case (a real OKX answer): a spot sell.
CCXT_SPOT_SELL = {
    "bal": "67533.7456994514348308", "balChg": "-10.1580000000000000",
    "billId": "696837060589600769", "ccy": "USDT",
    "clOrdId": "e847386590ce4dBC6f7ae74854f6a617", "execType": "T", "fee": "0",
    "fillFwdPx": "", "fillIdxPx": "", "fillMarkPx": "", "fillMarkVol": "", "fillPxUsd": "",
    "fillPxVol": "", "fillTime": "1712410901850", "from": "", "instId": "LTC-USDT",
    "instType": "SPOT", "interest": "0", "mgnMode": "cash", "notes": "",
    "ordId": "1339107111507525632", "pnl": "0", "posBal": "0", "posBalChg": "0",
    "px": "101.58", "subType": "2", "sz": "10.158", "tag": "e847386590ce4dBC", "to": "",
    "tradeId": "58148845", "ts": "1712410901851", "type": "2",
}


def test_the_reference_pages_spot_buy() -> None:
    b = parsing.bill(DOCS_SPOT_BUY)
    assert b == Bill(
        bill_id="623950854533513219", account="trading", ccy="USDT", type="2", sub_type="1",
        bal_chg=D("0.0219338232210000"), ts_ms=1695033476167, inst_id="BTC-USDT",
        inst_type="SPOT", pnl=D(0), fee=D("0.000021955779"), interest=D(0),
        sz=D("0.021955779"), px=D("27105.9"), venue_order_id="623950854525124608",
        client_order_id="", trade_id="586760148", fill_idx_px=D("27104.1"),
        fill_mark_px=None, notes="")
    assert b.id_number == 623950854533513219


def test_ccxts_recorded_ledger_row() -> None:
    b = parsing.bill(CCXT_SPOT_SELL)
    assert (b.bal_chg, b.fee, b.px, b.sz) == (D("-10.158"), D(0), D("101.58"), D("10.158"))
    assert b.client_order_id == "e847386590ce4dBC6f7ae74854f6a617"
    assert b.fill_idx_px is None and b.trade_id == "58148845"


def test_a_funding_and_a_transfer_bill() -> None:
    funding = parsing.bill({**DOCS_SPOT_BUY, "type": "8", "subType": "173",
                            "instId": "BTC-USDT-SWAP", "instType": "SWAP", "balChg": "-1.25",
                            "pnl": "-1.25", "fee": "0", "px": "27100", "sz": "3",
                            "tradeId": "", "ordId": ""})
    assert (funding.type, funding.sub_type, funding.pnl, funding.sz) == ("8", "173", D("-1.25"),
                                                                       D(3))
    assert funding.trade_id == "" and funding.venue_order_id == ""
    transfer = parsing.bill({**DOCS_SPOT_BUY, "type": "1", "subType": "11", "fee": "",
                             "pnl": "", "tradeId": "0", "px": "", "instId": "",
                             "instType": ""})
    assert (transfer.fee, transfer.pnl, transfer.px, transfer.trade_id) == (D(0), D(0), None,
                                                                            "")


def test_an_asset_bill() -> None:
    b = parsing.asset_bill({"billId": "12344", "ccy": "BTC", "clientId": "", "balChg": "2",
                            "bal": "12", "type": "1", "notes": "", "ts": "1597026383085"})
    assert b == Bill("12344", "funding", "BTC", "1", "", D(2), 1597026383085)


@pytest.mark.parametrize("field, value", [
    ("billId", "62395x"), ("billId", ""), ("balChg", ""), ("balChg", "NaN"), ("ts", "soon"),
    ("ccy", ""), ("type", None), ("fee", "abc"),
])
def test_malformed_rows_are_refused(field: str, value: str | None) -> None:
    with pytest.raises(ExchangeError, match=f"malformed OKX bill: {field}="):
        parsing.bill({**DOCS_SPOT_BUY, field: value})
