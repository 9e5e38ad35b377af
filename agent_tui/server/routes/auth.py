"""Login, logout, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from agent_tui import wire as S
from agent_tui.domain.case import Role
from agent_tui.server.deps import AccountsDep, ActorDep, StoreDep

router = APIRouter(tags=["auth"])


@router.post("/auth/login", name="login", response_model=S.TokenResponse)
def login(body: S.LoginRequest, store: StoreDep, accounts: AccountsDep) -> S.TokenResponse:
    token, expires, user = accounts.login(body.user_id, body.password, store.now())
    return S.TokenResponse(
        token=token,
        expires_at=expires,
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
    token = request.headers.get("authorization", "").split(" ", 1)[-1]
    accounts.logout(token)
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
