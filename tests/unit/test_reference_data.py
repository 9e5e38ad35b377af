"""The shipped reference data: counts, integrity, routing and pinyin."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_tui.data.reference import (
    ReferenceData,
    department_search_keys,
    load_categories,
    load_departments,
    load_knowledge,
    load_platforms,
    load_reference,
    validate_reference,
)
from agent_tui.domain.case import DeadlineClass
from agent_tui.domain.reference import Category, Department, KnowledgeEntry, Platform


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return load_reference()


# --- counts -------------------------------------------------------------------------------------


def test_one_city_platform_and_thirteen_county_platforms(ref: ReferenceData) -> None:
    codes = [p.code for p in ref.platforms]
    assert codes[0] == "city"
    assert len(codes) - 1 == 13
    assert ref.platform("411726") is not None
    assert ref.platform("411726").county == "泌阳县"  # type: ignore[union-attr]
    assert ref.platform("411771").county == "河南驻马店经济开发区"  # type: ignore[union-attr]
    assert {"gxq", "cxythsfq"} <= set(codes)


def test_department_counts_by_kind(ref: ReferenceData) -> None:
    assert len(ref.departments_of_kind("municipal")) >= 64
    assert len(ref.departments_of_kind("county")) == 13


@pytest.mark.parametrize("word", ["供水", "供电", "燃气", "热力", "移动", "联通", "电信", "广电"])
def test_utilities_present(ref: ReferenceData, word: str) -> None:
    assert any(word in d.name or word in d.short_name for d in ref.departments_of_kind("utility"))


def test_every_county_platform_has_its_government(ref: ReferenceData) -> None:
    for platform in ref.platforms:
        if platform.code != "city":
            assert ref.county_department(platform.code) is not None, platform.code


def test_category_and_knowledge_counts(ref: ReferenceData) -> None:
    assert len(ref.top_level()) >= 12
    assert len(ref.leaves()) >= 60
    assert len(ref.knowledge) >= 50


# --- integrity and routing ----------------------------------------------------------------------


def test_shipped_data_is_consistent(ref: ReferenceData) -> None:
    assert validate_reference(ref) == []


def test_every_leaf_routes_to_an_existing_department(ref: ReferenceData) -> None:
    for leaf in ref.leaves():
        assert ref.department(leaf.department) is not None, leaf.code
        assert all(ref.department(co) is not None for co in leaf.co_departments), leaf.code


def test_utility_leaves_have_the_utilities_class(ref: ReferenceData) -> None:
    (utilities,) = [c for c in ref.top_level() if c.name == "水电气暖"]
    leaves = ref.children(utilities.code)
    assert leaves
    assert {leaf.deadline_class for leaf in leaves} == {DeadlineClass.UTILITIES}


def test_typical_leaves_route_as_a_centre_expects(ref: ReferenceData) -> None:
    by_name = {leaf.name: leaf for leaf in ref.leaves()}
    assert by_name["占道经营"].department == "CGJ"
    assert by_name["违章建筑"].deadline_class is DeadlineClass.COMPLEX
    assert by_name["燃气泄漏"].deadline_class is DeadlineClass.EMERGENCY
    assert by_name["政策咨询"].deadline_class is DeadlineClass.INQUIRY
    assert by_name["停电"].department == "DL"


def test_typical_questions_are_in_the_knowledge_base(ref: ReferenceData) -> None:
    titles = {entry.title for entry in ref.knowledge}
    assert "无物业小区归哪个部门管？" in titles
    assert "供水管道维修电话是多少？" in titles


def test_lookups_and_caching(ref: ReferenceData) -> None:
    assert load_reference() is ref
    assert load_departments() is ref.departments
    assert load_categories() == ref.categories
    assert load_platforms() is ref.platforms
    assert load_knowledge() is ref.knowledge
    assert ref.category("0101").name == "占道经营"  # type: ignore[union-attr]
    assert ref.department("nope") is None
    # What screens and reports show: the short name, else the full name, else the code.
    assert ref.department_label("CGJ") == "市城管局"
    assert ref.department_label("nope") == "nope"
    assert ref.department_label("") == ""
    nameless = replace(ref, departments=(replace(ref.departments[0], short_name=""),))
    assert nameless.department_label(ref.departments[0].code) == ref.departments[0].name
    assert ref.children("0101") == ()
    assert all(c.parent == "01" for c in ref.children("01"))


# --- pinyin -------------------------------------------------------------------------------------


def test_pinyin_is_filled(ref: ReferenceData) -> None:
    cgj = ref.department("CGJ")
    assert cgj is not None
    assert cgj.initials == "scgj"
    assert "zmdscsglj" in department_search_keys(cgj)  # the full name's initials
    assert ref.platform("411726").pinyin == "biyangxian"  # type: ignore[union-attr]
    assert all(c.pinyin and c.initials for c in ref.categories)
    assert all(k.initials.isalnum() for k in ref.knowledge)  # no "？" from the titles
    (water,) = [k for k in ref.knowledge if k.title == "供水管道维修电话是多少？"]
    assert water.initials == "gsgdwxdhsds"


# --- validate_reference on broken data ----------------------------------------------------------


def _tiny() -> ReferenceData:
    return ReferenceData(
        platforms=(Platform("city", "市平台", ""), Platform("411726", "泌阳县", "泌阳县")),
        departments=(
            Department("CGJ", "驻马店市城市管理局", "市城管局", "municipal"),
            Department("BYX", "泌阳县人民政府", "泌阳县政府", "county", platform="411726"),
        ),
        categories=(
            Category("01", "城市管理", ""),
            Category("0101", "占道经营", "01", department="CGJ"),
        ),
        knowledge=(KnowledgeEntry("K1", "占道经营找谁？", "城管部门", category="0101"),),
    )


def _with(**tables: tuple[object, ...]) -> list[str]:
    return validate_reference(replace(_tiny(), **tables))  # type: ignore[arg-type]


def test_tiny_reference_is_valid() -> None:
    assert validate_reference(_tiny()) == []


def test_catches_duplicate_codes() -> None:
    tiny = _tiny()
    problems = _with(departments=(*tiny.departments, tiny.departments[0]))
    assert any("duplicate code 'CGJ'" in p for p in problems)


def test_catches_leaf_with_unknown_department() -> None:
    tiny = _tiny()
    problems = _with(
        categories=(tiny.categories[0], Category("0101", "占道经营", "01", department="XXX"))
    )
    assert any("unknown department 'XXX'" in p for p in problems)


def test_catches_unknown_parent() -> None:
    tiny = _tiny()
    problems = _with(categories=(*tiny.categories, Category("0901", "户籍", "09", "CGJ")))
    assert any("unknown parent '09'" in p for p in problems)


def test_catches_non_leaf_with_department() -> None:
    tiny = _tiny()
    problems = _with(categories=(Category("01", "城市管理", "", "CGJ"), tiny.categories[1]))
    assert any("non-leaf" in p for p in problems)


def test_catches_knowledge_pointing_nowhere() -> None:
    entry = KnowledgeEntry("K2", "标题", "答案", category="9999", department="ZZZ")
    problems = _with(knowledge=(entry,))
    assert any("unknown category '9999'" in p for p in problems)
    assert any("unknown department 'ZZZ'" in p for p in problems)


def test_catches_unknown_deadline_class() -> None:
    tiny = _tiny()
    bad = Category("0101", "占道经营", "01", "CGJ", deadline_class="urgent")  # type: ignore[arg-type]
    problems = _with(categories=(tiny.categories[0], bad))
    assert any("unknown deadline class 'urgent'" in p for p in problems)


def test_catches_unknown_co_department_and_platform() -> None:
    tiny = _tiny()
    leaf = Category("0101", "占道经营", "01", "CGJ", co_departments=("QQQ",))
    problems = _with(
        categories=(tiny.categories[0], leaf),
        departments=(*tiny.departments, Department("X", "某单位", "某", "municipal", "nowhere")),
    )
    assert any("unknown co-department 'QQQ'" in p for p in problems)
    assert any("unknown platform 'nowhere'" in p for p in problems)


def test_reports_every_problem_at_once() -> None:
    tiny = _tiny()
    problems = _with(
        categories=(
            Category("01", "城市管理", "", "CGJ"),
            Category("0101", "占道经营", "01", "XXX"),
        ),
        knowledge=(KnowledgeEntry("K1", "t", "a", department="ZZZ"),),
    )
    assert len(problems) >= 3
    assert tiny.categories  # the original is untouched (frozen)


def test_loader_raises_with_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    import agent_tui.data.reference as module

    broken = (
        KnowledgeEntry("K1", "t", "a", category="9999"),
        KnowledgeEntry("K1", "t", "a", department="ZZZ"),
    )
    monkeypatch.setattr(module, "load_knowledge", lambda: broken)
    with pytest.raises(ValueError) as excinfo:
        module.load_reference.__wrapped__()  # bypass the cache
    message = str(excinfo.value)
    assert "duplicate code 'K1'" in message
    assert "unknown category '9999'" in message
    assert "unknown department 'ZZZ'" in message
