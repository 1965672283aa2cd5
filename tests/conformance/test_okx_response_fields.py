"""Response conformance: what the simulator answers, field by field, against real OKX answers
recorded by ccxt (``tests/fixtures/okx_ccxt_static/response_okx.subset.json``).

For every fixture case the simulator supports, the test builds the same situation on a fresh
simulated venue (places the order, makes the transfer, ...), makes the same ccxt call with the
fixture's input, and then checks, on the raw JSON the simulator sent:

1. the envelope: ``code``/``msg``/``data``, ``code`` a string (``okx_conformance``);
2. every returned object against *all* real samples of the same OKX object (orders from
   ``fetchOrder`` and ``fetchOpenOrders`` together, bills from ``fetchLedger`` and
   ``fetchTransfers`` together, positions from every ``fetchPosition(s)`` sample): the keys in
   every sample are required, keys in no sample are refused (except fields documented by OKX
   after the sample was recorded, ``NEWER_FIELDS``), JSON types match, numeric strings stay
   numeric or "" (rules in ``okx_conformance``);
3. fields whose value the *action* fixes, not the market (state, fee currency, bill subtype,
   transfer accounts, ...): equal to the sample's value (``SAME_AS_SAMPLE``);
4. what ccxt parses: the set of non-None fields of the unified structure ccxt builds from ours
   equals the set it builds from the real answer for the same call. The real answer is
   replayed through the same client (its transport swapped for one that returns the recorded
   body, as ccxt's own static tests do) rather than read from the fixture's recorded
   ``parsedResponse``: those were produced by older ccxt versions (e.g. the fetchPositions one
   has no ``id``), while the question is what *this* ccxt makes of each answer.

Not run as cases (shown as skipped): ``fetchPosition`` "Inverse swap cross/isolated fetch
position" — BTC-USD-SWAP is coin-margined, which the simulator does not list. Their raw rows
still count as samples for the key/type rules of a position row (the row schema of
``account/positions`` does not depend on the contract type, and they are the newest samples).
The createOrder case is made without its ``stopLoss`` (attached TP/SL is not simulated) and with
0.1 contracts (OKX's current BTC-USDT-SWAP lot size, which the simulator ships); the answer
to ``trade/batch-orders`` is the same object either way. fetchOrder and fetchTransfer use the
ids of the order/transfer just made (the fixture's ids do not exist on the simulated account).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from okx_conformance import (
    RESPONSES,
    envelope_problems,
    make_venue,
    present_fields,
    raw_json,
    shape_problems,
    string_class,
)

from laicai.sim.server.app import SimServer
from laicai.testing.sim import ccxt_client

# Which OKX object each fixture method returns (``data`` rows of the HTTP response).
KIND: dict[str, str] = {
    "createOrder": "order_ack", "fetchBalance": "funding_balance", "fetchStatus": "status",
    "fetchTime": "time", "fetchAccounts": "account_config", "fetchOpenOrders": "order",
    "fetchOrder": "order", "fetchMyTrades": "fill", "fetchPositions": "position",
    "fetchPosition": "position", "fetchOrderBook": "order_book", "fetchTicker": "ticker",
    "fetchLedger": "bill", "fetchTransfers": "bill", "transfer": "transfer",
    "fetchTransfer": "transfer_state", "fetchCrossBorrowRate": "interest_rate",
}

# Fields that OKX's current v5 documentation lists for these objects but that the recorded
# samples (2023-2024) predate; the simulator may send them.
NEWER_FIELDS: dict[str, frozenset[str]] = {
    # account/config: self-trade-prevention mode, spot-mode borrowing switches, account type
    "account_config": frozenset({"acctStpMode", "enableSpotBorrow", "spotBorrowAutoRepay",
                                 "type"}),
    # account/bills: Simple-Earn auto-earn amount and APR
    "bill": frozenset({"earnAmt", "earnApr"}),
}

INVERSE_REASON = ("BTC-USD-SWAP (inverse, coin-margined) is not simulated; its rows still "
                  "serve as position-row samples for the key/type rules")


def samples_of(kind: str) -> list[dict[str, Any]]:
    return [row for method, k in KIND.items() if k == kind
            for case in RESPONSES[method] for row in case["httpResponse"]["data"]]


# Per (method, case index): fields of the raw row whose value is fixed by what was done (same
# action as the real sample), so they must equal the sample's value (numbers compared as
# numbers). Market- and account-dependent fields (prices, ids, times, balances) are not listed.
SAME_AS_SAMPLE: dict[tuple[str, int], tuple[str, ...]] = {
    ("createOrder", 0): ("sCode", "sMsg"),
    ("fetchBalance", 0): ("ccy", "availBal", "bal", "frozenBal"),
    ("fetchOpenOrders", 0): (
        "accFillSz", "avgPx", "cancelSource", "category", "ccy", "fee", "feeCcy", "fillPx",
        "fillSz", "fillTime", "instId", "instType", "ordType", "pnl", "px", "rebate",
        "rebateCcy", "reduceOnly", "side", "state", "sz", "tdMode", "tgtCcy", "tradeId"),
    ("fetchMyTrades", 0): ("side", "fillSz", "fee", "feeRate", "instType", "instId", "posSide",
                           "execType", "feeCcy", "fillPnl"),
    ("fetchPositions", 0): ("adl", "availPos", "ccy", "fundingFee", "instId", "instType",
                            "lever", "liqPenalty", "margin", "mgnMode", "pnl", "pos"),
    ("fetchPosition", 0): ("adl", "availPos", "ccy", "instId", "instType", "lever",
                           "liqPenalty", "margin", "mgnMode", "pnl", "pos"),
    ("fetchTicker", 0): ("instType", "instId"),
    ("fetchOrder", 0): (
        "accFillSz", "cancelSource", "category", "ccy", "fee", "feeCcy", "fillSz", "instId",
        "instType", "isTpLimit", "lever", "linkedAlgoOrd", "ordType", "pnl", "posSide", "px",
        "rebate", "rebateCcy", "reduceOnly", "side", "state", "stpMode", "sz", "tdMode",
        "tgtCcy"),
    ("fetchLedger", 0): ("ccy", "execType", "fee", "fillIdxPx", "fillMarkPx", "from", "instId",
                         "instType", "interest", "mgnMode", "notes", "pnl", "posBal",
                         "posBalChg", "subType", "to", "type"),
    ("fetchTransfers", 0): ("balChg", "ccy", "clOrdId", "execType", "fee", "from", "instId",
                            "instType", "interest", "mgnMode", "notes", "ordId", "pnl",
                            "posBal", "posBalChg", "px", "subType", "sz", "tag", "to",
                            "tradeId", "type"),
    ("transfer", 0): ("amt", "ccy", "clientId", "from", "to"),
    ("transfer", 1): ("amt", "ccy", "clientId", "from", "to"),
    ("fetchTransfer", 0): ("amt", "ccy", "clientId", "from", "instId", "state", "subAcct", "to",
                           "toInstId", "type"),
    ("fetchCrossBorrowRate", 0): ("ccy",),
}


@contextlib.asynccontextmanager
async def venue(**kw: Any) -> AsyncIterator[Any]:
    ex = make_venue(**kw)
    async with SimServer(ex, rate_limits=False) as srv, ccxt_client(srv) as client:
        await client.load_markets()
        yield client


# A scenario brings a fresh venue to the sample's situation and names the ccxt call to make:
# (method, args). ``inp`` is the fixture's input.
Setup = Callable[[Any, list[Any]], Awaitable[tuple[str, list[Any]]]]


def _as_is(method: str) -> Setup:
    async def setup(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
        return method, inp
    return setup


async def _create_order(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
    symbol, kind, side, _amount, price = inp[:5]
    return "create_order", [symbol, kind, side, 0.1, price]


async def _fetch_open_orders(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
    # the sample: a resting post-only buy of 50 ADA-USDT-SWAP at 0.2, cross, 3x
    await c.set_leverage(3, "ADA/USDT:USDT", {"mgnMode": "cross"})
    await c.create_order("ADA/USDT:USDT", "limit", "buy", 50, 0.2, {"postOnly": True})
    return "fetch_open_orders", inp


def _after_spot_buy(method: str) -> Setup:
    async def setup(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
        # the samples: a market buy of 0.1 LTC-USDT, its fill and its USDT bill
        order = await c.create_order("LTC/USDT", "market", "buy", 0.1)
        if method == "fetch_order":
            inp = [order["id"], *inp[1:]]
        return method, inp
    return setup


def _position(lever: int, contracts: int) -> Setup:
    async def setup(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
        # the samples: a cross long in LTC-USDT-SWAP (3x 1 contract; 10x 2 contracts)
        await c.set_leverage(lever, "LTC/USDT:USDT", {"mgnMode": "cross"})
        await c.create_order("LTC/USDT:USDT", "market", "buy", contracts)
        return ("fetch_positions" if isinstance(inp[0], list) else "fetch_position"), inp
    return setup


async def _fetch_transfers(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
    await c.transfer("USDT", 1, "funding", "spot")  # the sample: 1 USDT from 6 to 18
    return "fetch_transfers", inp


async def _fetch_transfer(c: Any, inp: list[Any]) -> tuple[str, list[Any]]:
    # the sample: 1 USDC from trading (18) to funding (6); its id 0 does not exist here
    done = await c.transfer("USDC", 1, "spot", "funding")
    return "fetch_transfer", [done["id"], *inp[1:]]


SCENARIOS: dict[tuple[str, int], Setup] = {
    ("createOrder", 0): _create_order,
    ("fetchBalance", 0): _as_is("fetch_balance"),
    ("fetchBalance", 1): _as_is("fetch_balance"),
    ("fetchStatus", 0): _as_is("fetch_status"),
    ("fetchTime", 0): _as_is("fetch_time"),
    ("fetchAccounts", 0): _as_is("fetch_accounts"),
    ("fetchOpenOrders", 0): _fetch_open_orders,
    ("fetchMyTrades", 0): _after_spot_buy("fetch_my_trades"),
    ("fetchPositions", 0): _position(3, 1),
    ("fetchOrderBook", 0): _as_is("fetch_order_book"),
    ("fetchOrderBook", 1): _as_is("fetch_order_book"),
    ("fetchTicker", 0): _as_is("fetch_ticker"),
    ("fetchOrder", 0): _after_spot_buy("fetch_order"),
    ("fetchLedger", 0): _after_spot_buy("fetch_ledger"),
    ("fetchPosition", 0): _position(10, 2),
    ("fetchTransfers", 0): _fetch_transfers,
    ("transfer", 0): _as_is("transfer"),
    ("transfer", 1): _as_is("transfer"),
    ("fetchTransfer", 0): _fetch_transfer,
    ("fetchCrossBorrowRate", 0): _as_is("fetch_cross_borrow_rate"),
}
# The funding account of each case (default: 1000 USDT).
FUNDING_ACCOUNT: dict[tuple[str, int], dict[str, Decimal]] = {
    ("fetchBalance", 0): {"TUSD": Decimal(100)},  # the sample: 100 TUSD
    ("fetchBalance", 1): {},  # the sample: an empty funding account
}


async def replay(client: Any, method: str, args: list[Any], body: Any) -> Any:
    """What ccxt makes of ``body`` (a real OKX answer) for the same call: its transport is
    replaced by one that answers ``body``, as ccxt's own static response tests do."""
    async def fetch(url: str, method: str = "GET", headers: Any = None, body_: Any = None
                    ) -> Any:
        return copy.deepcopy(body)

    client.fetch = fetch
    return await getattr(client, method)(*args)


