"""Case numbers: blocks reserved for a seat to hand out at save, and the blocks' record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from agent_tui import wire as S
from agent_tui.domain.case import Role
from agent_tui.server.deps import NumbersDep, require
from agent_tui.server.visibility import Actor

router = APIRouter(tags=["numbers"])

#: Who registers cases (and so hands out numbers) may reserve them.
IntakeDep = Annotated[Actor, Depends(require(Role.AGENT, Role.LEAD))]
LeadDep = Annotated[Actor, Depends(require(Role.LEAD, Role.ADMIN))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": S.ErrorBody, "description": "未登录或登录已过期"},
    403: {"model": S.ErrorBody, "description": "角色无权领取工单编号"},
    422: {"model": S.ErrorBody, "description": "内容有误（逐字段说明）"},
}


@router.post(
    "/numbers/reserve",
    name="reserve_numbers",
    response_model=S.NumberBlock,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
async def reserve(body: S.NumberReserve, actor: IntakeDep, numbers: NumbersDep) -> S.NumberBlock:
    """A block of the next ``count`` case numbers of the caller's platform and this year, for
    the seat ``seat_id``: the seat gives them to cases at save (``CaseCreate.number``), online
    or offline. Numbers never used leave gaps; this record says which seat held them."""
    return await numbers.ctx.off_loop(numbers.reserve, actor, body)  # a write: a write thread


@router.get("/numbers/blocks", name="number_blocks", response_model=list[S.NumberBlock])
def blocks(
    actor: LeadDep,
    numbers: NumbersDep,
    seat_id: Annotated[str, Query(max_length=64)] = "",
    user_id: Annotated[str, Query(max_length=32)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[S.NumberBlock]:
    """Which seat held which numbers (newest first), for leads and admins."""
    return numbers.blocks(seat_id, user_id, limit)
