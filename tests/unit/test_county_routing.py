"""Routing knows the county: the shipped county routing table, every county of the city.

A water outage at 泌阳县 官庄镇 王庄村 goes to 泌阳县's water company, not the city's; a township
matter to the township government; a category no county unit takes to the city's unit — and
the proposal says why.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_tui.data.addresses import load_gazetteer
from agent_tui.data.reference import (
    CITY_PLATFORM,
    ReferenceData,
    check_county_routing,
    county_rules_from_json,
    load_reference,
    validate_reference,
)
from agent_tui.domain.address import AddressLevel
from agent_tui.domain.case import DeadlineClass, Urgency
from agent_tui.domain.errors import ValidationFailed
from agent_tui.domain.routing import CITY, TOWNSHIP, CountyRule, RouteBasis, Router

WATER, HOUSING, TOWNSHIP_MATTER, MARKET = "1001", "0201", "1106", "0502"
#: The central city: the city's water company and city management serve it (the table says so).
CENTRAL_CITY = {"411702", "411771"}


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return load_reference()


@pytest.fixture(scope="module")
def router(ref: ReferenceData) -> Router:
    return Router(ref.categories, ref.departments, ref.county_routing, ref.platforms)


def _townships() -> dict[str, list[str]]:
    """Every township of the gazetteer, by county."""
    out: dict[str, list[str]] = {}
    for entry in load_gazetteer():
        if entry.level is AddressLevel.TOWNSHIP:
            out.setdefault(entry.county, []).append(entry.name)
    return out


def _platform_name(ref: ReferenceData, county: str) -> str:
    """What the reason names: the platform (经济开发区), not the gazetteer's long name."""
    return next(p.name for p in ref.platforms if p.county == county)


def _counties(ref: ReferenceData) -> list[tuple[str, str]]:
    """(platform code, gazetteer county) of every county of the city's gazetteer."""
    gazetteer = {e.county for e in load_gazetteer() if e.level is AddressLevel.COUNTY}
    found = [(p.code, p.county) for p in ref.platforms if p.county in gazetteer]
    assert {county for _, county in found} == gazetteer  # every county has its platform
    return found


def test_every_county_of_the_city_has_its_rows(ref: ReferenceData) -> None:
    counties = _counties(ref)
    assert len(counties) == 11
    for platform, county in counties:
        rows = {rule.match: rule for rule in ref.county_routing if rule.county == platform}
        assert {"GS", "ZJJ", TOWNSHIP_MATTER} <= set(rows), county
        assert rows[TOWNSHIP_MATTER].department == TOWNSHIP
        for match in ("GS", "ZJJ"):
            if match == "GS" and platform in CENTRAL_CITY:
                assert rows[match].department == CITY
                continue
            unit = ref.department(rows[match].department)
            assert unit is not None and unit.platform == platform, (county, match)
            assert unit.name == rows[match].name  # the table says whom it names


@pytest.mark.parametrize(
    ("category", "basis"),
    [
        (WATER, RouteBasis.COUNTY),
        (HOUSING, RouteBasis.COUNTY),
        (TOWNSHIP_MATTER, RouteBasis.TOWNSHIP),
    ],
)
def test_a_matter_in_each_county_goes_to_that_countys_unit(
    ref: ReferenceData, router: Router, category: str, basis: RouteBasis
) -> None:
    townships = _townships()
    for platform, county in _counties(ref):
        township = townships[county][0]
        route = router.route(category, Urgency.NORMAL, county, township)
        assert route.department is not None
        if category == WATER and platform in CENTRAL_CITY:
            assert route.department.code == "GS" and route.basis is RouteBasis.CENTRAL
            assert route.reason.endswith("分派：供水公司（中心城区由市级单位办理）")
            continue
        assert route.department.platform == platform, (county, route.department)
        assert route.basis is basis
        if basis is RouteBasis.TOWNSHIP:
            assert route.department.township == township
            assert route.department.kind == "township"
            where = _platform_name(ref, county)
            assert (
                route.reason
                == f"按{where}{township}分派：{route.department.short_name}（乡镇街道）"
            )
        else:
            assert route.department.kind == "county_unit"
            where = _platform_name(ref, county)
            assert route.reason == f"按{where}分派：{route.department.short_name}（县区对口单位）"


def test_every_township_has_its_government(ref: ReferenceData, router: Router) -> None:
    townships = _townships()
    assert sum(len(names) for names in townships.values()) == 208
    for county, names in townships.items():
        for township in names:
            route = router.route(TOWNSHIP_MATTER, Urgency.NORMAL, county, township)
            assert route.basis is RouteBasis.TOWNSHIP, (county, township)
            assert route.department is not None and route.department.township == township


