"""Controls under ``/api``: pause, resume, close one, close all. Each needs the Bearer token
(see :mod:`laicai.web.security`) and answers with the Operator's :class:`CommandResult`:
200 when the engine accepted the command, 409 when it refused it (the message says why)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse

from laicai.engine.operator import CommandResult
from laicai.web.context import Ctx, requester, require_control, require_read
from laicai.web.schemas import CloseAllIn, CommandOut, ErrorOut, PauseIn

router = APIRouter(
    prefix="/api", tags=["controls"],
    dependencies=[Depends(require_read), Depends(require_control)],
    responses={
        401: {"model": ErrorOut, "description": "no or wrong 'Authorization: Bearer <token>'"},
        403: {"model": ErrorOut, "description": "no token configured: set LAICAI_WEB_TOKEN"},
        409: {"model": CommandOut, "description": "the engine refused the command"},
    },
)


def _answer(result: CommandResult) -> JSONResponse:
    body = CommandOut.model_validate(result).model_dump(mode="json")
    return JSONResponse(body, status_code=status.HTTP_200_OK if result.ok
                        else status.HTTP_409_CONFLICT)


@router.post("/pause", response_model=CommandOut, summary="Pause new entries")
async def pause(request: Request, ctx: Ctx,
                body: Annotated[PauseIn | None, Body()] = None) -> JSONResponse:
    reason = body.reason if body is not None else ""
    return _answer(await ctx.operator.pause(requester(request), reason))


@router.post("/resume", response_model=CommandOut, summary="Resume new entries")
async def resume(request: Request, ctx: Ctx) -> JSONResponse:
    return _answer(await ctx.operator.resume(requester(request)))


@router.post("/positions/{position_id}/close", response_model=CommandOut,
             summary="Close one carry (both legs, Earn redeemed, loan repaid)")
async def close_position(request: Request, ctx: Ctx,
                         position_id: Annotated[int, Path(ge=1)]) -> JSONResponse:
    return _answer(await ctx.operator.close_position(position_id, requester(request)))


@router.post("/close-all", response_model=CommandOut,
             summary="Emergency: close every carry and stop (needs confirm: true)",
             responses={400: {"model": ErrorOut, "description": "confirm was not true"}})
async def close_all(request: Request, ctx: Ctx, body: CloseAllIn) -> JSONResponse:
    if not body.confirm:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail='close-all closes every carry and stops the bot: send {"confirm": true}')
    return _answer(await ctx.operator.close_all(requester(request)))
