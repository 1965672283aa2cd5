"""The simulator's HTTP server: OKX v5 REST under /api/v5, WebSocket under /ws/v5, control
under /sim. One aiohttp application in one event loop around one :class:`SimExchange`.

Every REST request passes, in order: transport faults (5xx), rate limit (50011), signature
check (private), ``exchange.sync()`` (time-driven events), injected delay, the handler, and a
possible drop of the connection after the handler ran (so the client cannot know the outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from laicai.sim.errors import CODES, SimError, err
from laicai.sim.exchange import SimExchange
from laicai.sim.server import rest_private, rest_public
from laicai.sim.server.auth import authenticate
from laicai.sim.server.context import Ctx, Handler
from laicai.sim.server.ratelimit import RateLimiter

log = logging.getLogger(__name__)

API_PREFIX = "/api/v5/"
EXCHANGE_KEY: web.AppKey[SimExchange] = web.AppKey("exchange", SimExchange)
SERVER_KEY: web.AppKey[SimServer] = web.AppKey("server", object)  # type: ignore[arg-type]

PUBLIC = {**rest_public.ROUTES, **rest_private.PUBLIC_ROUTES}
PRIVATE: dict[tuple[str, str], Handler] = {**rest_private.ROUTES,
                                           **rest_public.PRIVATE_READ_ROUTES}


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def envelope(data: list[Any], code: str = "0", msg: str = "", status: int = 200
             ) -> web.Response:
    now_us = str(int(time.time() * 1_000_000))
    body = {"code": code, "data": data, "msg": msg, "inTime": now_us, "outTime": now_us}
    return web.Response(text=_json(body), status=status, content_type="application/json")


def error_response(e: SimError) -> web.Response:
    return envelope([], e.code, e.msg, e.http_status)


class SimServer:
    """Runs the façade on ``host:port`` (port 0 = any free port) until stopped.

    ``sync_interval_s``: how often a background task lets time-driven events happen even
    when no request arrives (funding settles, books move, WebSocket pushes go out).
    """

    def __init__(
        self,
        exchange: SimExchange,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = True,
        sync_interval_s: float = 0.05,
    ) -> None:
        self.exchange = exchange
        self.host = host
        self.port = port
        self.limiter = RateLimiter() if rate_limits else None
        self.sync_interval_s = sync_interval_s
        self.request_count = 0
        self.error_counts: Counter[str] = Counter()  # OKX code -> responses sent with it
        self.server_time_s = 0.0  # CPU time spent inside handlers (benchmarks)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        # Imported lazily: the WebSocket hub builds on the REST app.
        from laicai.sim.server.ws import WsHub

        self.ws = WsHub(self)
        self.ws.install(self.app)
        from laicai.sim.server.control import install as install_control

        install_control(self)

    # ------------------------------------------------------------------ lifecycle
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app[EXCHANGE_KEY] = self.exchange
        app.router.add_route("*", API_PREFIX + "{path:.+}", self._handle_rest)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick_forever(), name="sim-ticker")
        await self.ws.start()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.ws.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval_s)
            try:
                self.exchange.sync()
            except Exception:  # the ticker must outlive a bad event; log it loudly
                log.exception("simulator sync failed")

    # ------------------------------------------------------------------ addresses
    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws/v5"

    def ccxt_urls(self) -> dict[str, str]:
        """What to put in ``exchange.urls['api']`` for ccxt / ccxt.pro to talk to us."""
        return {"rest": self.rest_url, "ws": self.ws_url}

    # ------------------------------------------------------------------ REST
    def _error(self, e: SimError) -> web.Response:
        self.error_counts[e.code] += 1
        return error_response(e)

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info["path"].rstrip("/")
        method = request.method
        key = (method, endpoint)
        faults = self.exchange.faults
        if faults.faults:
            f5 = faults.take("http_5xx", endpoint=endpoint, method=method)
            if f5 is not None:
                return envelope([], "50001", CODES["50001"][0], f5.http_status)
        is_public = key in PUBLIC
        handler = PUBLIC.get(key) or PRIVATE.get(key)
        if handler is None:
            return envelope([], "404", f"Not Found: {method} {API_PREFIX}{endpoint}", 404)
        item_coded = method == "POST" and endpoint in rest_private.ITEM_CODED
        raw_body = await request.text() if method != "GET" else ""
        try:
            body = json.loads(raw_body) if raw_body else None
        except json.JSONDecodeError:
            return self._error(err("50002", "JSON syntax error"))
        identity = request.headers.get("OK-ACCESS-KEY") or (request.remote or "?")
        if self.limiter is not None:
            cost = len(body) if isinstance(body, list) else 1
            if not self.limiter.allow(endpoint, identity, int(time.monotonic() * 1000), cost):
                return self._error(err("50011"))
        started = time.process_time()
        try:
            ctx = Ctx(self.exchange, endpoint, dict(request.query), body)
            if not is_public:
                path_qs = request.raw_path
                ctx.account, ctx.api_key = authenticate(
                    self.exchange, request.headers, method, path_qs, raw_body)
                perms = ctx.api_key.perm.split(",")
                if endpoint in rest_private.TRADE_PERM and "trade" not in perms:
                    raise err("50120")
            self.exchange.sync()
            self.request_count += 1
            if faults.faults:
                fd = faults.take("delay", endpoint=endpoint, method=method)
                if fd is not None:
                    self.server_time_s += time.process_time() - started
                    await asyncio.sleep(fd.delay_ms / 1000)
                    started = time.process_time()
                    self.exchange.sync()
                if not item_coded:
                    fr = faults.take("reject", endpoint=endpoint, inst_id=ctx.param("instId"),
                                     method=method)
                    if fr is not None:
                        raise err(fr.code, fr.msg)
            data = handler(ctx)
        except SimError as e:
            self.server_time_s += time.process_time() - started
            return self._error(e)
        if faults.faults:
            fdrop = faults.take("drop_after_accept", endpoint=endpoint,
                                 method=method)
            if fdrop is not None:
                self.server_time_s += time.process_time() - started
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("simulated connection drop after accept")
        if item_coded:
            failed = sum(1 for d in data if d.get("sCode") != "0")
            for d in data:
                if d.get("sCode") != "0":
                    self.error_counts[str(d.get("sCode"))] += 1
            if failed == len(data):
                resp = envelope(data, "1", "All operations failed")
            elif failed:
                resp = envelope(data, "2", "Bulk operation partially succeeded")
            else:
                resp = envelope(data)
        else:
            resp = envelope(data)
        self.server_time_s += time.process_time() - started
        return resp


# ---------------------------------------------------------------------- standalone
def build_exchange(scenario: str, seed: int | None, speed: float, manual_clock: bool = False
                   ) -> tuple[SimExchange, Any]:
    """The exchange for a scenario name or file, on a clock running at ``speed`` (or on a
    manual clock that only /sim/clock moves)."""
    from laicai.sim.clock import Clock, ManualClock, ScaledClock
    from laicai.sim.scenario import load_scenario

    sc = load_scenario(scenario)
    setup = sc.build(seed=seed)
    clock: Clock = (ManualClock(setup.start_ms) if manual_clock
                    else ScaledClock(speed=speed, start_ms=setup.start_ms))
    ex = SimExchange(
        clock=clock,
        plan=setup.plan,
        instruments=setup.instruments,
        accounts=[a.to_setup() for a in setup.accounts],
        seed=setup.seed,
    )
    return ex, setup


@contextlib.asynccontextmanager
async def running(exchange: SimExchange, **kw: Any) -> AsyncIterator[SimServer]:
    server = SimServer(exchange, **kw)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def serve(*, scenario: str = "calm", host: str = "127.0.0.1", port: int = 18080,
          speed: float = 1.0, seed: int | None = None, manual_clock: bool = False) -> None:
    """Run the simulator until interrupted, printing how to point ccxt at it."""
    from rich.console import Console

    console = Console(soft_wrap=True)
    ex, setup = build_exchange(scenario, seed, speed, manual_clock)

    async def main() -> None:
        async with running(ex, host=host, port=port) as server:
            acct = setup.accounts[0]
            swaps = sorted(i for i, x in ex.instruments.items() if x.is_swap)
            console.print(f"[bold green]laicai sim[/] scenario [bold]{scenario}[/] "
                          f"seed {setup.seed} "
                          f"{'manual clock' if manual_clock else f'speed x{speed:g}'}: "
                          f"{len(ex.instruments)} "
                          f"instruments ({len(swaps)} swaps)")
            console.print(f"REST      {server.rest_url}/api/v5/...")
            console.print(f"WebSocket {server.ws_url}/public | /private | /business")
            console.print(f"Control   {server.rest_url}/sim/state (see docs/simulator.md)")
            console.print("Point ccxt at it:")
            console.print(
                f"  ex = ccxt.okx({{'apiKey': {acct.api_key!r}, 'secret': "
                f"{acct.secret_key!r}, 'password': {acct.passphrase!r}}})\n"
                f"  ex.urls['api'] = {{'rest': {server.rest_url!r}, 'ws': {server.ws_url!r}}}",
                highlight=False, markup=False)
            console.print("Ctrl-C to stop.")
            await asyncio.Event().wait()  # until interrupted

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