def test_the_water_outage_at_wangzhuang_goes_to_biyangs_water_company(router: Router) -> None:
    route = router.route(WATER, Urgency.NORMAL, "泌阳县", "官庄镇")
    assert route.department is not None and route.department.code == "BYX-GS"
    assert route.reason == "按泌阳县分派：泌阳县供水公司（县区对口单位）"
    assert route.deadline_class is DeadlineClass.UTILITIES  # the category's clock, still


def test_without_a_county_unit_the_city_unit_and_the_reason(router: Router) -> None:
    route = router.route(MARKET, Urgency.NORMAL, "泌阳县", "官庄镇")
    assert route.department is not None and route.department.code == "SCJGJ"
    assert route.basis is RouteBasis.CITY
    assert route.reason.startswith("市级单位：县区无对口单位")
    # no place yet: the category's default, as before
    plain = router.route(WATER)
    assert plain.department is not None and plain.department.code == "GS"
    assert plain.basis is RouteBasis.CATEGORY and plain.reason == "默认主办：供水公司"


def test_city_management_in_the_central_city_stays_with_the_city(router: Router) -> None:
    route = router.route("0101", Urgency.NORMAL, "河南驻马店经济开发区", "")  # 占道经营 at 金山路
    assert route.department is not None and route.department.code == "CGJ"
    assert route.basis is RouteBasis.CENTRAL
    county = router.route("0101", Urgency.NORMAL, "泌阳县", "")
    assert county.department is not None and county.department.code == "BYX-CGJ"


def test_a_township_matter_without_a_township_goes_to_the_county_government(
    router: Router,
) -> None:
    route = router.route(TOWNSHIP_MATTER, Urgency.NORMAL, "泌阳县", "")
    assert route.department is not None and route.department.code == "BYX"
    assert route.basis is RouteBasis.COUNTY


def test_co_departments_follow_the_county_too(router: Router) -> None:
    route = router.route("1002", Urgency.NORMAL, "正阳县", "")  # 供水管道破裂, 协办 城管
    assert route.department is not None and route.department.code == "ZYX-GS"
    assert [d.code for d in route.co_departments] == ["ZYX-CGJ"]


def test_a_leaf_row_wins_over_a_department_row(ref: ReferenceData) -> None:
    rules = (
        CountyRule("411726", "GS", "BYX-GS"),
        CountyRule("411726", "1003", "BYX-SLJ"),  # 水质问题: the county's water bureau
    )
    router = Router(ref.categories, ref.departments, rules, ref.platforms)
    assert router.route("1003", Urgency.NORMAL, "泌阳县").department.code == "BYX-SLJ"  # type: ignore[union-attr]
    assert router.route("1001", Urgency.NORMAL, "泌阳县").department.code == "BYX-GS"  # type: ignore[union-attr]
    # another county without rows: the city's unit
    assert router.route("1001", Urgency.NORMAL, "正阳县").department.code == "GS"  # type: ignore[union-attr]


def test_the_county_units_belong_to_their_platform(ref: ReferenceData) -> None:
    for d in ref.departments:
        if d.kind in ("county_unit", "township"):
            assert d.platform != CITY_PLATFORM and ref.platform(d.platform) is not None
    broken = replace(
        ref,
        departments=(*ref.departments, replace(ref.departments[-1], code="X1", township="")),
    )
    assert any("township" in p for p in validate_reference(broken))


def test_a_bad_table_is_refused_row_by_row(ref: ReferenceData) -> None:
    rules = county_rules_from_json(
        [
            {"county": "411726", "match": "GS", "department": "BYX-GS", "name": "泌阳县供水公司"},
            {"county": "999999", "match": "GS", "department": "BYX-GS"},
            {"county": "411726", "match": "nope", "department": "ZYX-GS"},
            {"county": "411726", "match": "GS", "department": "BYX-GS"},
        ]
    )
    errors = {e.field: e.message for e in check_county_routing(rules, ref)}
    assert set(errors) == {
        "body[1].county",
        "body[2].match",
        "body[2].department",
        "body[3].match",
    }
    assert "999999" in errors["body[1].county"]
    assert "已有一行" in errors["body[3].match"]
    with pytest.raises(ValidationFailed) as caught:
        county_rules_from_json([{"county": "411726"}, "x"])
    assert [e.field for e in caught.value.errors] == ["body[0]", "body[1]"]
    with pytest.raises(ValidationFailed):
        county_rules_from_json({"county": "411726"})
