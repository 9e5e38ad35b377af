"""Category → default lead department, deadline class and co-departments — and the place.

The agent picks a category; routing proposes where the case goes and how long the department
has. A case in a county goes to that county platform's own unit where the centre's county
routing table names one (the county's water company, housing bureau, the township government
for a township matter), otherwise to the city's unit (二级派单, domain.md). The table is data
(``agent_tui/data/county_routing.csv``, the ``county_routing`` reference set), never code. The
agent can override the department; the proposal is what a centre configured, with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from agent_tui.domain.case import DeadlineClass, Urgency
from agent_tui.domain.errors import DomainError
from agent_tui.domain.reference import Category, Department, Platform

#: ``department`` of a county rule meaning "the government of the case's township".
TOWNSHIP = "township"
#: ``department`` of a county rule meaning "the city's unit itself": the central city (驿城区,
#: the development zone) is served by the city's water company and city management.
CITY = "city"


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
class CountyRule:
    """One row of the county routing table.

    ``match`` is a category code (a leaf, or a top-level node for all its leaves) or the code
    of the city unit the county unit stands in for (``GS`` → the county's water company);
    ``department`` is the county unit's code, ``TOWNSHIP``, or ``CITY`` (the city's unit
    serves this county: said so, rather than left to "no row").
    """

    county: str  # the county platform's code, e.g. "411726"
    match: str
    department: str
    name: str = ""  # the unit's name, for whoever reads or edits the table


class RouteBasis(StrEnum):
    """Why routing proposed its department."""

    CATEGORY = "category"  # no place yet: the category's default (a city unit)
    CITY = "city"  # a place in a county without a county unit for it: the city's unit
    CENTRAL = "central"  # the table says the city's unit serves this county (the central city)
    COUNTY = "county"  # the county platform's own unit (县区对口单位)
    TOWNSHIP = "township"  # the government of the case's township (乡镇街道)


@dataclass(frozen=True, slots=True)
class Route:
    category: Category
    department: Department | None
    co_departments: tuple[Department, ...]
    deadline_class: DeadlineClass
    basis: RouteBasis = RouteBasis.CATEGORY
    county: str = ""  # the gazetteer county the place is in ("" without a place)
    township: str = ""
    platform_name: str = ""  # its platform's name, as agents say it (经济开发区)

    @property
    def _where(self) -> str:
        return self.platform_name or self.county

    @property
    def reason(self) -> str:
        """Why this department, in the agent's words (the entry form shows it)."""
        name = _label(self.department)
        if self.basis is RouteBasis.COUNTY:
            return f"按{self._where}分派：{name}（县区对口单位）"
        if self.basis is RouteBasis.TOWNSHIP:
            return f"按{self._where}{self.township}分派：{name}（乡镇街道）"
        if self.basis is RouteBasis.CITY:
            return f"市级单位：县区无对口单位 · 主办：{name}"
        if self.basis is RouteBasis.CENTRAL:
            return f"按{self._where}分派：{name}（中心城区由市级单位办理）"
        return f"默认主办：{name}"

    @property
    def reason_en(self) -> str:
        name = _label(self.department, "(not set)")
        if self.basis is RouteBasis.COUNTY:
            return f"By {self._where}: {name} (the county's own unit)"
        if self.basis is RouteBasis.TOWNSHIP:
            return f"By {self._where} {self.township}: {name} (township government)"
        if self.basis is RouteBasis.CITY:
            return f"City unit: the county has none for this · lead: {name}"
        if self.basis is RouteBasis.CENTRAL:
            return f"By {self._where}: {name} (the city's unit serves the central city)"
        return f"Default lead: {name}"


def _label(department: Department | None, missing: str = "（未配置）") -> str:
    if department is None:
        return missing
    return department.short_name or department.name


class Router:
    """Routes a category (an urgency, a place) to its department and deadline class."""

    def __init__(
        self,
        categories: Iterable[Category],
        departments: Iterable[Department],
        county_rules: Iterable[CountyRule] = (),
        platforms: Iterable[Platform] = (),
    ) -> None:
        self._categories: Mapping[str, Category] = {c.code: c for c in categories}
        self._departments: Mapping[str, Department] = {d.code: d for d in departments}
        #: (platform, match) → rule; the first row wins, as a reader of the table expects.
        self._rules: dict[tuple[str, str], CountyRule] = {}
        for rule in county_rules:
            self._rules.setdefault((rule.county, rule.match), rule)
        #: gazetteer county name → its platform
        self._platform_of: dict[str, Platform] = {p.county: p for p in platforms if p.county}
        self._townships: dict[tuple[str, str], Department] = {
            (d.platform, d.township): d for d in self._departments.values() if d.township
        }
        #: a county platform's government: a township matter without a township goes there
        self._governments: dict[str, Department] = {}
        for d in self._departments.values():
            if d.kind == "county":
                self._governments.setdefault(d.platform, d)

    def route(
        self,
        category_code: str,
        urgency: Urgency = Urgency.NORMAL,
        county: str = "",
        township: str = "",
    ) -> Route:
        """The proposal for a case of ``category_code`` at ``county``/``township`` (gazetteer
        names; none for a case without a place)."""
        category = self._categories.get(category_code)
        if category is None:
            raise UnknownCategory(category_code)
        if not category.is_leaf:
            raise NotALeaf(category)
        deadline_class = category.deadline_class
        if urgency is Urgency.CRITICAL:
            # 特急: life or safety at stake, whatever the category says.
            deadline_class = DeadlineClass.EMERGENCY
        city = self._departments.get(category.department)
        co = tuple(self._departments[c] for c in category.co_departments if c in self._departments)
        if not county:
            return Route(category, city, co, deadline_class)
        seat = self._platform_of.get(county)
        platform, name = (seat.code, seat.name) if seat is not None else ("", "")
        lead, basis = self._local(platform, township, category, city)
        local_co = tuple(
            dict.fromkeys(
                unit
                for c in co
                if (unit := self._local(platform, township, None, c)[0]) is not None
                and unit != lead
            )
        )
        return Route(category, lead, local_co, deadline_class, basis, county, township, name)

    def _local(
        self,
        platform: str,
        township: str,
        category: Category | None,
        city: Department | None,
    ) -> tuple[Department | None, RouteBasis]:
        """The county's unit for a category (leaf, then its top-level node) or for a city unit;
        the city unit itself when the table names none."""
        keys = [category.code, category.parent] if category is not None else []
        keys.append(city.code if city is not None else "")
        for key in keys:
            rule = self._rules.get((platform, key)) if key else None
            if rule is None:
                continue
            if rule.department == CITY:
                return city, RouteBasis.CENTRAL
            if rule.department == TOWNSHIP:
                found = self._townships.get((platform, township))
                if found is not None:
                    return found, RouteBasis.TOWNSHIP
                found = self._governments.get(platform)  # no township named: the county's
            else:
                found = self._departments.get(rule.department)
            if found is not None:
                return found, RouteBasis.COUNTY
        return city, RouteBasis.CITY

    def path(self, category_code: str) -> str:
        """``城市管理 › 占道经营`` for a leaf, the name alone for a top-level node."""
        category = self._categories.get(category_code)
        if category is None:
            raise UnknownCategory(category_code)
        parent = self._categories.get(category.parent)
        return f"{parent.name} › {category.name}" if parent else category.name
