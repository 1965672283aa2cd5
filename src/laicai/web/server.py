"""Serve the dashboard with uvicorn as a task of the bot's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator, Iterable
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from laicai.config.schema import Settings
from laicai.engine.operator import Operator
from laicai.errors import LaicaiError
from laicai.web.app import create_app
from laicai.web.metrics import MetricsCollector
from laicai.web.security import check_bind

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 10.0
GRACEFUL_SHUTDOWN_S = 3


class WebServerError(LaicaiError):
    """The dashboard could not listen (address in use, unknown host) or died."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside someone else's loop: the bot, not uvicorn, owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise WebServerError(f"web.host {host!r} cannot be resolved: {e}") from e
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise WebServerError(f"the dashboard cannot listen on {host}:{port}: {e}") from e
    sock.setblocking(False)
    return sock


class WebServer:
    """The dashboard of one bot: ``await start()`` in the bot's loop, ``await stop()`` on exit
    (or ``async with``). ``port=0`` picks a free port, readable as :attr:`port` once started.

    Refuses (:class:`~laicai.errors.ConfigError`) a non-loopback ``host`` without a token.
    """

    def __init__(
        self,
        operator: Operator,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        token: str | None = None,
        metrics: MetricsCollector | None = None,
        secrets: Iterable[str] = (),
        log_level: str = "warning",
    ) -> None:
        check_bind(host, token)
        self.host = host
        self._port = port
        self.app: FastAPI = create_app(operator, token=token, host=host, metrics=metrics,
                                       secrets=secrets)
        self._log_level = log_level
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, operator: Operator, settings: Settings, *,
                      metrics: MetricsCollector | None = None,
                      port: int | None = None) -> WebServer:
        """``web.host``/``web.port`` (``port`` overrides it: 0 for any free port),
        ``LAICAI_WEB_TOKEN``; every configured secret is scrubbed from responses."""
        token = settings.secrets.web_token
        return cls(operator, host=settings.web.host,
                   port=settings.web.port if port is None else port,
                   token=token.get_secret_value() if token is not None else None,
                   metrics=metrics, secrets=settings.secrets.plain_values())

    @property
    def metrics(self) -> MetricsCollector:
        collector: MetricsCollector = self.app.state.laicai_web.metrics
        return collector

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with 0 and started)."""
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The serving task, for the bot to watch (it ends only on stop or a crash)."""
        return self._task

    async def start(self) -> None:
        if self._task is not None:
            raise WebServerError("the dashboard is already started")
        sock = _bind(self.host, self._port)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, log_level=self._log_level,
                                access_log=False, lifespan="on", proxy_headers=False,
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        server = _EmbeddedServer(config)
        self._server = server
        self._task = asyncio.create_task(self._serve(server, sock), name="laicai-web")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_S
        while not server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise WebServerError("the dashboard stopped while starting")
            if loop.time() > deadline:
                await self.stop()
                raise WebServerError(f"the dashboard did not start within {STARTUP_TIMEOUT_S} s")
            await asyncio.sleep(0.01)
        log.info("dashboard listening on %s", self.url)

    async def _serve(self, server: _EmbeddedServer, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as e:  # uvicorn exits the process when start-up fails
            raise WebServerError(f"the dashboard failed to start on {self.url} (see the log)"
                                 ) from e
        finally:
            sock.close()

    async def stop(self) -> None:
        """End open event streams, stop accepting, finish in-flight requests."""
        server, task = self._server, self._task
        if server is None or task is None:
            return
        self.app.state.laicai_web.closing.set()
        server.should_exit = True
        try:
            done, _ = await asyncio.wait({task}, timeout=GRACEFUL_SHUTDOWN_S + 5)
            if not done:
                log.error("the dashboard did not stop in time: cancelling it")
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif not task.cancelled() and task.exception() is not None:
                log.error("the dashboard had stopped with an error: %r", task.exception())
        finally:
            self._server = None
            self._task = None

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()
