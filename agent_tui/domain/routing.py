"""Category → default lead department, deadline class and co-departments.

The agent picks a category; routing proposes where the case goes and how long the department
has. The agent can override the department; the proposal is what a centre configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent_tui.domain.case import DeadlineClass, Urgency
from agent_tui.domain.errors import DomainError
from agent_tui.domain.reference import Category, Department


class UnknownCategory(DomainError):
    code = "unknown_category"

    def __init__(self, code: str) -> None:
        super().__init__(f"未知的分类代码：{code}", f"Unknown category code: {code}")


class NotALeaf(DomainError):
    code = "not_a_leaf"

    def __init__(self, category: Category) -> None:
        super().__init__(
            f"“{category.name}”是大类，请选择其下的具体分类",
            f"{category.name} is a top-level category: pick one of its leaves",
        )


@dataclass(frozen=True, slots=True)
class Route:
    category: Category
    department: Department | None
    co_departments: tuple[Department, ...]
    deadline_class: DeadlineClass


class Router:
    """Routes a category (and an urgency) to its default department and deadline class."""

    def __init__(self, categories: Iterable[Category], departments: Iterable[Department]) -> None:
        self._categories: Mapping[str, Category] = {c.code: c for c in categories}
        self._departments: Mapping[str, Department] = {d.code: d for d in departments}

    def route(self, category_code: str, urgency: Urgency = Urgency.NORMAL) -> Route:
        category = self._categories.get(category_code)
        if category is None:
            raise UnknownCategory(category_code)
        if not category.is_leaf:
            raise NotALeaf(category)
        deadline_class = category.deadline_class
        if urgency is Urgency.CRITICAL:
            # 特急: life or safety at stake, whatever the category says.
            deadline_class = DeadlineClass.EMERGENCY
        return Route(
            category=category,
            department=self._departments.get(category.department),
            co_departments=tuple(
                self._departments[c] for c in category.co_departments if c in self._departments
            ),
            deadline_class=deadline_class,
        )

    def path(self, category_code: str) -> str:
        """``城市管理 › 占道经营`` for a leaf, the name alone for a top-level node."""
        category = self._categories.get(category_code)
        if category is None:
            raise UnknownCategory(category_code)
        parent = self._categories.get(category.parent)
        return f"{parent.name} › {category.name}" if parent else category.name
