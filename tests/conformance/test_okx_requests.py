"""Request conformance: ccxt, talking to the simulator, sends exactly what ccxt's
recorded OKX request fixtures say it sends to OKX (``request_okx.json``), and the simulator
accepts it.

For each fixture case (one test id each) the same ccxt call with the same inputs runs against
one shared simulated venue (BTC, ETH, DOGE, LTC, ADA, XRP, TUSD, USDC; cases share the module's
server and account, state accumulates in fixture order). Checked:

1. the request ccxt actually sent (``last_request_url`` / ``_body`` / ``_headers``): the path and
   query string equal the fixture's (the host is the only difference), the JSON body equals the
   fixture's body, ignoring only the values of the keys ccxt fills at random (``clOrdId`` and
   ``tag``, the fixture's ``skipKeys``; their presence is still compared, and a ``clOrdId``
   given as ``clientOrderId`` in the input is compared exactly); private calls carry OKX's
   four ``OK-ACCESS-*`` headers, POSTs ``Content-Type: application/json``;
2. the simulator accepted it: HTTP answer with ``code`` "0" and every item ``sCode`` "0" —
   never 404 or a 510xx parameter error — except the business answers listed in ``EXPECTED``
   (order ids of the fixture that cannot exist here, hedge-mode ``posSide`` on a net-mode
   account);
3. GET filters are honoured: every returned row that carries ``instType``, ``instId``, ``ccy``,
   ``state`` or ``ordType`` matches the query's value.

Skipped fixture cases (shown as skipped test ids, reason attached):

- algo orders: ``createOrder``/``createTriggerOrder``/``createTakeProfitOrder``/
  ``createStopLossOrder`` cases that post to ``trade/order-algo``, ``fetchOrder``/
  ``fetchOpenOrders``/``fetchClosedOrders``/``fetchCanceledOrders`` with stop/trigger/trailing
  (``orders-algo-*``), ``cancelOrder``/``cancelOrders`` of algo ids (``cancel-algos``),
  ``editOrder`` of an algo order (``amend-algos``): the simulator has no algo engine and laicai
  places none;
- attached TP/SL (``attachAlgoOrds``): the remaining ``createOrder`` cases,
  ``createOrderWithTakeProfitAndStopLoss``, and ``editOrder`` cases amending TP/SL
  (``newTpTriggerPx``/``newSlTriggerPx``): not simulated, not used by laicai;
- inverse (coin-margined) BTC-USD-SWAP: ``createOrder`` inverse cases, ``fetchPosition``
  inverse, ``addMargin``/``reduceMargin`` (both fixture cases are inverse, so linear isolated
  margin changes have no fixture here);
- options: ``fetchOpenInterests`` for OPTION, ``fetchOption``, ``fetchOptionChain``,
  ``fetchAllGreeks``;
- endpoints the simulator does not serve (``NOT_SIMULATED``): ``fetchOHLCV`` (candles),
  ``fetchDeposits``/``fetchWithdrawals``/``fetchDepositAddress``/``withdraw`` (on-chain
  funding), ``cancelAllOrdersAfter``, ``closePosition``, ``fetchPositionsHistory``,
  ``fetchOpenInterestHistory``/``fetchLongShortRatioHistory``/``fetchTakerBuySellVolume``
  (rubik statistics), convert (``fetchConvertCurrencies``, ``createConvertTrade``,
  ``fetchConvertTrade``, ``fetchConvertTradeHistory``);
- ``fetchMarginAdjustmentHistory`` "3 margin additions older than a week": disabled in ccxt's
  own fixture.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from okx_conformance import (
    REQUEST_SKIP_KEYS,
    REQUESTS,
    make_venue,
    path_and_query,
    reset_last,
    strip_keys,
)

from laicai.sim.server.app import PUBLIC, SimServer
from laicai.testing.sim import ccxt_client

ALGO = "algo order (trigger/conditional/trailing): not simulated, laicai places none"
TPSL = "attached TP/SL (attachAlgoOrds / new TP-SL on amend): not simulated, not used by laicai"
INVERSE = "inverse BTC-USD-SWAP: coin-margined contracts are not simulated"
OPTIONS = "options are not simulated"
NOT_SIMULATED: dict[str, str] = {
    "fetchOHLCV": "market/candles and history-candles are not simulated",
    "fetchDeposits": "on-chain deposits are not simulated",
    "fetchWithdrawals": "on-chain withdrawals are not simulated",
    "fetchDepositAddress": "on-chain deposits are not simulated",
    "withdraw": "the simulator refuses withdrawals (58119); laicai never withdraws",
    "cancelAllOrdersAfter": "trade/cancel-all-after is not simulated",
    "closePosition": "trade/close-position is not simulated",
    "fetchPositionsHistory": "account/positions-history is not simulated",
    "fetchOpenInterestHistory": "rubik statistics are not simulated",
    "fetchLongShortRatioHistory": "rubik statistics are not simulated",
    "fetchTakerBuySellVolume": "rubik statistics are not simulated",
    "fetchConvertCurrencies": "asset/convert is not simulated",
    "createConvertTrade": "asset/convert is not simulated",
    "fetchConvertTrade": "asset/convert is not simulated",
    "fetchConvertTradeHistory": "asset/convert is not simulated",
}
POS_SIDE = ("51000", "posSide")  # long/short-mode posSide on the net-mode account

# Business answers where the fixture's inputs cannot succeed here: (code, text in the message).
# Item-coded endpoints (orders, cancels, amends): every item's sCode; others: the code.
EXPECTED: dict[tuple[str, int], tuple[str, str]] = {
    # the fixture's order ids do not exist on the simulated account
    ("fetchOrder", 0): ("51603", ""),
    ("fetchOrder", 1): ("51603", ""),
    ("cancelOrder", 0): ("51400", ""),
    ("cancelOrder", 1): ("51400", ""),
    ("cancelOrders", 0): ("51400", ""),
    ("cancelOrders", 1): ("51400", ""),
    ("cancelOrdersForSymbols", 0): ("51400", ""),
    ("editOrder", 0): ("51503", ""),
    # posSide long / hedged=True are long/short-mode orders; the simulated account, like
    # laicai's, is in net mode, where OKX answers 51000 "Parameter posSide error"
    ("createOrder", 9): POS_SIDE,
    ("createOrder", 23): POS_SIDE,
    ("createOrders", 1): POS_SIDE,
}
ITEM_CODED = ("trade/batch-orders", "trade/order", "trade/cancel-order",
              "trade/cancel-batch-orders", "trade/amend-order")
ROW_FILTERS = ("instType", "instId", "ccy", "state", "ordType")


def skip_reason(method: str, case: dict[str, Any]) -> str | None:
    if case.get("disabled"):
        return "disabled in ccxt's own fixture"
    url, body = case["url"], case.get("output") or ""
    inp = json.dumps(case["input"])
    if "OPTION" in url or re.search(r"-\d{6}-\d+-[CP]\b", inp):
        return OPTIONS
    if "BTC-USD-SWAP" in url + body or "BTC/USD:BTC" in inp:
        return INVERSE
    if re.search(r"/trade/(order-algo|orders-algo|cancel-algos|amend-algos)", url):
        return ALGO
    if "attachAlgoOrds" in body or re.search(r'"new(Tp|Sl)', body):
        return TPSL
    return NOT_SIMULATED.get(method)


def _cases() -> list[Any]:
    out = []
    for method, cases in REQUESTS["methods"].items():
        for idx, case in enumerate(cases):
            cid = f"{method}[{idx}] {case['description']}"
            reason = skip_reason(method, case)
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            out.append(pytest.param(method, idx, id=cid, marks=marks))
    return out


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[Any]:
    ex = make_venue()
    async with SimServer(ex, rate_limits=False) as srv, ccxt_client(srv) as c:
        await c.load_markets()
        yield c


def test_expected_outcomes_name_real_cases() -> None:
    for method, idx in EXPECTED:
        case = REQUESTS["methods"][method][idx]
        assert skip_reason(method, case) is None, (method, idx)
    for method, idx in [k for k, v in EXPECTED.items() if v == POS_SIDE]:
        assert '"posSide":"long"' in REQUESTS["methods"][method][idx]["output"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("method", "idx"), _cases())
async def test_request_matches_ccxt_fixture_and_is_accepted(client: Any, method: str,
                                                            idx: int) -> None:
    case = REQUESTS["methods"][method][idx]
    reset_last(client)
    error: Exception | None = None
    try:
        await getattr(client, snake(method))(*case["input"])
    except Exception as e:  # judged below from what went over the wire
        error = e
    assert client.last_request_url is not None, f"ccxt sent nothing: {error!r}"

    # 1. the request
    assert path_and_query(client.last_request_url) == path_and_query(case["url"])
    want_body = case.get("output")
    got_body = client.last_request_body
    if want_body is None:
        assert not got_body, got_body
    else:
        explicit_id = "clientOrderId" in json.dumps(case["input"])
        skip = tuple(k for k in REQUEST_SKIP_KEYS if not (explicit_id and k == "clOrdId"))
        assert strip_keys(json.loads(got_body), skip) == strip_keys(json.loads(want_body), skip)

    headers = client.last_request_headers or {}
    endpoint = path_and_query(case["url"]).split("?")[0].removeprefix("/api/v5/")
    verb = "GET" if want_body is None else "POST"
    if (verb, endpoint) not in PUBLIC:
        assert {"OK-ACCESS-KEY", "OK-ACCESS-SIGN", "OK-ACCESS-TIMESTAMP",
                "OK-ACCESS-PASSPHRASE"} <= set(headers), headers
    if verb == "POST":
        assert headers.get("Content-Type") == "application/json", headers

    # 2. the answer
    assert client.last_http_response, f"no answer: {error!r}"
    answer = json.loads(client.last_http_response)
    code, text = EXPECTED.get((method, idx), ("0", ""))
    if want_body is not None and endpoint in ITEM_CODED:
        items = [(d.get("sCode"), d.get("sMsg", "")) for d in answer["data"]]
        assert items, answer
        assert all(c == code and text in m for c, m in items), answer
        assert answer["code"] == ("0" if code == "0" else "1"), answer
    else:
        assert (answer["code"], text in answer["msg"]) == (code, True), answer
    if code == "0":
        # ccxt may still decline an empty answer (fetchPosition without a position): that is
        # the only error allowed after a "0"
        assert error is None or type(error).__name__ == "NullResponse", repr(error)

    # 3. the filters of a GET
    if want_body is None and answer["code"] == "0":
        query = dict(p.split("=", 1) for p in path_and_query(case["url"]).partition("?")[2]
                     .split("&") if p)
        for row in answer["data"]:
            for key in ROW_FILTERS:
                if key in query and key in row and query[key] != "ANY":
                    allowed = query[key].replace("%2C", ",").split(",")
                    assert row[key] in allowed, (key, query[key], row)
