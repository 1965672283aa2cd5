"""The page, its static files (shipped in the package: the machine may be offline), the liveness
probe, ``/metrics`` and the OpenAPI schema."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST

from laicai.web.context import Ctx, require_read
from laicai.web.schemas import ErrorOut, HealthzOut

STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

router = APIRouter(dependencies=[Depends(require_read)])
open_router = APIRouter()


@cache
def static_file(name: str) -> bytes:
    """A file of ``laicai/web/static`` (the name is checked by the caller)."""
    return resources.files("laicai.web").joinpath("static", name).read_bytes()


def static_names() -> frozenset[str]:
    root = resources.files("laicai.web").joinpath("static")
    return frozenset(p.name for p in root.iterdir() if p.is_file())


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse(static_file("index.html"))


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in STATIC_TYPES or name not in static_names():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such file")
    return Response(static_file(name), media_type=STATIC_TYPES[suffix],
                    headers={"cache-control": "no-cache"})


@router.get("/metrics", include_in_schema=True, tags=["metrics"],
            summary="Prometheus metrics (text exposition format)",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}},
                       401: {"model": ErrorOut, "description": "token needed (non-loopback)"}})
async def metrics(ctx: Ctx) -> Response:
    await ctx.metrics.refresh(ctx.operator)
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@open_router.get("/healthz", response_model=HealthzOut, tags=["metrics"],
                 summary="Liveness: the web server answers (no data, no token)")
async def healthz() -> HealthzOut:
    return HealthzOut(ok=True)
