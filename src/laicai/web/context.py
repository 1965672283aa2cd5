"""What every route of one dashboard shares, and the access dependencies built on it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from laicai.engine.operator import Operator
from laicai.web.metrics import MetricsCollector
from laicai.web.security import AccessPolicy


@dataclass(slots=True)
class WebContext:
    operator: Operator
    policy: AccessPolicy
    metrics: MetricsCollector
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server stops: open event streams end so shutdown does not wait for them."""
    sse_clients: int = 0


def web_context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.laicai_web
    return ctx


Ctx = Annotated[WebContext, Depends(web_context)]


def require_read(request: Request, ctx: Ctx) -> None:
    ctx.policy.check_read(request)


def require_control(request: Request, ctx: Ctx) -> None:
    ctx.policy.check_control(request)


def requester(request: Request) -> str:
    """Who sent a control, for the engine's audit trail: ``web 127.0.0.1``."""
    client = request.client
    return f"web {client.host}" if client is not None else "web"
