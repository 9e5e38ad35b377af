"""Reference data as plain records: platforms, departments, categories, knowledge entries.

The files and their loaders live in ``agent_tui.data``; these shapes are what every layer shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_tui.domain.case import DeadlineClass


@dataclass(frozen=True, slots=True)
class Platform:
    """The city platform or a county/district platform (13 in Zhumadian)."""

    code: str  # e.g. "city", "411726"
    name: str  # 驻马店市12345热线平台 / 泌阳县
    county: str  # the gazetteer county it serves ("" for the city platform)
    pinyin: str = ""
    initials: str = ""


@dataclass(frozen=True, slots=True)
class Department:
    """A unit a case can be dispatched to (主办/协办)."""

    code: str  # short stable code, e.g. "CGJ" (城管局)
    name: str  # 驻马店市城市管理局
    short_name: str  # 市城管局
    kind: str  # "municipal" | "utility" | "county" | "county_unit" | "township"
    platform: str = "city"  # the platform it belongs to
    phone: str = ""
    township: str = ""  # a township government's township (gazetteer name)
    pinyin: str = ""
    initials: str = ""


@dataclass(frozen=True, slots=True)
class Category:
    """A node of the category tree (2 levels). Leaves route to a default department."""

    code: str  # e.g. "0101"
    name: str  # 占道经营
    parent: str  # "" for a top-level node, else the parent's code
    department: str = ""  # default lead department code (leaves)
    deadline_class: DeadlineClass = DeadlineClass.NORMAL
    co_departments: tuple[str, ...] = ()
    pinyin: str = ""
    initials: str = ""

    @property
    def is_leaf(self) -> bool:
        return bool(self.parent)


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    """An answer an agent can read out (resolve directly)."""

    id: str
    title: str
    answer: str
    keywords: tuple[str, ...] = ()
    category: str = ""
    department: str = ""
    phone: str = ""
    pinyin: str = ""
    initials: str = ""
