"""Cases: create (idempotent), read, queues, caller history, one endpoint per lifecycle step."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime, BaseModel, TypeAdapter

from agent_tui import wire as S
from agent_tui.domain.case import Address, AppealType, Status
from agent_tui.domain.lifecycle import Step
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.codec import check_instant
from agent_tui.server.deps import ActorDep, CaseReadsDep, WriterDep

router = APIRouter(tags=["cases"])

#: Reads answer with bytes serialised once by pydantic-core: the store's models are already
#: validated, so FastAPI's re-validation of ``response_model`` (a second thread hop and a second
#: pass over every field) is skipped. The ``response_model``s still document the answers.
_CASE_LIST: TypeAdapter[list[S.CasePublic]] = TypeAdapter(list[S.CasePublic])


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _cases_json(cases: list[S.CasePublic]) -> Response:
    return Response(_CASE_LIST.dump_json(cases), media_type="application/json")


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": S.ErrorBody, "description": "未登录或登录已过期"},
    403: {"model": S.ErrorBody, "description": "角色无权执行此步骤"},
    404: {"model": S.ErrorBody, "description": "没有该工单（或无权查看）"},
    409: {"model": S.ErrorBody, "description": "状态不允许，或版本已过期（附当前工单）"},
    422: {"model": S.ErrorBody, "description": "内容有误（逐字段说明）"},
}


@router.post(
    "/cases",
    name="create_case",
    response_model=S.CasePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": S.CasePublic, "description": "同一 uuid 已存在：返回原工单"},
        **_ERRORS,
    },
)
async def create_case(body: S.CaseCreate, actor: ActorDep, writer: WriterDep) -> Response:
    # Writes run on the store's write threads (one under SQLite), never on the event loop: a
    # write waiting for the database's lock (another process holds it) must not stop every
    # other request meanwhile, and it waits a bounded time (``write_wait_seconds``, then 503).
    case, created = await writer.ctx.off_loop(writer.create_case, actor, body)
    return Response(
        case.model_dump_json(),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        media_type="application/json",
    )


@router.get("/cases", name="list_cases", response_model=S.CasePage, responses=_ERRORS)
def list_cases(
    actor: ActorDep,
    cases: CaseReadsDep,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    department: Annotated[str, Query(max_length=16)] = "",
    platform: Annotated[str, Query(max_length=16)] = "",
    agent: Annotated[str, Query(max_length=32)] = "",
    overdue: bool | None = None,
    co: Annotated[
        bool | None, Query(description="部门：本单位协办的工单（true）或主办的（false）")
    ] = None,
    co_overdue: Annotated[
        bool | None, Query(description="协办意见已超期（部门：本单位的）")
    ] = None,
    due_before: AwareDatetime | None = None,
    appeal_type: AppealType | None = None,
    category: Annotated[str, Query(max_length=16)] = "",
    caller_phone: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=100, description="内容或工单号包含")] = "",
    related_to: Annotated[
        str, Query(max_length=36, description="关联工单组（组内第一件的 uuid）")
    ] = "",
    order: Annotated[str, Query(pattern="^(newest|deadline)$")] = "newest",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    check_instant("due_before", due_before)
    f = CaseFilter(
        status=tuple(status_ or ()),
        department=department,
        platform=platform,
        agent=agent,
        overdue=overdue,
        co=co,
        co_overdue=co_overdue,
        due_before=due_before,
        appeal_type=appeal_type,
        category=category,
        caller_phone=caller_phone,
        text=q,
        related_to=related_to,
        order=order,
    )
    return _json(cases.list_cases(actor, f, cursor, limit))


@router.get(
    "/cases/related",
    name="related_candidates",
    response_model=list[S.CasePublic],
    responses=_ERRORS,
)
def related_candidates(
    actor: ActorDep,
    cases: CaseReadsDep,
    category: Annotated[str, Query(min_length=1, max_length=16)],
    county: Annotated[str, Query(min_length=1, max_length=40)],
    township: Annotated[str, Query(max_length=40)] = "",
    village: Annotated[str, Query(max_length=60)] = "",
    road: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """Open cases of the same category at the same village or road within the configured
    window (``related_window_days``): what the intake offers to link."""
    address = Address(county=county, township=township, village=village, road=road)
    return _cases_json(cases.related_candidates(actor, category, address, limit))


@router.get("/cases/{case_uuid}", name="get_case", response_model=S.CasePublic, responses=_ERRORS)
def get_case(case_uuid: str, actor: ActorDep, cases: CaseReadsDep, events: bool = True) -> Response:
    return _json(cases.get_case(actor, case_uuid, with_events=events))


@router.get(
    "/callers/{phone}/cases",
    name="caller_history",
    response_model=list[S.CasePublic],
    responses=_ERRORS,
)
def caller_history(
    phone: str,
    actor: ActorDep,
    cases: CaseReadsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    return _cases_json(cases.caller_history(actor, phone, limit))


def _step_endpoint(step: Step, body_type: type[S.StepBody]) -> Any:
    async def endpoint(case_uuid: str, body: Any, actor: ActorDep, writer: WriterDep) -> Response:
        # On a write thread, like create_case.
        text, _public = await writer.ctx.off_loop(
            writer.apply_step_json, actor, case_uuid, step, body
        )
        return Response(text, media_type="application/json")

    endpoint.__annotations__["body"] = body_type
    endpoint.__name__ = f"case_{step.value}"
    return endpoint


for _step, _body in S.STEP_BODIES.items():
    router.add_api_route(
        f"/cases/{{case_uuid}}/{_step.value.replace('_', '-')}",
        _step_endpoint(_step, _body),
        methods=["POST"],
        name=f"case_{_step.value}",
        summary=f"{_step.label}（{_step.value}）",
        response_model=S.CasePublic,
        responses=_ERRORS,
    )
