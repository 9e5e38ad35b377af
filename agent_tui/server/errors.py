"""The store's own refusals, which ``app`` turns into HTTP answers: no such case (404), a
step decided on an older version (409 with the current case), a seat's case number that
another case has (409) and a write that could not get
the database's write lock in time (503). The domain's refusals (``domain.errors``) are
answered the same way."""

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


class StoreBusy(DomainError):
    """A write waited its whole budget for the database's write lock (another writer holds
    it: a long write, a backup, the CLI): nothing was written; try again (HTTP 503)."""

    code = "busy"

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"数据库正忙（等待写入 {waited:g} 秒未果），未做任何修改，请稍后重试（坐席会自动重发）",
            f"The database is busy (waited {waited:g} s to write): nothing was written; retry",
        )


class NumberTaken(DomainError):
    """A seat's number that another case already has (HTTP 409)."""

    code = "number_taken"

    def __init__(self, number: str) -> None:
        super().__init__(
            f"工单编号 {number} 已被另一件工单使用",
            f"Case number {number} is already another case's",
        )
