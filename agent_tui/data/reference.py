"""Load the hotline's reference data (platforms, departments, categories, knowledge base).

The CSV files ship inside this package (see ``REFERENCE.md`` for their provenance and format).
Pinyin is never stored in these files: every loader fills ``pinyin``/``initials`` through
``agent_tui.domain.pinyin.pinyin_keys`` so the whole project reads place names the same way
(served from the generated ``pinyin_table.tsv``, see ``agent_tui.data.pinyin_table``).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from agent_tui.data.pinyin_table import use_packaged_readings
from agent_tui.domain.case import DeadlineClass, Role
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.domain.pinyin import pinyin_keys
from agent_tui.domain.reference import Category, Department, KnowledgeEntry, Platform
from agent_tui.domain.routing import CITY, TOWNSHIP, CountyRule

DEPARTMENT_KINDS = frozenset({"municipal", "utility", "county", "county_unit", "township"})
#: Kinds that belong to a county platform (a county's government, its own units, townships).
COUNTY_KINDS = frozenset({"county", "county_unit", "township"})
CITY_PLATFORM = "city"
_LIST_SEP = ";"
_DEADLINE_CLASSES: dict[str, DeadlineClass] = {member.value: member for member in DeadlineClass}
_TOP_CODE = re.compile(r"\d{2}")
_LEAF_CODE = re.compile(r"\d{4}")

PLATFORMS_FILE = "platforms.csv"
DEPARTMENTS_FILE = "departments.csv"
CATEGORIES_FILE = "categories.csv"
KNOWLEDGE_FILE = "knowledge.csv"
#: The county platforms' own units and the township governments (generated once from the
#: gazetteer; kept apart from the city's units so the centre edits each list on its own).
COUNTY_DEPARTMENTS_FILE = "county_departments.csv"
#: Which county unit stands in for a city unit or takes a category, per county platform.
COUNTY_ROUTING_FILE = "county_routing.csv"
COUNTY_ROUTING_COLUMNS = ("county", "match", "department", "name")

_COLUMNS: dict[str, tuple[str, ...]] = {
    PLATFORMS_FILE: ("code", "name", "county"),
    DEPARTMENTS_FILE: ("code", "name", "short_name", "kind", "platform", "phone"),
    CATEGORIES_FILE: ("code", "name", "parent", "department", "deadline_class", "co_departments"),
    KNOWLEDGE_FILE: ("id", "title", "answer", "keywords", "category", "department", "phone"),
    COUNTY_DEPARTMENTS_FILE: (
        "code",
        "name",
        "short_name",
        "kind",
        "platform",
        "phone",
        "township",
    ),
    COUNTY_ROUTING_FILE: COUNTY_ROUTING_COLUMNS,
}


# --- reading ------------------------------------------------------------------------------------


def _rows(filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` of a packaged CSV, cells stripped, checking the header."""
    use_packaged_readings()  # the names' pinyin without pypinyin
    package = resources.files(__package__ or "agent_tui.data")
    # read_text gives universal newlines; a BOM written by Excel is dropped by utf-8-sig
    text = package.joinpath(filename).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    expected = _COLUMNS[filename]
    if tuple(reader.fieldnames or ()) != expected:
        raise ValueError(
            f"{filename}: header is {reader.fieldnames}, expected {','.join(expected)}"
        )
    for row in reader:
        if None in row or any(value is None for value in row.values()):
            raise ValueError(f"{filename}:{reader.line_num}: wrong number of columns")
        yield reader.line_num, {key: value.strip() for key, value in row.items()}


def _keys(text: str) -> tuple[str, str]:
    """``pinyin_keys`` of ``text`` without punctuation (nobody types a title's "？")."""
    return pinyin_keys("".join(ch for ch in text if ch.isalnum()))


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(_LIST_SEP) if part.strip())


def _parse_deadline_class(cell: str, where: str, problems: list[str]) -> DeadlineClass:
    if not cell:
        return DeadlineClass.NORMAL
    member = _DEADLINE_CLASSES.get(cell)
    if member is None:
        known = ", ".join(_DEADLINE_CLASSES)
        problems.append(f"{where}: unknown deadline class {cell!r} (known: {known})")
        return DeadlineClass.NORMAL
    return member


