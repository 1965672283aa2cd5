"""OKX v5 WebSocket for the simulator: ``/ws/v5/public``, ``/ws/v5/private`` and
``/ws/v5/business``, spoken the way the unmodified ccxt.pro ``okx`` client expects.

Protocol (per OKX's docs): text ``ping`` -> ``pong``; ``{"op": "subscribe" | "unsubscribe",
"args": [...]}`` answered per arg with an ``event`` (or an ``error`` with OKX's 6xxxx code);
``{"op": "login", ...}`` verified with the account's real secret; pushes ``{"arg", "data"}``.

Public channels: ``books`` (400-level snapshot, then diffs with ``seqId``/``prevSeqId``),
``books-l2-tbt`` / ``books50-l2-tbt`` (same, after login, VIP5 / VIP4 fee tier), ``books5``,
``bbo-tbt``, ``tickers``, ``mark-price``, ``funding-rate``. Private channels (after login):
``orders``, ``positions``, ``account``, ``balance_and_position``.

What moves the pushes: a background task polls the subscribed books and prices every
``poll_interval_s`` (calling ``exchange.book()`` so books follow the clock), and a listener on
the exchange's events flushes book, order, position and balance changes on the next turn of
the event loop (the listener only queues: it runs inside request handlers). Every connection
writes through its own bounded queue; one that falls too far behind is dropped, as OKX does
(close code 4005), so a slow consumer never stalls the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from laicai.sim.account import Account, Fill
from laicai.sim.errors import SimError
from laicai.sim.exchange import SimEvent
from laicai.sim.server import ws_push
from laicai.sim.server.auth import ws_login_ok
from laicai.sim.server.views import balance
from laicai.sim.server.ws_books import BOOK_CHANNELS, BookFeed
from laicai.sim.server.ws_push import PrivateSub

if TYPE_CHECKING:
    from laicai.sim.server.app import SimServer

log = logging.getLogger(__name__)

PATHS = ("public", "private", "business")
WS_PREFIX = "/ws/v5/"
# Backlog per connection (beyond what the socket and transport already hold) past which the
# consumer is too slow and is dropped with close code 4005, as OKX does.
MAX_QUEUE_MSGS = 10_000
MAX_QUEUE_BYTES = 16 * 1024 * 1024
WRITE_HIGH = 256 * 1024  # bytes the transport may hold before messages wait in our queue
REGULAR_PUSH_S = 5.0  # positions / account snapshots when no updateInterval is given
MARK_PX_IDLE_S = 10.0  # OKX pushes an unchanged mark price every 10 s
FUNDING_IDLE_S = 30.0  # ... and the funding rate every 30-90 s
BUSINESS_ONLY = ("trades-all", "orders-algo", "algo-advance", "deposit-info",
                 "withdrawal-info", "sprd-tickers")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed RFC 6455 text frame (what a server sends), built once and
    shared by every connection the message goes to."""
    data = text.encode()
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + data
    return b"\x81\x7f" + n.to_bytes(8, "big") + data


PONG = text_frame("pong")