def _cases() -> list[Any]:
    out = []
    for method, cases in RESPONSES.items():
        for idx, case in enumerate(cases):
            cid = f"{method}[{idx}] {case['description']}"
            if (method, idx) in SCENARIOS:
                out.append(pytest.param(method, idx, id=cid))
            elif "BTC/USD:BTC" in case["input"]:
                out.append(pytest.param(method, idx, id=cid,
                                        marks=pytest.mark.skip(reason=INVERSE_REASON)))
            else:  # a new fixture case must get a scenario (or an explicit skip)
                out.append(pytest.param(method, idx, id=cid, marks=pytest.mark.xfail(
                    reason="no scenario for this fixture case", strict=True)))
    return out


def test_every_response_fixture_method_is_mapped() -> None:
    assert set(RESPONSES) <= set(KIND)


def test_shape_rules_catch_defects() -> None:
    """The comparison itself: a conforming object passes, each kind of defect is reported."""
    real = {"px": "0.2", "state": "live", "feeCcy": "", "algos": [], "flag": False,
            "levels": [["1.5", "2", "0", "1"]], "link": {"algoId": ""}}
    assert shape_problems(dict(real), [real]) == []
    assert shape_problems({**real, "px": "", "feeCcy": "USDT"}, [real]) == []
    defects = {
        "missing": {k: v for k, v in real.items() if k != "state"},
        "extra": {**real, "made_up": ""},
        "number": {**real, "px": 0.2},
        "text for number": {**real, "px": "n/a"},
        "number for text": {**real, "state": "2"},
        "exponent": {**real, "px": "1E-7"},
        "bool as string": {**real, "flag": "false"},
        "list as object": {**real, "algos": {}},
        "level length": {**real, "levels": [["1.5", "2", "0"]]},
        "nested": {**real, "link": {}},
    }
    for name, ours in defects.items():
        assert shape_problems(ours, [real]), name
    assert shape_problems({**real, "newer": ""}, [real], newer={"newer"}) == []
    assert envelope_problems({"code": 0, "msg": "", "data": []})
    assert envelope_problems({"code": "0", "data": []})
    assert envelope_problems({"code": "0", "msg": "", "data": []}) == []


