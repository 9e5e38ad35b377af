"""Shared helpers for the API tests: fast logins, cases, steps and cases in every state over HTTP.

Logging in hashes a password with argon2 (slow on purpose, ~0.15 s), so most tests use
``preauth``: it writes one bearer token per user straight into the ``tokens`` table, exactly as
``Accounts.login`` does, and hands them to the ``Api`` helper. The login path itself is tested in
``test_bad_input.py``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session

from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from agent_tui.server.auth import _token_hash
from agent_tui.server.models import TokenRow
from tests.api.conftest import USERS, Api

#: The department a case is dispatched to, and the user of that department and of another.
DEPT = "CGJ"
DEPT_USER = "cgj"
OTHER_DEPT_USER = "gaj"


def issue_tokens(app: FastAPI, users: Iterable[str] = USERS) -> dict[str, str]:
    """A valid bearer token for every user in ``users`` (default: ``USERS``), written as
    ``Accounts.login`` does."""
    store = app.state.store
    now = store.now()
    tokens: dict[str, str] = {}
    with Session(store.engine) as session, session.begin():
        for user_id in users:
            token = secrets.token_urlsafe(32)
            session.add(
                TokenRow(
                    token_hash=_token_hash(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + timedelta(days=365),  # tests move the clock on
                )
            )
            tokens[user_id] = token
    return tokens


def preauth(api: Api) -> Api:
    """Give ``api`` a valid token for every user without the argon2 login."""
    api.tokens.update(issue_tokens(api.client.app))  # type: ignore[arg-type]
    return api


def case_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "appeal_type": "complaint",
        "content": "金山路与骏达路交叉口北侧商铺张贴小广告",
        "caller_phone": "13912345678",
        "category": "0101",
        "address": {"county": "驿城区", "road": "金山路与骏达路交叉口"},
    }
    body.update(over)
    return body


def new_case(api: Api, user: str = "agent01", **over: Any) -> dict[str, Any]:
    r = api.post("/api/cases", user, json=case_body(**over))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def url(case: dict[str, Any], step: Step) -> str:
    return f"/api/cases/{case['uuid']}/{step.value.replace('_', '-')}"


def _later(value: str | None, days: int) -> str:
    assert value, "the case has no handling deadline"
    return (datetime.fromisoformat(value) + timedelta(days=days)).isoformat()


def good_body(step: Step, case: dict[str, Any]) -> dict[str, Any]:
    """A body for ``step`` on ``case`` as a careful user sends it (fresh command id)."""
    params: dict[str, Any] = {
        Step.REFUSE: {"reason": "属于诉讼范畴，请向法院起诉"},
        Step.RESOLVE: {"result": "已告知供水抢修电话", "sample_callback": False},
        Step.DISPATCH: {"department": DEPT},
        Step.REQUEST_RETURN: {"reason": "不属于本单位职责"},
        Step.REFUSE_RETURN: {"reason": "属于本单位职责范围"},
        Step.REFUSE_EXTENSION: {"reason": "理由不充分"},
        Step.REPLY: {"result": "已清理小广告并约谈商户"},
        Step.REVIEW_FAIL: {"reason": "答复未说明处理结果"},
        Step.CALLBACK: {"reached": True},
        Step.RATE: {"satisfaction": "satisfied"},
        Step.REOPEN: {"reason": "群众反映问题仍存在"},
        Step.SUPERVISE: {"reason": "领导交办"},
        Step.URGE: {"reason": "来电人说三天了还没人处理"},
        Step.SUPPLEMENT: {"reason": "来电人补充：每天早上六点张贴"},
        Step.CO_OPINION: {"opinion": "已派员配合到现场核实", "officer": "李警官"},
    }.get(step, {})
    if step is Step.REQUEST_EXTENSION:
        params = {
            "reason": "需协调多个单位",
            "new_deadline": _later(case.get("handling_deadline"), 5),
        }
    return {"command_id": str(uuid.uuid4()), "version": case["version"], **params}


def step(api: Api, case: dict[str, Any], step: Step, user: str, **over: Any) -> Any:
    """POST one step on ``case`` (at the version given) and return the response."""
    return api.post(url(case, step), user, json={**good_body(step, case), **over})


def take(api: Api, case: dict[str, Any], step_: Step, user: str, **over: Any) -> dict[str, Any]:
    """Take one step that must succeed; return the case after it."""
    r = step(api, case, step_, user, **over)
    assert r.status_code == 200, f"{step_} by {user}: {r.status_code} {r.text}"
    return r.json()  # type: ignore[no-any-return]


_DISPATCH = (Step.DISPATCH, "agent01", {})
_SIGN = (Step.SIGN, DEPT_USER, {})
_REPLY = (Step.REPLY, DEPT_USER, {})
_REVIEW = (Step.REVIEW_PASS, "agent01", {})
_CALLBACK = (Step.CALLBACK, "agent01", {})

#: How to reach each state from REGISTERED over HTTP: (step, user, body overrides).
PATHS: dict[Status, list[tuple[Step, str, dict[str, Any]]]] = {
    Status.REGISTERED: [],
    Status.REFUSED: [(Step.REFUSE, "agent01", {})],
    Status.RESOLVED: [(Step.RESOLVE, "agent01", {})],
    Status.DISPATCHED: [_DISPATCH],
    Status.RETURN_REQUESTED: [_DISPATCH, (Step.REQUEST_RETURN, DEPT_USER, {})],
    Status.RETURNED: [
        _DISPATCH,
        (Step.REQUEST_RETURN, DEPT_USER, {}),
        (Step.APPROVE_RETURN, "lead01", {}),
    ],
    Status.IN_PROGRESS: [_DISPATCH, _SIGN],
    Status.EXTENSION_REQUESTED: [_DISPATCH, _SIGN, (Step.REQUEST_EXTENSION, DEPT_USER, {})],
    Status.REPLIED: [_DISPATCH, _SIGN, _REPLY],
    Status.CALLBACK_PENDING: [_DISPATCH, _SIGN, _REPLY, _REVIEW],
    Status.CALLED_BACK: [_DISPATCH, _SIGN, _REPLY, _REVIEW, _CALLBACK],
    Status.RATED: [
        _DISPATCH,
        _SIGN,
        _REPLY,
        _REVIEW,
        _CALLBACK,
        (Step.RATE, "agent01", {"satisfaction": "dissatisfied"}),
    ],
    Status.ARCHIVED: [(Step.RESOLVE, "agent01", {}), (Step.ARCHIVE, "agent01", {})],
}


def case_in(api: Api, status: Status, user: str = "agent01", **over: Any) -> dict[str, Any]:
    """A new case walked through the real lifecycle over HTTP into ``status``."""
    case = new_case(api, user, **over)
    for step_, actor, extra in PATHS[status]:
        case = take(api, case, step_, actor, **extra)
    assert case["status"] == status.value
    return case


def assert_error(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """An error answer: the status, a JSON body with a code and a Chinese message."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    body = r.json()
    assert isinstance(body, dict), body
    assert body.get("code"), body
    assert has_chinese(body.get("message", "")), body
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
