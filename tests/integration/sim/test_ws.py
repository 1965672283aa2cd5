"""The simulator's OKX v5 WebSocket, driven by the real ccxt.pro client (and by a plain
aiohttp client where the wire format itself is under test)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal as D
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro
import pytest
from ccxt.base.errors import AuthenticationError
from hypothesis import given, settings
from hypothesis import strategies as st

from laicai.sim.account import ApiKey
from laicai.sim.clock import Clock, ManualClock, ScaledClock
from laicai.sim.exchange import AccountSetup, SimExchange
from laicai.sim.instruments import pair_for
from laicai.sim.market import ConstantFunding, ConstantPrice, MarketPlan, PricePath, SwapTerms
from laicai.sim.server import ws as ws_mod
from laicai.sim.server.app import SimServer
from laicai.sim.server.ws_books import SideState

SWAP = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"
START_MS = 1_767_225_600_000


class Wobble:
    """A price that moves every 100 ms of simulated time."""

    def price_at(self, ts_ms: int) -> D:
        return D(60000) + (ts_ms // 100 % 50)


def make_ex(clock: Clock | None = None, path: PricePath | None = None,
            fee_tier: str = "VIP0", book_refresh_ms: int = 1000) -> SimExchange:
    return SimExchange(
        clock=clock or ManualClock(START_MS),
        plan=MarketPlan(prices={"BTC": path or ConstantPrice(D(60000))},
                        swaps={SWAP: SwapTerms(ConstantFunding(D("0.0001")))}),
        instruments=[*pair_for("BTC", D(60000))],
        accounts=[AccountSetup("main", [ApiKey("k", "s", "p")], fee_tier=fee_tier,
                               trading={"USDT": D(100000)})],
        book_refresh_ms=book_refresh_ms,
    )


@pytest.fixture
def ex() -> SimExchange:
    return make_ex()


@pytest.fixture
async def srv(ex: SimExchange) -> AsyncIterator[SimServer]:
    async with SimServer(ex) as server:
        yield server


@contextlib.asynccontextmanager
async def pro(server: SimServer, secret: str = "s") -> AsyncIterator[Any]:
    client = ccxtpro.okx({"apiKey": "k", "secret": secret, "password": "p",
                          "options": {"fetchMarkets": {"types": ["spot", "swap"]}}})
    client.urls["api"] = {"rest": server.rest_url, "ws": server.ws_url}
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def raw(server: SimServer, path: str = "public"
              ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"{server.ws_url}/{path}?brokerId=9999") as ws:
        yield ws


async def recv(ws: aiohttp.ClientWebSocketResponse, wait: float = 2.0) -> Any:
    msg = await ws.receive(timeout=wait)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return msg.data if msg.data == "pong" else json.loads(msg.data)


async def send(ws: aiohttp.ClientWebSocketResponse, op: str, *args: dict[str, Any],
               **extra: Any) -> None:
    await ws.send_str(json.dumps({"op": op, "args": list(args), **extra}))


async def until(pred: Callable[[], bool], wait: float = 2.0) -> None:
    for _ in range(int(wait / 0.01)):
        if pred():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def move(ex: SimExchange, price: D) -> None:
    """Move BTC and let the book follow (as a request or the poller would)."""
    ex.set_price("BTC", price=price)
    ex.book(SWAP)


class LocalBook:
    """Applies OKX ``books`` pushes the way a careful client would, checking the chain."""

    def __init__(self) -> None:
        self.bids: dict[D, D] = {}
        self.asks: dict[D, D] = {}
        self.seq = -2
        self.updates = 0

    def apply(self, msg: dict[str, Any]) -> None:
        (d,) = msg["data"]
        if msg["action"] == "snapshot":
            assert d["prevSeqId"] == -1
            self.bids, self.asks = {}, {}
        else:
            assert d["prevSeqId"] == self.seq, (d["prevSeqId"], self.seq)
            assert d["seqId"] > d["prevSeqId"]
            self.updates += 1
        assert d["checksum"] == 0
        self.seq = d["seqId"]
        for side, levels in ((self.bids, d["bids"]), (self.asks, d["asks"])):
            for px, sz, _, _ in levels:
                if D(sz) == 0:
                    assert D(px) in side, f"delete of unknown level {px}"
                    del side[D(px)]
                else:
                    side[D(px)] = D(sz)

    def matches(self, ex: SimExchange) -> bool:
        book = ex.books[SWAP]
        return (sorted(self.bids.items(), reverse=True) == [tuple(lv) for lv in book.bids]
                and sorted(self.asks.items()) == [tuple(lv) for lv in book.asks])


# ---------------------------------------------------------------------- order book
_side = st.dictionaries(st.integers(1, 60), st.integers(1, 4), max_size=25).map(
    lambda d: [[D(p) / 10, D(q)] for p, q in sorted(d.items())])


@settings(max_examples=300, deadline=None)
@given(first=_side, changes=st.lists(_side, min_size=1, max_size=4))
def test_side_diffs_replay_to_the_new_side(first: list[list[D]],
                                           changes: list[list[list[D]]]) -> None:
    state = SideState(first)
    replayed = {p: q for p, q in first}
    for new in changes:
        for lv in state.update(new):
            px, sz, _, _ = json.loads(lv)
            if sz == "0":
                del replayed[D(px)]  # only levels that exist are deleted
            else:
                replayed[D(px)] = D(sz)
        assert sorted(replayed.items()) == [tuple(lv) for lv in new]
        assert state.levels == new and state.levels is not new
    assert state.update([lv[:] for lv in state.levels]) == []


async def test_watch_order_book_follows_many_updates(srv: SimServer, ex: SimExchange) -> None:
    async with pro(srv) as c:
        ob = await c.watch_order_book(SYMBOL)
        assert len(ob["bids"]) == 50 and ob["nonce"] == srv.ws.books[SWAP].seq
        stream = srv.ws.books[SWAP].inc[400]  # what the books channel last sent
        book = ex.books[SWAP]
        for i in range(200):
            if i % 3 == 2:  # a taker eats into the top of the book
                book.take("buy" if i % 2 else "sell", D("0.7"))
                ex.emit("book", "", SWAP)
            else:
                move(ex, D(60000) + D(i % 7) * D("0.3") + (D(i % 5) if i % 2 else 0))
            await asyncio.sleep(0)
            if i % 10 == 0:  # now and then wait for the watcher to catch up completely
                while ob["nonce"] != stream.seq:
                    ob = await c.watch_order_book(SYMBOL)
        while ob["nonce"] != stream.seq:
            ob = await c.watch_order_book(SYMBOL)
        assert ob["bids"] == [[float(p), float(q)] for p, q in book.bids]
        assert ob["asks"] == [[float(p), float(q)] for p, q in book.asks]
        assert srv.ws.stats()["bookUpdatesSent"] >= 150


async def test_books_seq_chain_and_diffs_rebuild_the_exact_book(srv: SimServer,
                                                                ex: SimExchange) -> None:
    async with raw(srv) as ws:
        await send(ws, "subscribe", {"channel": "books", "instId": SWAP}, id="42")
        ack = await recv(ws)
        assert ack["event"] == "subscribe" and ack["id"] == "42"
        assert ack["arg"] == {"channel": "books", "instId": SWAP} and len(ack["connId"]) == 8
        local = LocalBook()
        snap = await recv(ws)
        assert snap["arg"] == {"channel": "books", "instId": SWAP}
        assert snap["action"] == "snapshot" and len(snap["data"][0]["bids"]) == 50
        assert snap["data"][0]["bids"][0][2:] == ["0", "1"]
        local.apply(snap)
        assert local.matches(ex)
        for i in range(30):
            if i % 2:
                ex.books[SWAP].take("sell", D("1.5"))
                ex.emit("book", "", SWAP)
            else:
                move(ex, D(60000) + i + 1)
            local.apply(await recv(ws))
            assert local.matches(ex)
        # a taker update only carries the levels it touched
        ex.books[SWAP].take("buy", D("0.01"))
        ex.emit("book", "", SWAP)
        upd = await recv(ws)
        local.apply(upd)
        assert upd["action"] == "update"
        assert len(upd["data"][0]["asks"]) == 1 and upd["data"][0]["bids"] == []
        assert local.matches(ex) and local.updates == 31
        # nothing changed: nothing is sent
        ex.emit("book", "", SWAP)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.3)


async def test_books_move_with_the_clock_and_after_a_rest_order() -> None:
    ex = make_ex(ScaledClock(speed=1.0, start_ms=START_MS), Wobble(), book_refresh_ms=100)
    async with SimServer(ex) as srv, raw(srv) as ws:
        await send(ws, "subscribe", {"channel": "books", "instId": SWAP})
        assert (await recv(ws))["event"] == "subscribe"
        local = LocalBook()
        local.apply(await recv(ws))
        while local.updates < 3:  # the poller rebuilds the book every 100 ms of price moves
            local.apply(await recv(ws, wait=1.0))
        async with pro(srv) as c:
            await c.create_order(SYMBOL, "market", "buy", 5)  # eats the top ask
            async with asyncio.timeout(2):
                while not local.matches(ex):
                    local.apply(await recv(ws))


async def test_books5_bbo_and_second_subscriber(srv: SimServer, ex: SimExchange) -> None:
    async with pro(srv) as c:
        ob5 = await c.watch_order_book(SYMBOL, limit=5)
        book = ex.books[SWAP]
        assert [lv[:2] for lv in ob5["bids"]] == [[float(p), float(q)] for p, q in book.bids[:5]]
        bba = await c.watch_bids_asks([SYMBOL])
        assert bba[SYMBOL]["bid"] == float(book.bids[0][0])
        assert bba[SYMBOL]["ask"] == float(book.asks[0][0])
        move(ex, D(60123))
        async with asyncio.timeout(2):
            while ob5["asks"][0][0] != float(ex.books[SWAP].asks[0][0]):
                ob5 = await c.watch_order_book(SYMBOL, limit=5)
    async with raw(srv) as ws:
        await send(ws, "subscribe", {"channel": "books5", "instId": SWAP},
                   {"channel": "bbo-tbt", "instId": SWAP})
        got = {}
        for _ in range(4):
            m = await recv(ws)
            if "data" in m:
                got[m["arg"]["channel"]] = m["data"][0]
        assert len(got["books5"]["asks"]) == 5 and got["books5"]["instId"] == SWAP
        assert len(got["bbo-tbt"]["bids"]) == 1 and "seqId" in got["bbo-tbt"]


async def test_tickers_mark_price_and_funding_rate(srv: SimServer, ex: SimExchange) -> None:
    async with pro(srv) as c:
        t = await c.watch_ticker(SYMBOL)
        bid, ask = ex.touch(SWAP)
        assert t["bid"] == float(bid) and t["ask"] == float(ask) and t["last"] == 60000
        mp = await c.watch_mark_price(SYMBOL)
        assert mp["info"]["markPx"] == "60000" and mp["info"]["instType"] == "SWAP"
        fr = await c.watch_funding_rate(SYMBOL)
        assert fr["fundingRate"] == 0.0001
        assert fr["fundingTimestamp"] == ex.next_funding_ms[SWAP]
        assert fr["info"]["nextFundingTime"] == str(ex.next_funding_ms[SWAP] + 8 * 3_600_000)
        # changes are pushed by the poller (tickers, mark) or at once (funding)
        move(ex, D(61000))
        t = await c.watch_ticker(SYMBOL)
        assert t["last"] == 61000
        mp = await c.watch_mark_price(SYMBOL)
        assert mp["info"]["markPx"] == "61000"
        ex.set_funding_rate(SWAP, D("0.0003"))
        ex.settle_funding_now(SWAP)
        fr = await c.watch_funding_rate(SYMBOL)
        assert fr["fundingRate"] == 0.0003


# ---------------------------------------------------------------------- private
async def test_login_with_a_bad_signature_is_rejected(srv: SimServer) -> None:
    async with pro(srv) as c:
        await c.load_markets()  # signed REST works with the right secret...
        c.secret = "wrong"  # ...the WebSocket login with a wrong one does not
        with pytest.raises(AuthenticationError, match="60007"):
            await c.watch_balance()
    async with raw(srv, "private") as ws:
        await send(ws, "login", {"apiKey": "nope", "passphrase": "p", "timestamp": "1",
                                 "sign": "x"})
        assert (await recv(ws))["code"] == "60005"
        await send(ws, "subscribe", {"channel": "orders", "instType": "ANY"})
        err = await recv(ws)
        assert err["event"] == "error" and err["code"] == "60011"


async def test_orders_positions_balance_after_a_rest_order(srv: SimServer) -> None:
    async with pro(srv) as c:
        bal = await c.watch_balance()  # the account channel's snapshot
        assert bal["USDT"]["total"] == 100000
        assert await c.watch_positions() == []  # the positions channel's snapshot
        orders_task = asyncio.create_task(c.watch_orders())
        positions_task = asyncio.create_task(c.watch_positions())
        balance_task = asyncio.create_task(c.watch_balance())
        await until(lambda: srv.ws.stats()["subscriptions"].get("orders") == 1)
        placed = await c.create_order(SYMBOL, "market", "buy", 3)
        orders = await asyncio.wait_for(orders_task, 2)
        mine = [o for o in orders if o["id"] == placed["id"]]
        assert mine and mine[-1]["status"] == "closed" and mine[-1]["filled"] == 3
        assert mine[-1]["info"]["fillSz"] != "0" and mine[-1]["info"]["tradeId"]
        positions = await asyncio.wait_for(positions_task, 2)
        long = [p for p in positions if p["symbol"] == SYMBOL and p["contracts"]]
        assert long and long[0]["contracts"] == 3 and long[0]["side"] == "long"
        bal = await asyncio.wait_for(balance_task, 2)
        assert bal["USDT"]["total"] < 100000  # paid the taker fee


async def test_raw_private_channels_shapes(srv: SimServer, ex: SimExchange) -> None:
    async with raw(srv, "private") as ws, pro(srv) as c:
        await c.load_markets()
        await c.authenticate()  # borrow ccxt's signer for the raw login below
        ts = str(c.seconds())
        sign = c.hmac(c.encode(ts + "GET/users/self/verify"), c.encode("s"),
                      __import__("hashlib").sha256, "base64")
        await send(ws, "login", {"apiKey": "k", "passphrase": "p", "timestamp": ts,
                                 "sign": sign})
        login = await recv(ws)
        assert login["event"] == "login" and login["code"] == "0" and login["msg"] == ""
        assert login["connId"] in await _conn_ids(srv, "private")
        await send(ws, "subscribe", {"channel": "balance_and_position"},
                   {"channel": "orders", "instType": "SWAP", "instId": SWAP})
        msgs = [await recv(ws) for _ in range(3)]
        snap = next(m for m in msgs if "data" in m)
        assert snap["arg"]["uid"] == ex.accounts["main"].uid
        assert snap["data"][0]["eventType"] == "snapshot"
        assert snap["data"][0]["balData"][0]["ccy"] == "USDT"
        await c.create_order(SYMBOL, "market", "sell", 2)
        got: dict[str, Any] = {}
        async with asyncio.timeout(2):
            while len(got) < 2:
                m = await recv(ws)
                got[m["arg"]["channel"]] = m
        bp = got["balance_and_position"]["data"][0]
        assert bp["eventType"] == "filled" and bp["posData"][0]["pos"] == "-2"
        assert bp["trades"] and bp["trades"][0]["instId"] == SWAP
        rows = got["orders"]["data"]
        assert rows[-1]["state"] == "filled" and rows[-1]["accFillSz"] == "2"
        assert all(r["fillSz"] != "0" and r["code"] == "0" for r in rows)


async def _conn_ids(srv: SimServer, path: str) -> list[str]:
    return [c.conn_id for c in srv.ws.conns if c.path == path]


# ---------------------------------------------------------------------- protocol
async def test_ping_pong_and_error_codes(srv: SimServer) -> None:
    async with raw(srv) as ws:
        await ws.send_str("ping")
        assert await recv(ws) == "pong"
        await ws.send_str("{not json")
        assert (await recv(ws))["code"] == "60012"
        await send(ws, "trade")
        assert (await recv(ws))["code"] == "60019"
        cases = [
            ({"channel": "nope", "instId": SWAP}, "60018"),
            ({"channel": "books", "instId": "NOPE-USDT"}, "60018"),
            ({"channel": "books"}, "60027"),
            ({"channel": "funding-rate", "instId": "BTC-USDT"}, "60018"),  # spot: no funding
            ({"channel": "orders", "instType": "ANY"}, "60018"),  # private on /public
            ({"channel": "books-l2-tbt", "instId": SWAP}, "60011"),  # needs login
            ({"channel": "candle1m", "instId": SWAP}, "64001"),
        ]
        for arg, code in cases:
            await send(ws, "subscribe", arg)
            err = await recv(ws)
            assert (err["event"], err["code"]) == ("error", code), arg
        await send(ws, "subscribe", {"channel": "tickers", "instId": SWAP})
        assert (await recv(ws))["event"] == "subscribe"
        assert (await recv(ws))["data"][0]["instId"] == SWAP
        await send(ws, "unsubscribe", {"channel": "tickers", "instId": SWAP})
        assert (await recv(ws))["event"] == "unsubscribe"
        assert srv.ws.stats()["subscriptions"] == {}
    async with raw(srv, "business") as ws:
        await send(ws, "subscribe", {"channel": "books", "instId": SWAP})
        assert (await recv(ws))["code"] == "64002"


async def test_l2_tbt_needs_a_vip_tier(ex: SimExchange) -> None:
    vip = make_ex(fee_tier="VIP5")
    for venue, ok in ((ex, False), (vip, True)):
        async with SimServer(venue) as srv, pro(srv) as c:
            if ok:
                ob = await c.watch_order_book(SYMBOL, params={"depth": "books-l2-tbt"})
                assert len(ob["bids"]) == 50
            else:
                with pytest.raises(Exception, match="64003"):
                    await c.watch_order_book(SYMBOL, params={"depth": "books-l2-tbt"})


async def test_ws_drop_fault_closes_the_connections_of_one_path(srv: SimServer) -> None:
    async with raw(srv) as pub, raw(srv, "private") as priv, aiohttp.ClientSession() as http:
        await until(lambda: len(srv.ws.conns) == 2)
        resp = await http.post(f"{srv.rest_url}/sim/faults",
                               json={"kind": "ws_drop", "channel": "public"})
        assert resp.status == 200
        msg = await pub.receive(timeout=2)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE,
                            aiohttp.WSMsgType.ERROR)
        await priv.send_str("ping")
        assert await recv(priv) == "pong"  # the private connection survived
        assert srv.ws.stats()["faultDrops"] == 1
        assert srv.exchange.faults.faults == []  # the one-shot fault fired


async def test_ccxt_reconnects_after_a_drop(srv: SimServer, ex: SimExchange) -> None:
    async with pro(srv) as c:
        await c.watch_order_book(SYMBOL)
        await srv.ws.drop("public")
        with pytest.raises(Exception, match=r"(?i)closed|connection"):
            await asyncio.wait_for(c.watch_order_book(SYMBOL), 2)
        ob = await asyncio.wait_for(c.watch_order_book(SYMBOL), 2)  # a fresh snapshot
        assert ob["nonce"] == srv.ws.books[SWAP].seq


async def test_slow_consumer_is_dropped_without_stalling_others(
        srv: SimServer, ex: SimExchange, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_mod, "MAX_QUEUE_MSGS", 20)
    async with raw(srv) as slow, raw(srv) as fast:
        for ws in (slow, fast):
            await send(ws, "subscribe", {"channel": "books", "instId": SWAP})
            await recv(ws)
            await recv(ws)
        slow_conn = next(iter(srv.ws.conns))  # the first connection made
        real = slow_conn.transport
        assert real is not None

        class Stuck:  # a socket whose reader stopped reading: everything stays buffered
            def get_write_buffer_size(self) -> int:
                return 1 << 30

            def is_closing(self) -> bool:
                return real.is_closing()

            def write(self, data: bytes) -> None:
                raise AssertionError("nothing may be written to a full socket")

        slow_conn.transport = Stuck()  # type: ignore[assignment]
        seq = srv.ws.books[SWAP].seq
        for i in range(40):
            move(ex, D(60000) + i + 1)
            m = await recv(fast)  # the fast one gets every update, in order
            assert m["data"][0]["prevSeqId"] == seq
            seq = m["data"][0]["seqId"]
        await until(lambda: slow_conn not in srv.ws.conns)
        assert srv.ws.stats()["slowDrops"] == 1
        msg = await slow.receive(timeout=3)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.ERROR)


async def test_stop_closes_every_connection(ex: SimExchange) -> None:
    srv = SimServer(ex)
    await srv.start()
    try:
        async with raw(srv) as a, raw(srv, "private") as b:
            await send(a, "subscribe", {"channel": "books", "instId": SWAP})
            await recv(a)
            await until(lambda: len(srv.ws.conns) == 2)
            async with asyncio.timeout(4):
                await srv.stop()
            for ws in (a, b):
                msg = await ws.receive(timeout=1)
                while msg.type is aiohttp.WSMsgType.TEXT:
                    msg = await ws.receive(timeout=1)
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert ws.close_code in (1001, None) or ws.closed
            assert srv.ws.conns == {}
            assert srv.ws not in [fn.__self__ for fn in ex.listeners
                                  if hasattr(fn, "__self__")]
    finally:
        await srv.stop()
