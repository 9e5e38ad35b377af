"""Address entries, paths, crossings and the address index over the real data."""

from __future__ import annotations

import pytest

from agent_tui.data.addresses import build_address_index, default_address_index
from agent_tui.domain.address import (
    AddressEntry,
    AddressIndex,
    AddressLevel,
    crossing_name,
    crossing_roads,
)
from agent_tui.domain.search import MatchKind


def test_paths() -> None:
    village = AddressEntry(
        AddressLevel.VILLAGE, "前进路北段社区", "驿城区", "东风路街道", "前进路北段社区"
    )
    assert village.path == "驿城区 › 东风路街道 › 前进路北段社区"
    assert village.full_text == "驿城区东风路街道前进路北段社区"
    road = AddressEntry(AddressLevel.ROAD, "金山路", "驿城区")
    assert road.path == "驿城区 › 金山路"
    county = AddressEntry(AddressLevel.COUNTY, "泌阳县", "泌阳县")
    assert county.path == "泌阳县"


def test_crossing_names() -> None:
    assert crossing_name("金山路", "骏达路") == "金山路与骏达路交叉口"
    assert crossing_roads("金山路与骏达路交叉口") == ("金山路", "骏达路")
    assert crossing_roads("金山路") is None


def test_level_parse_accepts_value_and_label() -> None:
    assert AddressLevel.parse("road") is AddressLevel.ROAD
    assert AddressLevel.parse("交叉口") is AddressLevel.CROSSING
    with pytest.raises(ValueError, match="未知的地址级别"):
        AddressLevel.parse("street")


def test_jsl_finds_jinshan_road_first_among_roads() -> None:
    result = default_address_index().search("jsl")
    roads = [m for m in result if m.entry.level is AddressLevel.ROAD]
    assert roads[0].entry.name == "金山路"
    assert roads[0].kind is MatchKind.INITIALS


@pytest.mark.parametrize("query", ["泌阳", "byx", "泌阳县", "biyang"])
def test_biyang_county_first(query: str) -> None:
    first = default_address_index().search(query)[0]
    assert first.entry.name == "泌阳县"
    assert first.entry.level is AddressLevel.COUNTY
    assert first.path == "泌阳县"


def test_village_by_initials_with_its_path() -> None:
    result = default_address_index().search("qwzsq")  # 前王庄社区
    hit = next(m for m in result if m.entry.name == "前王庄社区")
    assert hit.kind is MatchKind.INITIALS
    assert hit.path == "驿城区 › 西园街街道 › 前王庄社区"


def test_heteronym_fixed_village_initials() -> None:
    # 佛阁寺 is fó gé sì; pypinyin alone says fú.
    names = [m.entry.name for m in default_address_index().search("fgsz")]
    assert names[0] == "佛阁寺镇"


def test_full_pinyin_finds_road() -> None:
    first = default_address_index().search("jinshanlu")[0]
    assert first.entry.name == "金山路"
    assert first.kind is MatchKind.PINYIN_PREFIX


def test_committee_name_alias_is_searchable() -> None:
    first = default_address_index().search("前王庄社区居民委员会")[0]
    assert first.entry.name == "前王庄社区"
    assert first.kind is MatchKind.EXACT


def test_typo_in_a_chinese_name_still_found() -> None:
    result = default_address_index().search("前王庄社曲")
    assert result[0].entry.name == "前王庄社区"
    assert result[0].kind is MatchKind.FUZZY


@pytest.mark.parametrize("query", ["金山路骏达路", "骏达路金山路", "jsl jdl", "金山路与骏达路"])
def test_crossing_from_both_roads(query: str) -> None:
    first = default_address_index().search(query)[0]
    assert first.entry.name == "金山路与骏达路交叉口"
    assert first.entry.level is AddressLevel.CROSSING


def test_crossing_lookup_either_order() -> None:
    index = default_address_index()
    found = index.crossing("骏达路", "金山路")
    assert found is not None and found.name == "金山路与骏达路交叉口"
    assert index.crossing("金山路", "不存在路") is None


def test_county_scope_and_aliases() -> None:
    index = default_address_index()
    result = index.search("王庄", county="泌阳县")
    assert result and all(m.entry.county == "泌阳县" for m in result)
    scoped = index.search("金山", county="开发区")
    assert scoped and all(m.entry.county == "河南驻马店经济开发区" for m in scoped)
    with pytest.raises(ValueError, match="未知的县区"):
        index.search("金山", county="火星县")


