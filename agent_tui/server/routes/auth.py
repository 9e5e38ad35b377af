"""Login, logout, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from agent_tui import wire as S
from agent_tui.domain.case import Role
from agent_tui.server.deps import AccountsDep, ActorDep, StoreDep, bearer_token

router = APIRouter(tags=["auth"])

_REFUSALS: dict[int | str, dict[str, str]] = {
    401: {"description": "用户名或密码错误（停用的账号、不存在的用户名同样如此回答）"},
    429: {"description": "该地址或该账号失败次数过多：Retry-After 秒后再试"},
    503: {"description": "等待核对密码的登录太多：Retry-After 秒后再试"},
}


@router.post("/auth/login", name="login", response_model=S.TokenResponse, responses=_REFUSALS)
async def login(
    body: S.LoginRequest, request: Request, store: StoreDep, accounts: AccountsDep
) -> S.TokenResponse:
    """Async: the throttle's reads and writes run in the shared thread pool (short), the
    password check on the accounts' own bounded pool (``hashing.HashGate``)."""
    address = request.client.host if request.client else ""
    done = await accounts.login(body.user_id, body.password, address, store.now())
    user = done.account
    return S.TokenResponse(
        token=done.token,
        expires_at=done.expires_at,
        user=S.UserPublic(
            user_id=user.user_id,
            name=user.name,
            role=Role(user.role),
            department=user.department,
            platform=user.platform,
        ),
    )


@router.post("/auth/logout", name="logout", status_code=204)
def logout(request: Request, actor: ActorDep, accounts: AccountsDep) -> Response:
    accounts.logout(bearer_token(request))
    return Response(status_code=204)


@router.get("/auth/me", name="whoami", response_model=S.UserPublic)
def whoami(actor: ActorDep) -> S.UserPublic:
    return S.UserPublic(
        user_id=actor.user_id,
        name=actor.name,
        role=actor.role,
        department=actor.department,
        platform=actor.platform,
    )
