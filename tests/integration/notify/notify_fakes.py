"""Test doubles for the notification tests: a fake Telegram Bot API server, a DingTalk robot
webhook that verifies signatures, and an Operator that records its calls.

The servers are real HTTP servers (aiohttp on 127.0.0.1, a random port) speaking the JSON
shapes of the real services, so the real clients (python-telegram-bot, httpx) are exercised
end to end.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from laicai.engine.bus import EventBus, Subscription
from laicai.engine.events import PnlBreakdown
from laicai.engine.operator import (
    AlertView,
    CommandResult,
    EquityPoint,
    FundingView,
    HealthView,
    PnlView,
    PositionView,
    ResetView,
    StatusView,
)

TOKEN = "123456789:AAFakeTokenForLaicaiTests_0123456789ab"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "laicai",
    "username": "laicai_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON = dict[str, Any]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _Server:
    """An aiohttp app on a random loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.closing = asyncio.Event()

    async def start(self) -> None:
        sock = _free_socket() if self.port == 0 else self._bind_again()
        self.port = sock.getsockname()[1]
        self.closing.clear()
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def _bind_again(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        return sock

    async def stop(self) -> None:
        """Close the port (clients get "connection refused" until :meth:`start`)."""
        self.closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


# --- Telegram ----------------------------------------------------------------------------


@dataclass
class Sent:
    chat_id: int
    text: str
    reply_markup: JSON | None
    message_id: int


class FakeBotApi(_Server):
    """The Bot API methods python-telegram-bot calls: getMe, sendMessage, getUpdates (long
    polling), deleteWebhook, setMyCommands, answerCallbackQuery, editMessageReplyMarkup,
    editMessageText. Faults: ``rate_limits`` (next sendMessage calls answer 429 with these
    ``retry_after`` values), ``hang`` (sendMessage never answers), :meth:`stop` (port closed).
    """

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, JSON]] = []
        self.send_attempts: list[float] = []
        self.rate_limits: deque[int] = deque()
        self.hang = False
        self.answered_callbacks: list[JSON] = []
        self.edited: list[JSON] = []
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._polling = asyncio.Event()
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- driving it from a test

    def push_command(self, chat_id: int, text: str, *, user_id: int | None = None,
                     username: str = "operator") -> None:
        """A user in ``chat_id`` sends ``text`` (a command when it starts with ``/``)."""
        command = text.split()[0]
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group",
                     **({"title": "ops"} if chat_id < 0 else {"first_name": username})},
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": username,
                     "username": username},
            "text": text,
        }
        if command.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        self._push({"message": message})

    def push_button(self, chat_id: int, data: str, *, message_id: int,
                    user_id: int | None = None) -> None:
        """A user presses an inline button with ``data`` under message ``message_id``."""
        self._push({"callback_query": {
            "id": f"cb{next(self._update_ids)}",
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "operator",
                     "username": "operator"},
            "chat_instance": "ci-1",
            "data": data,
            "message": {"message_id": message_id, "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private", "first_name": "operator"},
                        "from": BOT_USER, "text": "confirm?"},
        }})

    def _push(self, update: JSON) -> None:
        self._updates.append({"update_id": next(self._update_ids), **update})
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_sent(self, count: int, within_s: float = 5.0,
                        chat_id: int | None = None) -> list[Sent]:
        """Wait until at least ``count`` messages were sent (to ``chat_id`` if given)."""

        def matching() -> list[Sent]:
            return [s for s in self.sent if chat_id is None or s.chat_id == chat_id]

        async with asyncio.timeout(within_s), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()

    async def wait_polling(self, within_s: float = 5.0) -> None:
        """Wait until a client is long-polling getUpdates."""
        async with asyncio.timeout(within_s):
            await self._polling.wait()

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]

    # -- the API

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": "Not Found: method not found"}, status=404)
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> JSON:
        if request.content_type == "application/json":
            data: JSON = await request.json()
            return data
        form = await request.post()
        params: JSON = {}
        for key, value in form.items():
            text = str(value)
            if key in ("reply_markup", "allowed_updates", "commands"):
                params[key] = json.loads(text)
            else:
                params[key] = text
        return params

    def _message(self, chat_id: int, text: str, reply_markup: JSON | None = None) -> JSON:
        message: JSON = {"message_id": next(self._message_ids), "date": int(time.time()),
                         "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
                         "text": text}
        if reply_markup:
            message["reply_markup"] = reply_markup
        return message

    async def _m_getMe(self, params: JSON) -> JSON:
        return BOT_USER

    async def _m_deleteWebhook(self, params: JSON) -> bool:
        if str(params.get("drop_pending_updates", "")).lower() in ("true", "1"):
            self._updates.clear()
        return True

    async def _m_setMyCommands(self, params: JSON) -> bool:
        return True

    async def _m_sendMessage(self, params: JSON) -> JSON | web.Response:
        self.send_attempts.append(time.monotonic())
        if self.rate_limits:
            retry_after = self.rate_limits.popleft()
            return web.json_response({
                "ok": False, "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }, status=429)
        if self.hang:
            await self.closing.wait()
            return web.json_response({"ok": False, "error_code": 502,
                                      "description": "Bad Gateway"}, status=502)
        chat_id = int(params["chat_id"])
        if not params.get("text"):
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message text is empty"},
                                     status=400)
        message = self._message(chat_id, params["text"], params.get("reply_markup"))
        self.sent.append(Sent(chat_id, params["text"], params.get("reply_markup"),
                              message["message_id"]))
        await self._notify()
        return message

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._polling.set()
        if not self._updates and timeout > 0:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(
                        lambda: bool(self._updates) or self.closing.is_set())
            except TimeoutError:
                pass
        return list(self._updates)

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        self.answered_callbacks.append(params)
        await self._notify()
        return True

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        self.edited.append(params)
        return self._message(int(params["chat_id"]), "edited", params.get("reply_markup"))

    async def _m_editMessageText(self, params: JSON) -> JSON:
        self.edited.append(params)
        return self._message(int(params["chat_id"]), params["text"], params.get("reply_markup"))

    async def stop(self) -> None:
        self.closing.set()
        await self._notify()
        await super().stop()


# --- DingTalk ----------------------------------------------------------------------------


@dataclass
class DingtalkPost:
    query: dict[str, str]
    raw_query: str
    body: JSON


class FakeDingtalk(_Server):
    """``POST /robot/send``: checks the access token, the timestamp (within an hour) and the
    HMAC-SHA256 signature, answering with DingTalk's errcode/errmsg JSON (HTTP 200)."""

    def __init__(self, access_token: str, secret: str | None) -> None:
        super().__init__()
        self.access_token = access_token
        self.secret = secret
        self.accepted: list[DingtalkPost] = []
        self.rejected: list[tuple[DingtalkPost, int]] = []
        self._changed = asyncio.Condition()
        self.app.router.add_post("/robot/send", self._send)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expected_sign(self, timestamp: str) -> str:
        assert self.secret is not None
        digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(),
                          hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def _verdict(self, query: dict[str, str]) -> tuple[int, str]:
        if query.get("access_token") != self.access_token:
            return 300001, "token is not exist"
        if self.secret is None:
            return 0, "ok"
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
            return 310000, "invalid timestamp"
        # aiohttp has already URL-decoded the query: a sign sent without URL-encoding has
        # lost its '+' characters (decoded as spaces) and does not match.
        if not hmac.compare_digest(sign, self.expected_sign(timestamp)):
            return 310000, "sign not match"
        return 0, "ok"

    async def _send(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        post = DingtalkPost(query, request.rel_url.raw_query_string, await request.json())
        errcode, errmsg = self._verdict(query)
        if errcode == 0:
            self.accepted.append(post)
        else:
            self.rejected.append((post, errcode))
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"errcode": errcode, "errmsg": errmsg})

    async def wait_posts(self, count: int, within_s: float = 5.0) -> None:
        async with asyncio.timeout(within_s), self._changed:
            await self._changed.wait_for(
                lambda: len(self.accepted) + len(self.rejected) >= count)


