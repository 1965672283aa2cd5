"""The adapter's ``bills`` read through the real ccxt against the simulator: paging with
``after`` over more bills than a page holds, the cursor (``newer_than``), every filter, both
accounts, the fields of each bill type, and the error mapping of the other reads."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from decimal import Decimal

import ccxt
import pytest

from laicai.config.sections import OkxConfig
from laicai.domain.account import BILL_FUNDING, BILL_TRADE, BILL_TRANSFER, Bill
from laicai.errors import PermissionDenied, RateLimited, TransientExchangeError
from laicai.sim import trading
from laicai.sim.account import FUNDING, TRADING, Account
from laicai.sim.account import Bill as SimBill
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.sim.server.app import SimServer
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, START_MS, make_exchange
from laicai.venues.okx import AdapterSettings, OkxCredentials, OkxExchange, RetryPolicy
from laicai.venues.okx import create_exchange as create

D = Decimal
HOUR = 3_600_000
TRANSFERS = 40


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def ex() -> SimExchange:
    """A short BTC perp and a spot buy (trade bills), funding settled every hour for 5 h
    (funding bills), 40 transfers each way (transfer bills in both accounts)."""
    ex = make_exchange(funding={"BTC-USDT-SWAP": (D("0.0001"), 1)})
    acct = ex.accounts["main"]
    trading.place_order(ex, acct, {"instId": "BTC-USDT-SWAP", "side": "sell", "sz": "3",
                                   "ordType": "market", "tdMode": "cross"})
    trading.place_order(ex, acct, {"instId": "BTC-USDT", "side": "buy", "sz": "0.01",
                                   "ordType": "market", "tdMode": "cash",
                                   "tgtCcy": "base_ccy"})
    for _ in range(5):
        ex.clock.advance(HOUR)  # type: ignore[attr-defined]
        ex.sync()
    for i in range(TRANSFERS):
        trading.transfer(ex, acct, "USDT", D(i + 1), TRADING, FUNDING)
        trading.transfer(ex, acct, "USDT", D(i + 1), FUNDING, TRADING)
    return ex


@pytest.fixture
async def okx(ex: SimExchange) -> AsyncIterator[tuple[OkxExchange, SimServer, Sleeps]]:
    sleeps = Sleeps()
    async with SimServer(ex, rate_limits=False) as srv, create(
            OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
            OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE),
            settings=AdapterSettings(retry=RetryPolicy(max_attempts=3)), sleep=sleeps) as o:
        yield o, srv, sleeps


def acct_of(ex: SimExchange) -> Account:
    return ex.accounts["main"]


def ids(bills: list[Bill] | list[SimBill]) -> list[str]:
    return [b.bill_id for b in bills]


async def test_pages_through_every_bill_oldest_first(
        okx: tuple[OkxExchange, SimServer, Sleeps], ex: SimExchange) -> None:
    o, srv, _ = okx
    venue_bills = acct_of(ex).bills
    assert len(venue_bills) > 80  # several pages of 7
    before = srv.request_count
    got = await o.bills(page_size=7)
    assert ids(got) == sorted(ids(venue_bills), key=int)
    # one request per page, plus one that comes back empty when the last page was full
    pages = math.ceil(len(venue_bills) / 7) + (1 if len(venue_bills) % 7 == 0 else 0)
    assert srv.request_count - before == pages
    assert got == sorted(got, key=lambda b: b.id_number)
    assert await o.bills() == got  # the default page (100) holds them all: same answer


async def test_newer_than_reads_only_what_is_newer_and_stops_there(
        okx: tuple[OkxExchange, SimServer, Sleeps], ex: SimExchange) -> None:
    o, srv, _ = okx
    all_ids = sorted(ids(acct_of(ex).bills), key=int)
    cursor = all_ids[-20]
    before = srv.request_count
    got = await o.bills(newer_than=cursor, page_size=7)
    assert ids(got) == all_ids[-19:]
    assert srv.request_count - before == 3  # 7 + 7 + a page that reaches the cursor
    assert await o.bills(newer_than=all_ids[-1]) == []


async def test_filters_type_instrument_currency_and_begin(
        okx: tuple[OkxExchange, SimServer, Sleeps], ex: SimExchange) -> None:
    o, _, _ = okx
    venue_bills = acct_of(ex).bills
    funding = await o.bills(bill_type=BILL_FUNDING, page_size=2)
    assert ids(funding) == [b.bill_id for b in venue_bills if b.type == "8"]
    assert len(funding) == 5
    swap = await o.bills(inst_id="BTC-USDT-SWAP")
    assert ids(swap) == [b.bill_id for b in venue_bills if b.inst_id == "BTC-USDT-SWAP"]
    btc = await o.bills(ccy="BTC")
    assert btc and all(b.ccy == "BTC" for b in btc)
    assert ids(btc) == [b.bill_id for b in venue_bills if b.ccy == "BTC"]
    begin = START_MS + 3 * HOUR
    late = await o.bills(bill_type=BILL_FUNDING, begin_ms=begin)
    assert [b.ts_ms for b in late] == [START_MS + h * HOUR for h in (3, 4, 5)]


async def test_bill_fields_are_parsed_from_the_venue_strings(
        okx: tuple[OkxExchange, SimServer, Sleeps], ex: SimExchange) -> None:
    o, _, _ = okx
    by_id = {b.bill_id: b for b in acct_of(ex).bills}
    for bill in await o.bills():
        sim = by_id[bill.bill_id]
        assert (bill.account, bill.ccy, bill.type, bill.sub_type, bill.ts_ms) == (
            "trading", sim.ccy, sim.type, sim.sub_type, sim.ts_ms)
        assert bill.bal_chg == sim.bal_chg
        if bill.type == BILL_FUNDING:  # a short receives positive funding: subType 174
            assert bill.sub_type == "174" and bill.pnl == sim.pnl == bill.bal_chg > 0
            assert bill.inst_id == "BTC-USDT-SWAP" and bill.sz == 3
            assert bill.px == ex.mark_px("BTC-USDT-SWAP")
        if bill.type == BILL_TRADE:
            assert bill.trade_id == sim.trade_id and bill.venue_order_id == sim.ord_id
            assert bill.fee == -sim.fee  # positive when paid
            assert bill.fill_idx_px == sim.fill_idx_px and bill.fill_mark_px == sim.fill_mark_px
        if bill.type == BILL_TRANSFER:
            assert bill.trade_id == "" and bill.fee == 0 and bill.pnl == 0
    fees = [b for b in await o.bills(bill_type=BILL_TRADE) if b.fee != 0]
    assert {b.ccy for b in fees} == {"USDT", "BTC"}  # the perp in USDT, the spot buy in BTC
    assert all(b.fee > 0 for b in fees)


async def test_funding_account_bills(okx: tuple[OkxExchange, SimServer, Sleeps],
                                     ex: SimExchange) -> None:
    o, _, _ = okx
    asset = acct_of(ex).asset_bills
    got = await o.bills("funding", page_size=9)
    assert ids(got) == ids(asset) and len(got) == 2 * TRANSFERS
    assert all(b.account == "funding" and b.ccy == "USDT" for b in got)
    assert [b.bal_chg for b in got] == [b.bal_chg for b in asset]
    cursor = got[9].bill_id
    assert ids(await o.bills("funding", newer_than=cursor)) == ids(got[10:])
    assert await o.bills("funding", ccy="BTC") == []


async def test_bad_arguments_are_refused_before_any_request(
        okx: tuple[OkxExchange, SimServer, Sleeps]) -> None:
    o, srv, _ = okx
    before = srv.request_count
    with pytest.raises(ValueError, match="instrument"):
        await o.bills("funding", inst_id="BTC-USDT-SWAP")
    with pytest.raises(ValueError, match="account"):
        await o.bills("savings")
    with pytest.raises(ValueError, match="page_size"):
        await o.bills(page_size=101)
    with pytest.raises(ValueError, match="bill id"):
        await o.bills(newer_than="abc")
    assert srv.request_count == before


async def test_errors_map_like_the_other_reads(okx: tuple[OkxExchange, SimServer, Sleeps],
                                               ex: SimExchange) -> None:
    o, _, sleeps = okx
    expected = await o.bills(page_size=50)
    fault = ex.faults.add(Fault("http_5xx", endpoint="account/bills", http_status=503))
    assert await o.bills(page_size=50) == expected  # retried once, then every page read
    assert fault.fired == 1 and len(sleeps.delays) == 1
    ex.faults.add(Fault("http_5xx", endpoint="asset/bills", count=None))
    with pytest.raises(TransientExchangeError) as transient:
        await o.bills("funding")
    assert isinstance(transient.value.__cause__, ccxt.NetworkError)
    ex.faults.clear()
    ex.faults.add(Fault("reject", endpoint="account/bills", code="50011", count=None))
    with pytest.raises(RateLimited):
        await o.bills()
    ex.faults.clear()
    ex.faults.add(Fault("reject", endpoint="account/bills", code="50120", count=None))
    delays = len(sleeps.delays)
    with pytest.raises(PermissionDenied):
        await o.bills()
    assert len(sleeps.delays) == delays  # not retried
