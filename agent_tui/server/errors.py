"""The store's own refusals, which ``app`` turns into HTTP answers: no such case (404) and a
step decided on an older version (409 with the current case). The domain's refusals
(``domain.errors``) are answered the same way."""

from __future__ import annotations

from agent_tui import wire as S
from agent_tui.domain.errors import DomainError


class NotFound(DomainError):
    code = "not_found"


class VersionConflict(DomainError):
    """The step was decided on an older version: the seat must look again (HTTP 409)."""

    code = "version_conflict"

    def __init__(self, current: S.CasePublic, sent: int) -> None:
        self.current = current
        super().__init__(
            f"工单已被他人更新（您看到的是第 {sent} 版，当前为第 {current.version} 版），"
            "请刷新后重试",
            f"The case changed (you saw version {sent}, it is now {current.version}): reload",
        )