# --- Operator ----------------------------------------------------------------------------

NOW = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
D = Decimal


def sample_status() -> StatusView:
    return StatusView(state="IDLE", mode="paper", dry_run=False, started_at=NOW,
                      now=NOW.replace(hour=9), equity_usdt=D("20123.45"),
                      peak_equity_usdt=D("20200"), open_positions=1, breaker="ok",
                      last_scan_at=NOW.replace(hour=8, minute=59, second=15),
                      health=HealthView(api_requests=345, api_errors=2, loop_latency_ms=1.5))


def sample_position(position_id: int = 12) -> PositionView:
    return PositionView(
        id=position_id, symbol="BTC", swap_inst_id="BTC-USDT-SWAP", direction="SHORT",
        status="OPEN", base_qty=D("0.15"), notional_usdt=D("9814.82"),
        entry_spot_px=D("65432.1"), entry_perp_px=D("65460"), mark_px=D("66000"),
        margin_ratio=D("0.3123"), margin_level="OK", topup_ratio=D("0.267"),
        reset_ratio=D("0.15"), emergency_ratio=D("0.08"), okx_mgn_ratio=D("9.5"),
        liq_px=D("86000"), liq_distance=D("0.3030"), funding_rate=D("0.0001"),
        breakdown=PnlBreakdown(funding=D("41.25"), earn=D("3.1"), basis=D("-6.4"),
                               fees=D("13.08")),
        earn_amount=D("0.15"), borrowed_amount=D("0"), resets_count=1,
        reset_cost_usdt=D("18.4"), opened_at=NOW)


