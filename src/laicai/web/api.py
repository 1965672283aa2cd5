"""Read endpoints under ``/api``: the Operator's views as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from laicai.web.context import Ctx, require_read
from laicai.web.jsonable import jsonable
from laicai.web.schemas import (
    AlertOut,
    EquityPointOut,
    ErrorOut,
    FundingOut,
    HealthOut,
    LogOut,
    PnlOut,
    PositionOut,
    ResetOut,
    ScanOut,
    StatusOut,
)

router = APIRouter(
    prefix="/api", tags=["views"], dependencies=[Depends(require_read)],
    responses={401: {"model": ErrorOut, "description": "token needed (non-loopback address)"}},
)


@router.get("/status", response_model=StatusOut, summary="State, mode, equity and health")
async def status(ctx: Ctx) -> StatusOut:
    view = await ctx.operator.status()
    out = StatusOut.model_validate(view)
    return out.model_copy(update={"controls_enabled": ctx.policy.controls_enabled})


@router.get("/health", response_model=HealthOut, summary="Exchange, API and loop health")
async def health(ctx: Ctx) -> HealthOut:
    return HealthOut.model_validate((await ctx.operator.status()).health)


@router.get("/positions", response_model=list[PositionOut], summary="Open carries")
async def positions(ctx: Ctx) -> list[PositionOut]:
    return [PositionOut.model_validate(p) for p in await ctx.operator.positions()]


@router.get("/pnl", response_model=PnlOut, summary="PnL by source, total and today (UTC)")
async def pnl(ctx: Ctx) -> PnlOut:
    return PnlOut.model_validate(await ctx.operator.pnl())


@router.get("/funding", response_model=list[FundingOut],
            summary="Funding of held swaps, then the best of the latest scan")
async def funding(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[FundingOut]:
    return [FundingOut.model_validate(f) for f in await ctx.operator.funding(limit)]


@router.get("/equity", response_model=list[EquityPointOut],
            summary="Equity curve with cumulative income and costs")
async def equity(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=10_000)] = 500
                 ) -> list[EquityPointOut]:
    return [EquityPointOut.model_validate(p) for p in await ctx.operator.equity_curve(limit)]


@router.get("/resets", response_model=list[ResetOut], summary="Reset history, newest first")
async def resets(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[ResetOut]:
    return [ResetOut.model_validate(r) for r in await ctx.operator.resets(limit)]


@router.get("/scan", response_model=ScanOut, summary="The latest scan")
async def scan(ctx: Ctx) -> ScanOut:
    latest = await ctx.operator.latest_scan()
    body = jsonable(latest) if latest is not None else None
    return ScanOut(scan=body if isinstance(body, dict) else None)


@router.get("/alerts", response_model=list[AlertOut], summary="Recent alerts, newest first")
async def alerts(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[AlertOut]:
    return [AlertOut.model_validate(a) for a in await ctx.operator.alerts(limit)]


@router.get("/log", response_model=LogOut, summary="The tail of the bot's log")
async def log_tail(ctx: Ctx, lines: Annotated[int, Query(ge=1, le=2000)] = 100) -> LogOut:
    return LogOut(lines=list(ctx.operator.log_tail(lines)))