def _same_value(ours: Any, real: Any) -> bool:
    if (isinstance(ours, str) and isinstance(real, str) and string_class(ours) == "numeric"
            and string_class(real) == "numeric"):
        return Decimal(ours) == Decimal(real)
    return bool(ours == real)


@pytest.mark.parametrize(("method", "idx"), _cases())
async def test_response_matches_real_okx(method: str, idx: int) -> None:
    case = RESPONSES[method][idx]
    real = case["httpResponse"]
    funding = FUNDING_ACCOUNT.get((method, idx))
    async with venue(funding_account=funding) as client:
        call, args = await SCENARIOS[(method, idx)](client, list(case["input"]))
        parsed = await getattr(client, call)(*args)
        ours = raw_json(client)
        want_parsed = await replay(client, call, args, real)
    kind = KIND[method]
    problems = envelope_problems(ours)
    assert ours["code"] == "0", ours
    if len(ours["data"]) != len(real["data"]):
        problems.append(f"data has {len(ours['data'])} rows, the sample {len(real['data'])}")
    for i, row in enumerate(ours["data"]):
        problems += shape_problems(row, samples_of(kind), path=f"data[{i}]",
                                   newer=NEWER_FIELDS.get(kind, ()))
    if ours["data"] and real["data"]:
        for key in SAME_AS_SAMPLE.get((method, idx), ()):
            got, want = ours["data"][0].get(key), real["data"][0][key]
            if not _same_value(got, want):
                problems.append(f"data[0].{key}: ours {got!r}, OKX {want!r} for the same action")
    # what ccxt makes of it, from ours and from the real answer
    if isinstance(want_parsed, list):
        assert isinstance(parsed, list) and len(parsed) == len(want_parsed), parsed
        pairs = list(zip(parsed, want_parsed, strict=True))
    else:
        pairs = [(parsed, want_parsed)]
    for got_p, want_p in pairs:
        got_f, want_f = present_fields(got_p), present_fields(want_p)
        if got_f - want_f:
            problems.append(f"ccxt parses from ours only: {sorted(got_f - want_f)}")
        if want_f - got_f:
            problems.append(f"ccxt parses from OKX's only: {sorted(want_f - got_f)}")
    if kind == "order_book":
        for side in ("bids", "asks"):
            assert parsed[side], parsed
            assert {len(lv) for lv in parsed[side]} == {len(lv) for lv in want_parsed[side]}
    assert not problems, "\n".join(problems)
