"""Who is asking and what they may see: every rule that hides a case or a caller lives here.

``Actor`` is the caller as the store knows it (from the token). A department sees the cases
dispatched to it (as lead or co-department) and never a masked caller's identity; a county
platform sees the cases of its platform or assigned to it; the centre sees everything. The
rules come in the forms the store needs: WHERE clauses (``visible_cases``, ``phone_visible``)
and checks of a row already read (``can_see``, ``masks_caller``); ``scope`` names the viewers that
share one view (the feed's page cache and the report caches are kept per scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from agent_tui.domain.case import Role
from agent_tui.server.models import CaseRow


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    role: Role
    department: str = ""
    platform: str = "city"
    name: str = ""

    @property
    def is_county(self) -> bool:
        return self.platform != "city"


SYSTEM = Actor("clock", Role.SYSTEM, name="系统")


def visible_cases(viewer: Actor) -> Any:
    """A WHERE clause limiting cases to what ``viewer`` may see."""
    if viewer.role is Role.DEPARTMENT:
        d = viewer.department
        if not _is_code(d):
            return sa.false()
        return sa.or_(col(CaseRow.department) == d, listed(col(CaseRow.co_departments), d))
    if viewer.is_county:
        return sa.or_(
            col(CaseRow.platform) == viewer.platform,
            col(CaseRow.assigned_platform) == viewer.platform,
        )
    return sa.true()


def _is_code(department: str) -> bool:
    """A department code an account can hold (one made before codes were checked may not be:
    such an account sees nothing rather than what a pattern would match)."""
    return bool(department) and ";" not in department


class listed(FunctionElement[bool]):
    """``code`` is one of the items of the ";"-joined ``items``: an exact match of whole items,
    no pattern (a department code once matched as a LIKE pattern: "%" saw every case with two
    co-departments). Compiled per dialect: ``instr`` (SQLite), ``strpos`` (PostgreSQL)."""

    type = sa.Boolean()
    inherit_cache = True

    def __init__(self, items: Any, code: str) -> None:
        super().__init__(items, sa.literal(f";{code};", sa.String))


@compiles(listed)
def _listed(element: listed, compiler: Any, **kw: Any) -> str:
    items, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"(instr(';' || {items} || ';', {needle}) > 0)"


@compiles(listed, "postgresql")
def _listed_pg(element: listed, compiler: Any, **kw: Any) -> str:
    items, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"(strpos(';' || {items} || ';', {needle}) > 0)"


def phone_visible(viewer: Actor) -> Any:
    """A department must not learn that a masked caller called: phone lookups skip them."""
    if viewer.role is Role.DEPARTMENT:
        return sa.and_(sa.not_(col(CaseRow.confidential)), sa.not_(col(CaseRow.anonymous)))
    return sa.true()


def can_see(viewer: Actor, row: Any) -> bool:
    """Whether ``viewer`` may see the case ``row`` (read already): ``visible_cases`` in Python."""
    if viewer.role is Role.DEPARTMENT:
        d = viewer.department
        return _is_code(d) and (row.department == d or d in row.co_departments.split(";"))
    if viewer.is_county:
        return viewer.platform in (row.platform, row.assigned_platform)
    return True


def masks_caller(viewer: Actor, row: Any) -> bool:
    """A department sees neither the phone nor the name of a confidential or anonymous caller."""
    return viewer.role is Role.DEPARTMENT and bool(row.confidential or row.anonymous)


def audience(department: str, co_departments: Any, platform: str, assigned: str) -> set[str]:
    """The scopes (``scope_key``) other than the centre that see a case with these fields."""
    departments = [department, *(co_departments or ())]
    keys = {f"department:{d}" for d in departments if d}
    keys |= {f"platform:{p}" for p in (platform, assigned) if p and p != "city"}
    return keys


def withdrawn_from(before: Any, after: Any) -> str:
    """The scopes that saw the case ``before`` a write and no longer see it ``after`` (a
    re-dispatch away from a department, say), as the change row keeps them: the feed tells
    those readers to drop the case (``Feed``)."""

    def of(case: Any) -> set[str]:
        return audience(case.department, case.co_departments, case.platform, case.assigned_platform)

    return ";".join(sorted(of(before) - of(after)))


def scope_key(viewer: Actor) -> str:
    """``scope`` as one string (``department:CGJ``), as ``withdrawn_from`` lists them."""
    return ":".join(scope(viewer))


def scope(viewer: Actor) -> tuple[str, str]:
    """Viewers that see the same feed (visibility and masking): one cached page each."""
    if viewer.role is Role.DEPARTMENT:
        return ("department", viewer.department)
    if viewer.is_county:
        return ("platform", viewer.platform)
    return ("centre", "")