@cache
def load_platforms() -> tuple[Platform, ...]:
    """The city platform and the county/district platforms, in file order."""
    platforms = []
    for _, row in _rows(PLATFORMS_FILE):
        full, initials = _keys(row["name"])
        platforms.append(
            Platform(
                code=row["code"],
                name=row["name"],
                county=row["county"],
                pinyin=full,
                initials=initials,
            )
        )
    return tuple(platforms)


@cache
def load_departments() -> tuple[Department, ...]:
    """Every unit a case can go to; pinyin/initials come from the short name (what agents type)."""
    departments = []
    for filename in (DEPARTMENTS_FILE, COUNTY_DEPARTMENTS_FILE):
        for _, row in _rows(filename):
            full, initials = _keys(row["short_name"] or row["name"])
            departments.append(
                Department(
                    code=row["code"],
                    name=row["name"],
                    short_name=row["short_name"],
                    kind=row["kind"],
                    platform=row["platform"] or CITY_PLATFORM,
                    phone=row["phone"],
                    township=row.get("township", ""),
                    pinyin=full,
                    initials=initials,
                )
            )
    return tuple(departments)


@cache
def load_county_routing() -> tuple[CountyRule, ...]:
    """The packaged county routing table, in file order (checked by ``load_reference``)."""
    return tuple(CountyRule(**row) for _, row in _rows(COUNTY_ROUTING_FILE))


