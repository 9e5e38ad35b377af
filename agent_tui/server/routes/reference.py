"""Reference data the seats cache, with versions and ETags (304 when unchanged)."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request, Response

from agent_tui import wire as S
from agent_tui.domain.case import Role
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.server.deps import ActorDep, ReferenceSetsDep, require
from agent_tui.server.visibility import Actor

log = logging.getLogger(__name__)

router = APIRouter(tags=["reference"])

Name = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="参考数据名称")]


@router.get("/reference", name="list_reference", response_model=list[S.ReferenceInfo])
def list_reference(actor: ActorDep, references: ReferenceSetsDep) -> list[S.ReferenceInfo]:
    return references.reference_sets()


@router.get("/reference/{name}", name="get_reference")
def get_reference(
    name: Name, request: Request, actor: ActorDep, references: ReferenceSetsDep
) -> Response:
    row = references.reference_set(name)
    etag = f'"{row.etag}"'
    headers = {"ETag": etag, "X-Reference-Version": str(row.version)}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(row.body, media_type="application/json", headers=headers)


@router.put("/reference/{name}", name="put_reference", response_model=S.ReferenceInfo)
def put_reference(
    name: Name,
    references: ReferenceSetsDep,
    actor: Annotated[Actor, Depends(require(Role.ADMIN))],
    body: Annotated[Any, Body()],
) -> S.ReferenceInfo:
    if not isinstance(body, dict | list):
        raise ValidationFailed(
            [
                FieldError(
                    "body",
                    "not_json",
                    "参考数据须为 JSON 对象或数组（Content-Type: application/json）",
                    "The body must be a JSON object or array",
                )
            ]
        )
    try:
        # NaN and ±Infinity parse from a request but are not JSON: a seat could not read them.
        json.dumps(body, allow_nan=False)
    except ValueError as exc:
        log.warning("reference set %s refused: NaN or Infinity in the body", name)
        raise ValidationFailed(
            [
                FieldError(
                    "body",
                    "not_json",
                    "参考数据含有 NaN 或 Infinity，这不是合法的 JSON 数值",
                    "NaN and Infinity are not JSON numbers",
                )
            ]
        ) from exc
    return references.put_reference_set(name, body)