def sample_pnl() -> PnlView:
    total = PnlBreakdown(funding=D("141.25"), earn=D("9.1"), basis=D("-16.4"), fees=D("33.08"))
    today = PnlBreakdown(funding=D("11.5"), fees=D("1.2"))
    return PnlView(total=total, today=today, realized_usdt=D("77.7"),
                   unrealized_usdt=D("23.17"), equity_usdt=D("20123.45"),
                   start_equity_usdt=D("20000"), closed_positions=4)


def sample_funding() -> list[FundingView]:
    return [
        FundingView("BTC", "BTC-USDT-SWAP", D("0.0001"), 8, NOW, D("0.1095"), True,
                    D("41.25")),
        FundingView("SOL", "SOL-USDT-SWAP", D("0.00025"), 4, None, D("0.5475"), False),
    ]


@dataclass
class RecordingOperator:
    """The Operator protocol over canned views; every call is recorded as (name, args)."""

    status_view: StatusView = field(default_factory=sample_status)
    position_views: list[PositionView] = field(default_factory=lambda: [sample_position()])
    pnl_view: PnlView = field(default_factory=sample_pnl)
    funding_views: list[FundingView] = field(default_factory=sample_funding)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    bus: EventBus = field(default_factory=EventBus)
    fail_with: Exception | None = None
    on_call: Callable[[str], None] | None = None

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.on_call is not None:
            self.on_call(name)
        if self.fail_with is not None:
            raise self.fail_with

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]

    async def status(self) -> StatusView:
        self._record("status")
        return self.status_view

    async def positions(self) -> list[PositionView]:
        self._record("positions")
        return self.position_views

    async def pnl(self) -> PnlView:
        self._record("pnl")
        return self.pnl_view

    async def funding(self, limit: int = 20) -> list[FundingView]:
        self._record("funding", limit)
        return self.funding_views[:limit]

    async def equity_curve(self, limit: int = 500) -> list[EquityPoint]:
        self._record("equity_curve", limit)
        return []

    async def resets(self, limit: int = 50) -> list[ResetView]:
        self._record("resets", limit)
        return []

    async def latest_scan(self) -> dict[str, object] | None:
        self._record("latest_scan")
        return None

    async def alerts(self, limit: int = 50) -> list[AlertView]:
        self._record("alerts", limit)
        return []

    def log_tail(self, lines: int = 100) -> list[str]:
        self._record("log_tail", lines)
        return []

    def subscribe(self) -> Subscription:
        return self.bus.subscribe()

    async def pause(self, by: str, reason: str = "") -> CommandResult:
        self._record("pause", by, reason)
        return CommandResult(True, f"entries paused: {reason}")

    async def resume(self, by: str) -> CommandResult:
        self._record("resume", by)
        return CommandResult(True, "entries resumed")

    async def close_position(self, position_id: int, by: str) -> CommandResult:
        self._record("close_position", position_id, by)
        if position_id != 12:
            return CommandResult(False, f"no open position #{position_id}")
        return CommandResult(True, f"closing #{position_id}")

    async def close_all(self, by: str) -> CommandResult:
        self._record("close_all", by)
        return CommandResult(True, "closing 1 position")


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
