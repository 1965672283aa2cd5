"""``GET /api/events``: every bus event as a Server-Sent Event, ``data`` a JSON object with the
event's ``type`` (class name) and fields.

The first message, ``{"type": "StreamOpened"}``, is sent once the subscription exists: from
then on no event is missed. When the client fell behind and the bus dropped events for it, an
``{"type": "EventsDropped", "count": n}`` message says so (the page then re-reads everything).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from laicai.engine.bus import Subscription
from laicai.engine.events import BotEvent
from laicai.web.context import Ctx, require_read
from laicai.web.jsonable import event_json
from laicai.web.schemas import ErrorOut

RETRY_MS = 3000

router = APIRouter(
    prefix="/api", tags=["live"], dependencies=[Depends(require_read)],
    responses={401: {"model": ErrorOut, "description": "token needed (non-loopback address)"}},
)


async def _next(sub: Subscription, closing: asyncio.Event) -> BotEvent | None:
    """The next event, or None when the server is closing."""
    if closing.is_set():
        return None
    get = asyncio.ensure_future(sub.get())
    stop = asyncio.ensure_future(closing.wait())
    try:
        await asyncio.wait((get, stop), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (get, stop):
            if not task.done():
                task.cancel()
    if get.done() and not get.cancelled():
        return get.result()
    return None


@router.get("/events", response_class=EventSourceResponse,
            summary="Live bot events (text/event-stream)")
async def events(ctx: Ctx) -> AsyncIterator[ServerSentEvent]:
    sub = ctx.operator.subscribe()
    ctx.sse_clients += 1
    ids = itertools.count(1)
    dropped = 0
    try:
        yield ServerSentEvent(data={"type": "StreamOpened"}, id=str(next(ids)), retry=RETRY_MS)
        while True:
            event = await _next(sub, ctx.closing)
            if event is None:
                return
            if sub.dropped > dropped:
                lost = sub.dropped - dropped
                yield ServerSentEvent(data={"type": "EventsDropped", "count": lost},
                                      id=str(next(ids)))
                dropped = sub.dropped
            yield ServerSentEvent(data=event_json(event), id=str(next(ids)))
    finally:
        ctx.sse_clients -= 1
        sub.close()