def county_rules_from_json(body: Any) -> tuple[CountyRule, ...]:
    """The ``county_routing`` reference set (a list of rows with the CSV's columns) as rules;
    ``ValidationFailed`` naming each malformed row."""
    if not isinstance(body, list):
        raise ValidationFailed(
            [
                FieldError(
                    "body",
                    "not_a_list",
                    "县区分派表须为行的数组：[{county, match, department, name}, …]",
                    "The county routing table is a list of rows",
                )
            ]
        )
    rules: list[CountyRule] = []
    errors: list[FieldError] = []
    for i, row in enumerate(body):
        cells = row if isinstance(row, dict) else {}
        bad = [c for c in COUNTY_ROUTING_COLUMNS[:3] if not isinstance(cells.get(c), str)]
        bad += [c for c in cells if c not in COUNTY_ROUTING_COLUMNS]
        if not isinstance(row, dict) or bad:
            errors.append(
                FieldError(
                    f"body[{i}]",
                    "bad_row",
                    f"第 {i + 1} 行须有文本列 county、match、department（可选 name），"
                    f"不认识或缺少：{'、'.join(bad) or '整行'}",
                    f"Row {i + 1} needs text columns county, match, department (name optional)",
                )
            )
            continue
        rules.append(
            CountyRule(
                county=cells["county"].strip(),
                match=cells["match"].strip(),
                department=cells["department"].strip(),
                name=str(cells.get("name", "")).strip(),
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return tuple(rules)


@cache
def _read_categories() -> tuple[tuple[Category, ...], tuple[str, ...]]:
    """The category rows and the cells that could not be parsed (reported, not raised, here)."""
    categories = []
    problems: list[str] = []
    for line, row in _rows(CATEGORIES_FILE):
        full, initials = _keys(row["name"])
        categories.append(
            Category(
                code=row["code"],
                name=row["name"],
                parent=row["parent"],
                department=row["department"],
                deadline_class=_parse_deadline_class(
                    row["deadline_class"], f"{CATEGORIES_FILE}:{line} ({row['code']})", problems
                ),
                co_departments=_split(row["co_departments"]),
                pinyin=full,
                initials=initials,
            )
        )
    return tuple(categories), tuple(problems)


def load_categories() -> tuple[Category, ...]:
    """The two-level category tree, in file order (each parent before its leaves)."""
    categories, problems = _read_categories()
    if problems:
        raise ValueError("\n".join(problems))
    return categories


@cache
def load_knowledge() -> tuple[KnowledgeEntry, ...]:
    """The knowledge base; pinyin/initials come from the title."""
    entries = []
    for _, row in _rows(KNOWLEDGE_FILE):
        full, initials = _keys(row["title"])
        entries.append(
            KnowledgeEntry(
                id=row["id"],
                title=row["title"],
                answer=row["answer"],
                keywords=_split(row["keywords"]),
                category=row["category"],
                department=row["department"],
                phone=row["phone"],
                pinyin=full,
                initials=initials,
            )
        )
    return tuple(entries)


# --- the container ------------------------------------------------------------------------------


def _index(items: Iterable[Any], key: str) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for item in items:
        index.setdefault(getattr(item, key), item)  # first wins; duplicates are validation errors
    return index


@dataclass(frozen=True)
class ReferenceData:
    """The reference tables plus lookups by code. Build one with ``load_reference()``."""

    platforms: tuple[Platform, ...]
    departments: tuple[Department, ...]
    categories: tuple[Category, ...]
    knowledge: tuple[KnowledgeEntry, ...]
    county_routing: tuple[CountyRule, ...] = ()
    _platforms: dict[str, Platform] = field(init=False, repr=False, compare=False)
    _departments: dict[str, Department] = field(init=False, repr=False, compare=False)
    _categories: dict[str, Category] = field(init=False, repr=False, compare=False)
    _children: dict[str, tuple[Category, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        children: dict[str, list[Category]] = {}
        for category in self.categories:
            children.setdefault(category.parent, []).append(category)
        object.__setattr__(self, "_platforms", _index(self.platforms, "code"))
        object.__setattr__(self, "_departments", _index(self.departments, "code"))
        object.__setattr__(self, "_categories", _index(self.categories, "code"))
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    def platform(self, code: str) -> Platform | None:
        return self._platforms.get(code)

    def department(self, code: str) -> Department | None:
        return self._departments.get(code)

    def department_label(self, code: str) -> str:
        """What a screen shows for a department: its short name (else its name), else the code."""
        d = self._departments.get(code)
        return (d.short_name or d.name) if d else code

    def category(self, code: str) -> Category | None:
        return self._categories.get(code)

    def top_level(self) -> tuple[Category, ...]:
        """The top-level nodes of the category tree."""
        return self._children.get("", ())

    def children(self, code: str) -> tuple[Category, ...]:
        """The direct children of category ``code`` (``""`` gives the top level)."""
        return self._children.get(code, ())

    def leaves(self) -> tuple[Category, ...]:
        """Every leaf category, in file order: the codes a case can carry."""
        return tuple(category for category in self.categories if category.is_leaf)

    def departments_of_kind(self, kind: str) -> tuple[Department, ...]:
        return tuple(department for department in self.departments if department.kind == kind)

    def account_codes(self, role: Role, department: str, platform: str) -> tuple[str, str]:
        """An account's department and platform checked against these tables: the codes as
        the tables spell them (trimmed, any letter case), or ``ValidationFailed`` naming each
        bad one. A department user needs a known department and gets that department's
        platform; no other role has a department; a platform must be a known one ("city" when
        left empty). Codes become WHERE values: only codes of the tables get that far."""
        errors: list[FieldError] = []
        wanted_platform = platform.strip() or CITY_PLATFORM
        found_platform = self._by_code(self._platforms, wanted_platform)
        if found_platform is None:
            known = "、".join(p.code for p in self.platforms)
            errors.append(
                FieldError(
                    "platform",
                    "unknown",
                    f"未知的平台代码：{wanted_platform!r}（可用：{known}）",
                    f"Unknown platform code {wanted_platform!r} (known: {known})",
                )
            )
        code = department.strip()
        found_department = self._by_code(self._departments, code) if code else None
        if role is Role.DEPARTMENT and not code:
            errors.append(
                FieldError(
                    "department", "required", "承办单位用户须指定单位", "A department is required"
                )
            )
        elif code and role is not Role.DEPARTMENT:
            errors.append(
                FieldError(
                    "department",
                    "not_allowed",
                    "只有承办单位用户属于某个单位",
                    "Only department users belong to a department",
                )
            )
        elif code and found_department is None:
            errors.append(
                FieldError(
                    "department",
                    "unknown",
                    f"未知的单位代码：{code!r}（代码见 departments.csv）",
                    f"Unknown department code {code!r}",
                )
            )
        elif found_department is not None and found_platform is not None:
            given = found_platform.code
            if given not in (CITY_PLATFORM, found_department.platform):
                errors.append(
                    FieldError(
                        "platform",
                        "mismatch",
                        f"单位 {found_department.code} 属于平台 {found_department.platform}，"
                        f"不是 {given}",
                        f"{found_department.code} belongs to platform {found_department.platform}",
                    )
                )
        if errors:
            raise ValidationFailed(errors)
        if found_department is not None:
            return found_department.code, found_department.platform
        assert found_platform is not None
        return "", found_platform.code

    @staticmethod
    def _by_code(index: dict[str, Any], code: str) -> Any:
        found = index.get(code)
        if found is None:
            folded = code.casefold()
            found = next((v for k, v in index.items() if k.casefold() == folded), None)
        return found

    def county_department(self, platform: str) -> Department | None:
        """The county/district government (kind ``county``) behind a county platform."""
        for department in self.departments:
            if department.kind == "county" and department.platform == platform:
                return department
        return None


def department_search_keys(department: Department) -> tuple[str, ...]:
    """Every key a search should match for a department, lower-case.

    The record keeps the short name's pinyin (agents type ``scgj`` for 市城管局); the full name's
    pinyin and initials are added here so ``zmdscsglj`` (驻马店市城市管理局) finds it too.
    """
    full, initials = _keys(department.name)
    keys = (department.code.lower(), department.pinyin, department.initials, full, initials)
    return tuple(dict.fromkeys(key for key in keys if key))


# --- integrity ----------------------------------------------------------------------------------


def _duplicates(what: str, codes: Iterable[str]) -> list[str]:
    counts = Counter(codes)
    return [f"{what}: duplicate code {code!r} ({n}×)" for code, n in counts.items() if n > 1]


def validate_reference(ref: ReferenceData) -> list[str]:
    """Every integrity problem of ``ref``, in words; an empty list means it is consistent."""
    problems: list[str] = []
    problems += _duplicates("platform", (p.code for p in ref.platforms))
    problems += _duplicates("department", (d.code for d in ref.departments))
    problems += _duplicates("category", (c.code for c in ref.categories))
    problems += _duplicates("knowledge", (k.id for k in ref.knowledge))

    for platform in ref.platforms:
        if not platform.code or not platform.name:
            problems.append(f"platform {platform.code!r}: code and name are required")
    if ref.platforms and ref.platform(CITY_PLATFORM) is None:
        problems.append(f"platform: the city platform {CITY_PLATFORM!r} is missing")

    for department in ref.departments:
        where = f"department {department.code!r}"
        if not department.code or not department.name:
            problems.append(f"{where}: code and name are required")
        if department.kind not in DEPARTMENT_KINDS:
            problems.append(
                f"{where}: unknown kind {department.kind!r} "
                f"(known: {', '.join(sorted(DEPARTMENT_KINDS))})"
            )
        if ref.platform(department.platform) is None:
            problems.append(f"{where}: unknown platform {department.platform!r}")
        elif department.kind in COUNTY_KINDS and department.platform == CITY_PLATFORM:
            problems.append(f"{where}: a county's unit must belong to a county platform")
        if (department.kind == "township") != bool(department.township):
            problems.append(f"{where}: a township government (only) names its township")

    known_classes = {member.value for member in DeadlineClass}
    for category in ref.categories:
        where = f"category {category.code!r} ({category.name})"
        if category.deadline_class not in known_classes:
            problems.append(f"{where}: unknown deadline class {category.deadline_class!r}")
        if not category.parent:
            if not _TOP_CODE.fullmatch(category.code):
                problems.append(f"{where}: a top-level code has 2 digits")
            if category.department or category.co_departments:
                problems.append(f"{where}: a non-leaf node must not carry a department")
            if not ref.children(category.code):
                problems.append(f"{where}: top-level node without leaves")
            continue
        parent = ref.category(category.parent)
        if parent is None:
            problems.append(f"{where}: unknown parent {category.parent!r}")
        elif parent.parent:
            problems.append(f"{where}: parent {parent.code!r} is itself a leaf (2 levels only)")
        if not _LEAF_CODE.fullmatch(category.code) or not category.code.startswith(category.parent):
            problems.append(f"{where}: a leaf code is its parent's code plus 2 digits")
        if not category.department:
            problems.append(f"{where}: a leaf needs a default department")
        elif ref.department(category.department) is None:
            problems.append(f"{where}: unknown department {category.department!r}")
        for co in category.co_departments:
            if ref.department(co) is None:
                problems.append(f"{where}: unknown co-department {co!r}")
            elif co == category.department:
                problems.append(f"{where}: co-department {co!r} is also the lead department")

    problems += [e.message for e in check_county_routing(ref.county_routing, ref)]

    for entry in ref.knowledge:
        where = f"knowledge {entry.id!r} ({entry.title})"
        if not entry.title or not entry.answer:
            problems.append(f"{where}: title and answer are required")
        if entry.category and ref.category(entry.category) is None:
            problems.append(f"{where}: unknown category {entry.category!r}")
        if entry.department and ref.department(entry.department) is None:
            problems.append(f"{where}: unknown department {entry.department!r}")
    return problems


def check_county_routing(rules: Iterable[CountyRule], ref: ReferenceData) -> list[FieldError]:
    """Every problem of a county routing table against ``ref``, one error per row and column:
    a known county platform, a category code or a city unit to match (once per county), and a
    unit of that county's platform (or ``township``, or ``city``)."""
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()

    def bad(i: int, column: str, message: str, message_en: str) -> None:
        errors.append(FieldError(f"body[{i}].{column}", "invalid", message, message_en))

    for i, rule in enumerate(rules):
        row = f"第 {i + 1} 行"
        platform = ref.platform(rule.county)
        if platform is None or platform.code == CITY_PLATFORM:
            bad(
                i,
                "county",
                f"{row}：{rule.county!r} 不是县区平台代码（见 platforms.csv）",
                f"Row {i + 1}: {rule.county!r} is not a county platform",
            )
            continue
        if (rule.county, rule.match) in seen:
            bad(
                i,
                "match",
                f"{row}：{platform.name} 的 {rule.match!r} 已有一行",
                f"Row {i + 1}: {rule.match!r} repeats for {platform.name}",
            )
        seen.add((rule.county, rule.match))
        city_unit = ref.department(rule.match)
        if ref.category(rule.match) is None and (
            city_unit is None or city_unit.platform != CITY_PLATFORM
        ):
            bad(
                i,
                "match",
                f"{row}：{rule.match!r} 既不是分类代码也不是市级单位代码",
                f"Row {i + 1}: {rule.match!r} is neither a category nor a city unit",
            )
        if rule.department in (TOWNSHIP, CITY):
            continue
        unit = ref.department(rule.department)
        if unit is None or unit.platform != rule.county:
            bad(
                i,
                "department",
                f"{row}：{rule.department!r} 不是{platform.name}平台的单位"
                f"（或填 {TOWNSHIP}：所在乡镇街道；{CITY}：市级单位）",
                f"Row {i + 1}: {rule.department!r} is not a unit of {platform.name}",
            )
    return errors


@cache
def load_reference() -> ReferenceData:
    """Load and check the packaged reference data; ``ValueError`` lists every problem found."""
    categories, parse_problems = _read_categories()
    ref = ReferenceData(
        platforms=load_platforms(),
        departments=load_departments(),
        categories=categories,
        knowledge=load_knowledge(),
        county_routing=load_county_routing(),
    )
    problems = [*parse_problems, *validate_reference(ref)]
    if problems:
        raise ValueError("reference data is inconsistent:\n" + "\n".join(problems))
    return ref