def test_level_filter() -> None:
    result = default_address_index().search("金山", levels={AddressLevel.ROAD})
    assert [m.entry.name for m in result] == ["金山路"]


@pytest.mark.parametrize("limit", [1, 5, 50])
def test_never_more_than_limit(limit: int) -> None:
    assert len(default_address_index().search("村", limit=limit)) == limit


def test_extra_entries_are_added_to_the_default_data() -> None:
    extra = [AddressEntry(AddressLevel.POI, "天中广场", "驿城区", source="centre")]
    index = build_address_index(extra)
    assert len(index) == len(default_address_index()) + 1
    assert index.search("tzgc")[0].entry.name == "天中广场"
    assert build_address_index() is default_address_index()


def test_preferred_counties_rank_first_within_a_level() -> None:
    entries = [
        AddressEntry(AddressLevel.ROAD, "建设路", "西平县"),
        AddressEntry(AddressLevel.ROAD, "金山路", "驿城区"),
    ]
    assert AddressIndex(entries).search("jsl")[0].entry.name == "建设路"  # 建 < 金
    assert AddressIndex(entries, ["驿城区"]).search("jsl")[0].entry.name == "金山路"


# --- "county (or township) + name": which 王庄 ------------------------------------------------


def _labels(query: str, limit: int = 10) -> list[str]:
    return [m.entry.label for m in default_address_index().search(query, limit)]


def test_there_are_many_wangzhuang_villages_in_the_city() -> None:
    villages = [
        m
        for m in default_address_index().search("王庄村", 50)
        if m.entry.name == "王庄村" and m.entry.level is AddressLevel.VILLAGE
    ]
    assert len(villages) >= 8
    assert len({m.entry.label for m in villages}) == len(villages)  # each reads differently


@pytest.mark.parametrize(
    "query", ["泌阳 王庄", "泌阳王庄", "biyang wangzhuang", "by wz", "泌阳县 王庄村", "BY WZ"]
)
def test_county_plus_name_finds_that_countys_villages(query: str) -> None:
    labels = _labels(query, 12)
    wanted = {"泌阳县·马谷田镇·王庄村", "泌阳县·官庄镇·王庄村", "泌阳县·赊湾镇·王庄村"}
    assert wanted <= set(labels), labels
    # Only 泌阳县's: the scope is kept (hits of the whole query as one word come after).
    assert all(label.startswith("泌阳县") for label in labels[:3]), labels


@pytest.mark.parametrize("query", ["官庄 王庄", "泌阳 官庄 王庄", "泌阳县·官庄镇·王庄村"])
def test_township_plus_name_narrows_to_one(query: str) -> None:
    assert _labels(query)[0] == "泌阳县·官庄镇·王庄村"


def test_township_plus_initials_stays_in_the_township() -> None:
    labels = _labels("gz wz")  # 官庄镇: 王庄村, and 吴庄村 by the same initials
    assert "泌阳县·官庄镇·王庄村" in labels
    assert all(label.startswith("泌阳县·官庄镇·") for label in labels[:2]), labels


def test_the_label_is_the_path_and_finds_itself_again() -> None:
    index = default_address_index()
    for m in index.search("王庄村", 50):
        assert index.search(m.entry.label, 1)[0].entry == m.entry


def test_two_roads_still_find_their_crossing_first() -> None:
    first = default_address_index().search("jsl jdl")[0]
    assert first.entry.name == "金山路与骏达路交叉口"


def test_a_scope_word_alone_is_still_the_county() -> None:
    assert _labels("泌阳")[0] == "泌阳县"


def test_free_text_keeps_the_county_it_names() -> None:
    index = default_address_index()
    kept = index.unmatched("泌阳 王庄西头小卖部")
    assert (kept.county, kept.township, kept.text) == ("泌阳县", "", "王庄西头小卖部")
    assert kept.label == "泌阳县·王庄西头小卖部（未匹配）"
    assert kept.detail == "王庄西头小卖部（未匹配）"
    township = index.unmatched("泌阳 官庄 老槐树下")
    assert (township.county, township.township) == ("泌阳县", "官庄镇")
    nowhere = index.unmatched("某某小区")
    assert (nowhere.county, nowhere.label) == ("", "某某小区（未匹配）")