class WsConn:
    """One WebSocket client: its subscriptions, login and outgoing queue.

    Messages are written straight to the transport (no task switch per message) while it
    keeps up; once the socket is backed up past ``WRITE_HIGH`` they wait in ``queue`` for the
    writer task, and a queue past ``MAX_QUEUE_MSGS`` / ``MAX_QUEUE_BYTES`` drops the
    connection. The WebSocket is opened without compression, so plain frames are valid and
    aiohttp only ever writes control frames (pong, close) on it itself.
    """

    def __init__(self, hub: WsHub, ws: web.WebSocketResponse, request: web.Request, path: str,
                 conn_id: str) -> None:
        self.hub = hub
        self.ws = ws
        self.request = request
        self.transport = request.transport
        self.path = path
        self.conn_id = conn_id
        self.account: Account | None = None
        self.fee_tier = ""
        self.public: dict[tuple[str, ...], tuple[str, str]] = {}  # key -> (channel, instId)
        self.private: dict[tuple[str, ...], PrivateSub] = {}
        self.queue: deque[tuple[bytes, bool]] = deque()
        self.queued_bytes = 0
        self.wake = asyncio.Event()
        self.closed = False
        self.writer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<WsConn {self.conn_id} {self.path}>"

    # ------------------------------------------------------------------ output
    def send(self, frame: bytes, book_update: bool = False) -> None:
        """Send one frame (see :func:`text_frame`)."""
        if self.closed:
            return
        transport = self.transport
        if not self.queue and transport is not None and (
                transport.get_write_buffer_size() < WRITE_HIGH):
            if transport.is_closing():
                self.closed = True
                return
            transport.write(frame)
            hub = self.hub
            hub.messages_sent += 1
            if book_update:
                hub.book_updates_sent += 1
            return
        self.queue.append((frame, book_update))
        self.queued_bytes += len(frame)
        if len(self.queue) > MAX_QUEUE_MSGS or self.queued_bytes > MAX_QUEUE_BYTES:
            self.hub.slow_drops += 1
            log.warning("WebSocket %s fell %d messages behind: dropping it", self.conn_id,
                        len(self.queue))
            self.hub.close_later(self, 4005, "Buffer is full, cannot write data")
            return
        self.wake.set()

    def send_obj(self, obj: dict[str, Any]) -> None:
        self.send(text_frame(_dumps(obj)))

    def event(self, event: str, req_id: Any, **fields: Any) -> None:
        msg: dict[str, Any] = {"id": req_id} if req_id is not None else {}
        msg["event"] = event
        msg.update(fields)
        msg["connId"] = self.conn_id
        self.send_obj(msg)

    def error(self, code: str, msg: str, req_id: Any = None) -> None:
        self.event("error", req_id, code=code, msg=msg)

    async def write_loop(self) -> None:
        """Drain the backlog into the transport as fast as the socket takes it."""
        queue = self.queue
        hub = self.hub
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while queue:
                    transport = self.transport
                    if transport is None or transport.is_closing():
                        self.closed = True
                        return
                    if transport.get_write_buffer_size() >= WRITE_HIGH:
                        await asyncio.sleep(0.001)  # a slow reader: let the socket drain
                        continue
                    parts: list[bytes] = []
                    size = books = 0
                    while queue and size < WRITE_HIGH:
                        frame, book = queue.popleft()
                        parts.append(frame)
                        size += len(frame)
                        books += book
                    self.queued_bytes -= size
                    transport.write(b"".join(parts))  # one syscall for the lot
                    hub.messages_sent += len(parts)
                    hub.book_updates_sent += books
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the peer went away mid-write: the reader will notice
            log.debug("WebSocket %s write failed: %s", self.conn_id, e)
            self.closed = True

    # ------------------------------------------------------------------ closing
    def abort(self) -> None:
        """Cut the connection without a close frame (a network drop)."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int, reason: str) -> None:
        self.closed = True
        if self.writer is not None:
            self.writer.cancel()
        if self.ws.closed:
            return
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), 2.0)
        except asyncio.CancelledError:
            self.abort()
            raise
        except Exception:  # no close handshake within the time: cut it
            self.abort()


class _SimpleFeed:
    """Subscribers of one non-book public channel of one instrument."""

    __slots__ = ("arg", "key", "last_push", "subs")

    def __init__(self, channel: str, inst_id: str) -> None:
        self.subs: dict[WsConn, None] = {}
        self.key: Any = None
        self.last_push = 0.0
        self.arg = '{"arg":{"channel":"' + channel + '","instId":' + json.dumps(inst_id) + "}"

    def frame(self, row: dict[str, Any]) -> bytes:
        return text_frame(self.arg + ',"data":[' + _dumps(row) + "]}")


class _AcctEvents:
    __slots__ = ("ccys", "liquidation", "orders", "positions")

    def __init__(self) -> None:
        self.orders: dict[str, None] = {}
        self.positions: dict[str, None] = {}
        self.ccys: dict[str, None] = {}
        self.liquidation = False


class WsHub:
    """All WebSocket connections of one :class:`SimServer`."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.ex = server.exchange
        self.poll_interval_s: float = float(getattr(server, "ws_poll_interval_s", 0.1))
        self.conns: dict[WsConn, None] = {}
        self.books: dict[str, BookFeed] = {}
        self.simple: dict[str, dict[str, _SimpleFeed]] = {c: {} for c in
                                                          ws_push.PUBLIC_CHANNELS}
        self.private: dict[str, dict[WsConn, None]] = {}  # account name -> subscribers
        self.messages_sent = 0
        self.book_updates_sent = 0
        self.slow_drops = 0
        self.fault_drops = 0
        self.logins = 0
        self._n_conns = 0
        self._pending: list[SimEvent] = []
        self._dirty_books: set[str] = set()
        self._flush_scheduled = False
        self._fill_ptr: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._poller: asyncio.Task[None] | None = None
        self._closers: set[asyncio.Task[None]] = set()
        self._running = False

    # ------------------------------------------------------------------ lifecycle
    def install(self, app: web.Application) -> None:
        for path in PATHS:
            app.router.add_get(WS_PREFIX + path, self._handler(path))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._fill_ptr = {n: len(a.fills) for n, a in self.ex.accounts.items()}
        self._running = True
        if self._on_event not in self.ex.listeners:
            self.ex.listeners.append(self._on_event)
        self._poller = asyncio.create_task(self._poll_forever(), name="sim-ws-poll")

    async def stop(self) -> None:
        self._running = False
        if self._on_event in self.ex.listeners:
            self.ex.listeners.remove(self._on_event)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        conns = list(self.conns)
        await asyncio.gather(*(c.close(1001, "Server shutting down") for c in conns),
                             return_exceptions=True)
        for t in list(self._closers):
            t.cancel()
        await asyncio.gather(*self._closers, return_exceptions=True)
        writers = [c.writer for c in conns if c.writer is not None]
        for w in writers:
            w.cancel()
        await asyncio.gather(*writers, return_exceptions=True)

    def stats(self) -> dict[str, Any]:
        per_path = dict.fromkeys(PATHS, 0)
        subs: dict[str, int] = {}
        logged_in = 0
        for c in self.conns:
            per_path[c.path] = per_path.get(c.path, 0) + 1
            logged_in += c.account is not None
            for ch, _ in c.public.values():
                subs[ch] = subs.get(ch, 0) + 1
            for sub in c.private.values():
                subs[sub.channel] = subs.get(sub.channel, 0) + 1
        return {
            "connections": per_path, "loggedIn": logged_in,
            "subscriptions": dict(sorted(subs.items())),
            "messagesSent": self.messages_sent, "bookUpdatesSent": self.book_updates_sent,
            "queued": sum(len(c.queue) for c in self.conns), "slowDrops": self.slow_drops,
            "faultDrops": self.fault_drops, "logins": self.logins,
            "pollIntervalS": self.poll_interval_s,
        }

    async def drop(self, channel: str | None) -> int:
        """Cut every connection on ``/ws/v5/<channel>`` (all of them for None), as a network
        drop would: no close frame. Returns how many were cut."""
        return self._drop_now(channel)

    async def apply_faults(self) -> int:
        """Fire an armed ``ws_drop`` fault now (the control API calls this when one is
        added; the poller checks every tick). Returns how many connections were cut."""
        return self._check_faults()

    def close_later(self, conn: WsConn, code: int, reason: str) -> None:
        conn.closed = True
        if self._loop is None:
            return
        task = self._loop.create_task(conn.close(code, reason))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def _drop_now(self, channel: str | None) -> int:
        victims = [c for c in self.conns if channel is None or c.path == channel]
        for c in victims:
            c.abort()
        self.fault_drops += len(victims)
        return len(victims)

    def _check_faults(self) -> int:
        faults = self.ex.faults
        if not faults.faults or not faults.has("ws_drop"):
            return 0
        f = faults.take("ws_drop")
        if f is None:
            return 0
        if f.channel not in (None, *PATHS):
            log.warning("ws_drop fault %s names unknown channel %r", f.id, f.channel)
            return 0
        return self._drop_now(f.channel)

    # ------------------------------------------------------------------ connections
    def _handler(self, path: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, path)
        return handle

    async def _serve(self, request: web.Request, path: str) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, autoping=True, timeout=2.0,
                                   max_msg_size=1024 * 1024)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade expected")
        await ws.prepare(request)
        self._n_conns += 1
        conn_id = f"{(self._n_conns * 0x9E3779B1 + 0x5A17C0DE) & 0xFFFFFFFF:08x}"
        conn = WsConn(self, ws, request, path, conn_id)
        self.conns[conn] = None
        conn.writer = asyncio.create_task(conn.write_loop(), name=f"sim-ws-{conn_id}")
        try:
            if not self._running:
                await conn.close(1001, "Server shutting down")
                return ws
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        self._on_text(conn, msg.data)
                    except Exception:  # a bug must not kill the connection silently
                        log.exception("WebSocket %s: handling %r failed", conn_id,
                                      msg.data[:200])
                        conn.error("60012", "Invalid request: " + msg.data[:1000])
                elif msg.type is WSMsgType.BINARY:
                    conn.error("60012", "Invalid request: binary frame")
                if conn.closed:
                    break
        except ConnectionError:
            pass
        finally:
            self._forget(conn)
            conn.closed = True
            if conn.writer is not None:
                conn.writer.cancel()
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2.0)
        return ws

    def _forget(self, conn: WsConn) -> None:
        self.conns.pop(conn, None)
        for ch, inst_id in conn.public.values():
            feed = self.books.get(inst_id) if ch in BOOK_CHANNELS else None
            if feed is not None:
                feed.remove(ch, conn)
            elif ch in self.simple:
                sf = self.simple[ch].get(inst_id)
                if sf is not None:
                    sf.subs.pop(conn, None)
        conn.public.clear()
        if conn.account is not None:
            subs = self.private.get(conn.account.name)
            if subs is not None:
                subs.pop(conn, None)
        conn.private.clear()

    # ------------------------------------------------------------------ requests
    def _on_text(self, conn: WsConn, text: str) -> None:
        if text == "ping":
            conn.send(PONG)
            return
        try:
            msg = json.loads(text)
        except ValueError:
            conn.error("60012", "Invalid request: " + text[:1000])
            return
        if not isinstance(msg, dict):
            conn.error("60012", "Invalid request: " + text[:1000])
            return
        req_id = msg.get("id")
        op = msg.get("op")
        args = msg.get("args")
        if op == "login":
            self._login(conn, args, req_id, text)
        elif op in ("subscribe", "unsubscribe"):
            if not isinstance(args, list) or not args:
                conn.error("60012", "Invalid request: " + text[:1000], req_id)
                return
            for arg in args:
                if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
                    conn.error("60012", "Invalid request: " + text[:1000], req_id)
                elif op == "subscribe":
                    self._subscribe(conn, arg, req_id)
                else:
                    self._unsubscribe(conn, arg, req_id)
        elif not isinstance(op, str) or not op:
            conn.error("60012", "Invalid request: " + text[:1000], req_id)
        else:
            conn.error("60019", f"Invalid op: {op}", req_id)

    def _login(self, conn: WsConn, args: Any, req_id: Any, text: str) -> None:
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            conn.error("60012", "Invalid request: " + text[:1000], req_id)
            return
        fields = {str(k): "" if v is None else str(v) for k, v in args[0].items()}
        try:
            acct, _key = ws_login_ok(self.ex, fields)
        except SimError as e:
            if e.code == "50111":
                conn.error("60005", "Invalid OK-ACCESS-KEY", req_id)
            else:
                conn.error(e.code, e.msg, req_id)
            return
        if conn.account is not None and conn.account is not acct:
            conn.error("60031", "The WebSocket endpoint does not allow multiple or repeated "
                       "logins.", req_id)
            return
        conn.account = acct
        conn.fee_tier = acct.fee_tier
        self.logins += 1
        conn.event("login", req_id, code="0", msg="")

    @staticmethod
    def _key(arg: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(arg.get(k) or "") for k in
                     ("channel", "instId", "instType", "instFamily", "ccy"))

    def _subscribe(self, conn: WsConn, arg: dict[str, Any], req_id: Any) -> None:
        channel: str = arg["channel"]
        inst_id = str(arg.get("instId") or "")
        is_book = channel in BOOK_CHANNELS
        is_public = is_book or channel in ws_push.PUBLIC_CHANNELS
        is_private = channel in ws_push.PRIVATE_CHANNELS
        if (channel.startswith("candle") or channel.startswith("mark-price-candle")
                or channel in BUSINESS_ONLY) and conn.path != "business":
            conn.error("64001", "This channel has been migrated to the '/business' URL. "
                       "Please subscribe using the new URL.", req_id)
            return
        if (is_public or is_private) and conn.path == "business":
            conn.error("64002", 'This channel is not supported by "/business" URL. Please use '
                       '"/private" URL(for private channels), or "/public" URL(for public '
                       "channels).", req_id)
            return
        if not (is_public or is_private) or (is_public and conn.path != "public") or (
                is_private and conn.path != "private"):
            conn.error("60018", self._no_such(arg), req_id)
            return
        if is_public:
            if not inst_id:
                conn.error("60027", "Parameter instId can not be empty.", req_id)
                return
            inst = self.ex.instruments.get(inst_id)
            if inst is None or (channel == "funding-rate" and not inst.is_swap):
                conn.error("60018", self._no_such(arg), req_id)
                return
            if channel in ("books-l2-tbt", "books50-l2-tbt"):
                if conn.account is None:
                    conn.error("60011", "Please log in", req_id)
                    return
                need = 5 if channel == "books-l2-tbt" else 4
                if int(conn.fee_tier.removeprefix("VIP") or 0) < need:
                    conn.error("64003", "Your trading fee tier doesn't meet the requirement to "
                               "access this channel", req_id)
                    return
            if is_book:
                clash = self._tbt_clash(conn, channel, inst_id)
                if clash:
                    conn.error("64004", f"Subscribe to both {clash} and books-l2-tbt for "
                               f"{inst_id} is not allowed. Unsubscribe books-l2-tbt first.",
                               req_id)
                    return
            key = self._key(arg)
            conn.event("subscribe", req_id, arg=arg)
            if key in conn.public:
                return
            conn.public[key] = (channel, inst_id)
            if is_book:
                self._start_book(conn, channel, inst_id)
            else:
                self._start_simple(conn, channel, inst_id)
            return
        # private
        if conn.account is None:
            conn.error("60011", "Please log in", req_id)
            return
        sub = self._private_sub(conn, arg, req_id)
        if sub is None:
            return
        key = self._key(arg)
        conn.event("subscribe", req_id, arg=arg)
        if key in conn.private:
            return
        conn.private[key] = sub
        self.private.setdefault(conn.account.name, {})[conn] = None
        if sub.channel != "orders":
            self._private_snapshot(conn, conn.account, sub)

    def _tbt_clash(self, conn: WsConn, channel: str, inst_id: str) -> str:
        mine = {ch for ch, i in conn.public.values() if i == inst_id}
        if channel == "books-l2-tbt":
            for other in ("books", "books50-l2-tbt"):
                if other in mine:
                    return other
        elif channel in ("books", "books50-l2-tbt") and "books-l2-tbt" in mine:
            return channel
        return ""

    @staticmethod
    def _no_such(arg: dict[str, Any]) -> str:
        what = ",".join(f"{k}:{v}" for k, v in arg.items() if k != "extraParams")
        return (f"Wrong URL or {what} doesn't exist. Please use the correct URL, channel and "
                "parameters referring to API document.")

    def _private_sub(self, conn: WsConn, arg: dict[str, Any], req_id: Any
                     ) -> PrivateSub | None:
        assert conn.account is not None
        channel = arg["channel"]
        inst_type = str(arg.get("instType") or "")
        if channel in ("orders", "positions"):
            allowed = (ws_push.ORDER_INST_TYPES if channel == "orders"
                       else ws_push.POSITION_INST_TYPES)
            if not inst_type:
                conn.error("60027", "Parameter instType can not be empty.", req_id)
                return None
            if inst_type not in allowed:
                conn.error("60018", self._no_such(arg), req_id)
                return None
        inst_id = str(arg.get("instId") or "")
        if inst_id and inst_id not in self.ex.instruments:
            conn.error("60018", self._no_such(arg), req_id)
            return None
        interval: float | None = None
        if channel in ("positions", "account"):
            interval = REGULAR_PUSH_S
            extra = arg.get("extraParams")
            if extra:
                try:
                    ms = int((json.loads(extra) if isinstance(extra, str) else extra)
                             .get("updateInterval"))
                except (ValueError, TypeError, AttributeError):
                    ms = -1
                if ms == 0:
                    interval = None
                elif channel == "positions" and ms in (2000, 3000, 4000):
                    interval = ms / 1000
        push_arg = {k: str(v) for k, v in arg.items() if k != "extraParams"}
        push_arg["uid"] = conn.account.uid
        loop_now = asyncio.get_running_loop().time()
        return PrivateSub(
            channel=channel, arg=push_arg, inst_type=inst_type,
            inst_family=str(arg.get("instFamily") or ""), inst_id=inst_id,
            ccy=str(arg.get("ccy") or ""), interval_s=interval,
            next_regular=loop_now + (interval or 0),
        )

    def _unsubscribe(self, conn: WsConn, arg: dict[str, Any], req_id: Any) -> None:
        key = self._key(arg)
        pub = conn.public.pop(key, None)
        if pub is not None:
            ch, inst_id = pub
            feed = self.books.get(inst_id) if ch in BOOK_CHANNELS else None
            if feed is not None:
                feed.remove(ch, conn)
            elif ch in self.simple:
                sf = self.simple[ch].get(inst_id)
                if sf is not None:
                    sf.subs.pop(conn, None)
        if conn.private.pop(key, None) is not None and not conn.private and conn.account:
            self.private.get(conn.account.name, {}).pop(conn, None)
        conn.event("unsubscribe", req_id, arg=arg)

    # ------------------------------------------------------------------ public pushes
    def _start_book(self, conn: WsConn, channel: str, inst_id: str) -> None:
        feed = self.books.get(inst_id)
        if feed is None:
            feed = self.books[inst_id] = BookFeed(inst_id)
        book = self.ex.book(inst_id)  # lets a due rebuild happen first
        self._refresh_book(feed, self.ex.clock.now_ms())
        conn.send(text_frame(feed.start(channel, book)))
        feed.add(channel, conn)

    def _refresh_book(self, feed: BookFeed, now_ms: int) -> None:
        book = self.ex.books.get(feed.inst_id)
        if book is None:
            return
        for ch, text, update in feed.refresh(book, now_ms):
            subs = feed.subs.get(ch)
            if not subs:
                continue
            frame = text_frame(text)
            for c in list(subs):
                c.send(frame, update)

    def _simple_row(self, channel: str, inst_id: str) -> dict[str, Any]:
        if channel == "tickers":
            return ws_push.ticker(self.ex, inst_id)
        if channel == "mark-price":
            return ws_push.mark_price(self.ex, inst_id)
        return ws_push.funding_rate(self.ex, inst_id)

    def _simple_key(self, channel: str, inst_id: str, row: dict[str, Any] | None) -> Any:
        if channel == "tickers":
            return ws_push.ticker_key(self.ex, inst_id)
        if row is None:
            row = self._simple_row(channel, inst_id)
        if channel == "mark-price":
            return row["markPx"]
        return ws_push.funding_key(row)

    def _start_simple(self, conn: WsConn, channel: str, inst_id: str) -> None:
        feeds = self.simple[channel]
        sf = feeds.get(inst_id)
        if sf is None:
            sf = feeds[inst_id] = _SimpleFeed(channel, inst_id)
        self.ex.book(inst_id)
        row = self._simple_row(channel, inst_id)
        if not sf.subs:
            sf.key = self._simple_key(channel, inst_id, row)
            sf.last_push = asyncio.get_running_loop().time()
        conn.send(sf.frame(row))
        sf.subs[conn] = None

    def _push_simple(self, channel: str, inst_id: str, sf: _SimpleFeed, now_t: float,
                     force: bool = False) -> None:
        if channel == "tickers":
            key = self._simple_key(channel, inst_id, None)
            if key == sf.key and not force:
                return
            row = self._simple_row(channel, inst_id)
        else:
            row = self._simple_row(channel, inst_id)
            key = self._simple_key(channel, inst_id, row)
            idle = MARK_PX_IDLE_S if channel == "mark-price" else FUNDING_IDLE_S
            if key == sf.key and not force and now_t - sf.last_push < idle:
                return
        sf.key = key
        sf.last_push = now_t
        frame = sf.frame(row)
        for c in list(sf.subs):
            c.send(frame)

    # ------------------------------------------------------------------ private pushes
    def _private_snapshot(self, conn: WsConn, acct: Account, sub: PrivateSub) -> None:
        now = self.ex.clock.now_ms()
        ex = self.ex
        if sub.channel == "positions":
            data = [ws_push.position_row(ex, acct, p, now) for p in ws_push.live_positions(acct)
                    if sub.matches(ex.instruments[p.inst_id])]
            conn.send_obj({"arg": sub.arg, "eventType": "snapshot", "curPage": 1,
                           "lastPage": True, "data": data})
        elif sub.channel == "account":
            conn.send_obj({"arg": sub.arg, "eventType": "snapshot", "curPage": 1,
                           "lastPage": True,
                           "data": [balance(ex, acct, {sub.ccy} if sub.ccy else None)]})
        elif sub.channel == "balance_and_position":
            conn.send_obj({"arg": sub.arg, "data": [ws_push.bp_snapshot(ex, acct, now)]})

    def _flush_private(self, per_acct: dict[str, _AcctEvents], funding: bool) -> None:
        ex = self.ex
        now = ex.clock.now_ms()
        for name, evs in per_acct.items():
            acct = ex.accounts.get(name)
            if acct is None:
                continue
            ptr = self._fill_ptr.get(name, 0)
            new_fills = acct.fills[ptr:]
            self._fill_ptr[name] = len(acct.fills)
            conns = self.private.get(name)
            if not conns:
                continue
            by_order: dict[str, list[Fill]] = {}
            for f in new_fills:
                by_order.setdefault(f.ord_id, []).append(f)
            order_rows: list[tuple[Any, str, dict[str, Any]]] | None = None
            pos_rows: dict[str, dict[str, Any]] | None = None
            balances: dict[str, dict[str, Any]] = {}
            bp: dict[str, Any] | None = None
            for conn in list(conns):
                for sub in list(conn.private.values()):
                    ch = sub.channel
                    if ch == "orders" and evs.orders:
                        if order_rows is None:
                            order_rows = []
                            for oid in evs.orders:
                                o = acct.orders.get(oid)
                                if o is None or o.inst_id not in ex.instruments:
                                    continue
                                inst = ex.instruments[o.inst_id]
                                for r in ws_push.order_rows(ex, acct, o,
                                                            by_order.get(oid, ())):
                                    order_rows.append((inst, o.td_mode, r))
                        rows = [r for inst, td, r in order_rows if sub.matches(inst, td)]
                        if rows:
                            conn.send_obj({"arg": sub.arg, "data": rows})
                    elif ch == "positions" and evs.positions:
                        if pos_rows is None:
                            pos_rows = {}
                            for inst_id in evs.positions:
                                p = acct.positions.get(inst_id)
                                if p is not None and inst_id in ex.instruments:
                                    pos_rows[inst_id] = ws_push.position_row(ex, acct, p, now)
                        rows = [r for i, r in pos_rows.items()
                                if sub.matches(ex.instruments[i])]
                        if rows:
                            conn.send_obj({"arg": sub.arg, "eventType": "event_update",
                                           "data": rows})
                    elif ch == "account" and evs.ccys:
                        if sub.ccy and sub.ccy not in evs.ccys:
                            continue
                        bal = balances.get(sub.ccy)
                        if bal is None:
                            bal = balances[sub.ccy] = balance(
                                ex, acct, {sub.ccy} if sub.ccy else None)
                        conn.send_obj({"arg": sub.arg, "eventType": "event_update",
                                       "data": [bal]})
                    elif ch == "balance_and_position" and (evs.ccys or evs.positions):
                        if bp is None:
                            if evs.liquidation:
                                kind = "liquidation"
                            elif new_fills:
                                kind = "filled"
                            elif funding:
                                kind = "funding_fee"
                            elif evs.positions:
                                kind = "adjust_margin"
                            else:
                                kind = "transferred"
                            positions = [acct.positions[i] for i in evs.positions
                                         if i in acct.positions]
                            bp = ws_push.balance_and_position(ex, acct, kind, list(evs.ccys),
                                                              positions, new_fills, now)
                        conn.send_obj({"arg": sub.arg, "data": [bp]})

    def _regular_pushes(self, now_t: float) -> None:
        for name, conns in self.private.items():
            acct = self.ex.accounts.get(name)
            if acct is None:
                continue
            for conn in list(conns):
                for sub in list(conn.private.values()):
                    if sub.interval_s is not None and now_t >= sub.next_regular:
                        sub.next_regular = now_t + sub.interval_s
                        self._private_snapshot(conn, acct, sub)

    # ------------------------------------------------------------------ events
    def _on_event(self, ev: SimEvent) -> None:
        """Exchange listener: runs synchronously inside request handlers, so only queue."""
        if not self._running:
            return
        if ev.kind == "book":
            self._dirty_books.add(ev.key)
        else:
            self._pending.append(ev)
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            if threading.get_ident() == self._thread:
                self._loop.call_soon(self._flush)
            else:
                self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._running:
            return
        try:
            self._flush_events()
        except Exception:
            log.exception("WebSocket push failed")

    def _flush_events(self) -> None:
        events, self._pending = self._pending, []
        dirty, self._dirty_books = self._dirty_books, set()
        ex = self.ex
        per_acct: dict[str, _AcctEvents] = {}
        funding: list[str] = []
        for ev in events:
            kind = ev.kind
            if kind == "funding":
                funding.append(ev.key)
                continue
            if not ev.account:
                continue
            evs = per_acct.get(ev.account)
            if evs is None:
                evs = per_acct[ev.account] = _AcctEvents()
            if kind == "order":
                evs.orders[ev.key] = None
                acct = ex.accounts.get(ev.account)
                o = acct.orders.get(ev.key) if acct is not None else None
                if o is not None:
                    dirty.add(o.inst_id)  # a taker order may have eaten into the book
            elif kind == "position":
                evs.positions[ev.key] = None
            elif kind == "balance":
                evs.ccys[ev.key] = None
            elif kind == "liquidation":
                evs.liquidation = True
                evs.positions[ev.key] = None
        if dirty:
            now = ex.clock.now_ms()
            for inst_id in dirty:
                feed = self.books.get(inst_id)
                if feed is not None and feed.subs:
                    self._refresh_book(feed, now)
        if funding and self.simple["funding-rate"]:
            assert self._loop is not None
            now_t = self._loop.time()
            for inst_id in funding:
                sf = self.simple["funding-rate"].get(inst_id)
                if sf is not None and sf.subs:
                    self._push_simple("funding-rate", inst_id, sf, now_t, force=True)
        if per_acct:
            self._flush_private(per_acct, bool(funding))

    # ------------------------------------------------------------------ poller
    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                self._poll()
            except Exception:  # the poller must outlive a bad tick; log it loudly
                log.exception("WebSocket poll failed")

    def _poll(self) -> None:
        self._check_faults()
        ex = self.ex
        now = ex.clock.now_ms()
        for inst_id, feed in self.books.items():
            if not feed.subs:
                continue
            try:
                ex.book(inst_id)  # books move with the clock only when looked at
            except SimError:
                continue
            self._refresh_book(feed, now)
        assert self._loop is not None
        now_t = self._loop.time()
        for channel, feeds in self.simple.items():
            for inst_id, sf in feeds.items():
                if not sf.subs:
                    continue
                try:
                    if channel == "tickers":
                        ex.book(inst_id)
                    self._push_simple(channel, inst_id, sf, now_t)
                except SimError:
                    continue
        if self.private:
            self._regular_pushes(now_t)
        if self._pending or self._dirty_books:
            self._flush_scheduled = False
            self._flush()
