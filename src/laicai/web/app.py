"""Build the dashboard's ASGI app around an :class:`~laicai.engine.operator.Operator`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from laicai import __version__
from laicai.engine.operator import Operator
from laicai.errors import LaicaiError
from laicai.web import api, controls, pages, stream
from laicai.web.context import WebContext
from laicai.web.metrics import MetricsCollector
from laicai.web.middleware import HostCheck, SecretScrubber, SecurityHeaders
from laicai.web.security import AccessPolicy

log = logging.getLogger(__name__)

DESCRIPTION = """The operator's view of a laicai bot and its controls.

Every amount is an exact decimal sent as a string. Controls need `Authorization: Bearer <token>`
(`LAICAI_WEB_TOKEN`); on a non-loopback address every request does (Bearer, or HTTP Basic with
the token as password), except `/healthz`. Live events: `GET /api/events` (Server-Sent Events).
"""


async def _feed_metrics(operator: Operator, metrics: MetricsCollector) -> None:
    sub = operator.subscribe()
    try:
        while True:
            metrics.observe(await sub.get())
    finally:
        sub.close()


def create_app(
    operator: Operator,
    *,
    token: str | None,
    host: str,
    registry: CollectorRegistry | None = None,
    metrics: MetricsCollector | None = None,
    secrets: Iterable[str] = (),
) -> FastAPI:
    """The dashboard for ``operator``, to be served on ``host``.

    ``token`` is ``LAICAI_WEB_TOKEN`` (None: controls are refused, and only a loopback ``host``
    is accepted: :class:`~laicai.errors.ConfigError` otherwise). ``metrics`` (or a new
    collector in ``registry``, or in a registry of its own) backs ``/metrics``; while the app
    runs (lifespan), it counts every event of ``operator.subscribe()``. ``secrets`` (with the
    token) are scrubbed from every response.
    """
    policy = AccessPolicy(host=host, token=token or None)
    collector = metrics if metrics is not None else MetricsCollector(registry)
    ctx = WebContext(operator=operator, policy=policy, metrics=collector)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ctx.closing.clear()
        feeder = asyncio.create_task(_feed_metrics(operator, collector),
                                     name="laicai-web-metrics")
        try:
            yield
        finally:
            ctx.closing.set()
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder

    app = FastAPI(title="laicai dashboard", version=__version__, description=DESCRIPTION,
                  openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.laicai_web = ctx
    for router in (pages.open_router, pages.router, api.router, controls.router, stream.router):
        app.include_router(router)

    @app.exception_handler(LaicaiError)
    async def laicai_error(_: Request, exc: LaicaiError) -> JSONResponse:
        log.error("dashboard request failed: %s", exc)
        return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"}, status_code=500)

    # Added innermost first: the scrubber is outermost and sees every body that leaves.
    app.add_middleware(HostCheck, policy=policy)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SecretScrubber, secrets=[*secrets, *([token] if token else [])])
    return app
