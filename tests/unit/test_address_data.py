"""The packaged gazetteer and starter roads, the CSV importer and the OSM importer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agent_tui.data.addresses import (
    import_osm,
    load_gazetteer,
    load_starter_roads,
    read_address_csv,
    write_address_csv,
)
from agent_tui.data.regen_pinyin import GAZETTEER_PATH, main, regenerate, regenerated_text
from agent_tui.domain.address import AddressEntry, AddressLevel
from agent_tui.domain.pinyin import pinyin_keys


def test_gazetteer_counts() -> None:
    counts = Counter(e.level for e in load_gazetteer())
    assert counts[AddressLevel.COUNTY] == 11
    assert counts[AddressLevel.TOWNSHIP] == 208
    assert counts[AddressLevel.VILLAGE] == 2906


def test_gazetteer_keeps_committee_name_and_code() -> None:
    village = next(e for e in load_gazetteer() if e.name == "中山街社区")
    assert village.aliases == ("中山街社区居民委员会",)
    assert village.code == "411702001001"
    assert village.township == "人民街街道"


def test_packaged_pinyin_is_up_to_date() -> None:
    assert regenerate(check=True) == []
    assert main(["--check"]) == 0


def test_regen_check_detects_stale_columns(tmp_path: Path) -> None:
    text = GAZETTEER_PATH.read_text(encoding="utf-8").replace("biyangxian,byx", "miyangxian,myx")
    stale = tmp_path / "g.csv"
    stale.write_text(text, encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert regenerate(stale) == ["泌阳县: miyangxian → biyangxian"]
    assert main(["--check", str(stale)]) == 0


def test_regenerated_text_keeps_crlf() -> None:
    original = "level,name,pinyin,initials\r\n3,泌阳县,x,y\r\n"
    assert regenerated_text(original) == "level,name,pinyin,initials\r\n3,泌阳县,biyangxian,byx\r\n"


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("泌阳县", "byx"),
        ("佛阁寺镇", "fgsz"),
        ("翟庄村", "zzc"),
        ("曾庄村", "zzc"),
        ("重渠镇", "cqz"),
    ],
)
def test_heteronyms(name: str, initials: str) -> None:
    assert pinyin_keys(name)[1] == initials


def test_starter_roads() -> None:
    entries = load_starter_roads()
    names = {e.name for e in entries}
    assert {"金山路", "骏达路", "乐山大道", "金山路与骏达路交叉口", "正阳县第二高级中学"} <= names
    assert all(e.source == "starter" for e in entries)
    assert {e.level for e in entries} == {
        AddressLevel.ROAD,
        AddressLevel.CROSSING,
        AddressLevel.POI,
    }


def test_csv_round_trip(tmp_path: Path) -> None:
    entries = [
        AddressEntry(
            AddressLevel.ROAD, "金山路", "驿城区", aliases=("金山大道", "jsl"), source="c"
        ),
        AddressEntry(AddressLevel.VILLAGE, "某社区", "驿城区", "东风路街道", "某社区", code="41"),
        AddressEntry(AddressLevel.CROSSING, "金山路与骏达路交叉口", "河南驻马店经济开发区"),
    ]
    path = tmp_path / "book.csv"
    write_address_csv(entries, path)
    assert read_address_csv(path) == entries


def test_csv_accepts_chinese_level_labels_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text(
        "\ufefflevel,county,township,village,name,aliases,source\n道路,驿城区,,,文化路,,centre\n",
        encoding="utf-8",
    )
    [entry] = read_address_csv(path)
    assert entry.level is AddressLevel.ROAD and entry.name == "文化路"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("street,驿城区,,,文化路,,c", "未知的地址级别"),
        ("road,驿城区,,,,,c", "名称为空"),
        ("road,,,,文化路,,c", "县区为空"),
        ("village,驿城区,,,某村,,c", "乡镇街道"),
        ("crossing,驿城区,,,金山路骏达路,,c", "交叉口名称"),
        ("road,驿城区,,,文化路,,c,x,extra", "列数多于表头"),
        ("road,驿城区,,,文化路", "too few fields"),
    ],
)
def test_bad_row_names_its_line(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "book.csv"
    header = "level,county,township,village,name,aliases,source\n"
    path.write_text(header + "road,驿城区,,,解放路,,c\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"第 3 行：.*{problem}"):
        read_address_csv(path)


def test_missing_columns_and_unknown_county(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("level,name\nroad,文化路\n", encoding="utf-8")
    with pytest.raises(ValueError, match="第 1 行：缺少列 county"):
        read_address_csv(path)
    path.write_text(
        "level,county,township,village,name,aliases,source\nroad,火星县,,,文化路,,c\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="第 2 行：未知的县区"):
        read_address_csv(path, known_counties={"驿城区"})


OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" version="1" lat="32.98" lon="114.02">
    <tag k="amenity" v="school"/><tag k="name" v="驻马店市第一高级中学"/>
  </node>
  <node id="2" version="1" lat="32.99" lon="114.03"/>
  <node id="3" version="1" lat="32.99" lon="114.04">
    <tag k="place" v="village"/><tag k="name" v="前王庄"/><tag k="is_in" v="驻马店市,驿城区"/>
  </node>
  <node id="4" version="1" lat="32.99" lon="114.05">
    <tag k="place" v="town"/><tag k="name" v="水屯镇"/>
  </node>
  <node id="5" version="1" lat="32.99" lon="114.06">
    <tag k="shop" v="supermarket"/><tag k="name" v="丹尼斯"/><tag k="addr:county" v="驿城区"/>
  </node>
  <way id="10" version="1">
    <nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/><tag k="name" v="金山路"/>
    <tag k="alt_name" v="金山大道"/>
  </way>
  <way id="11" version="1">
    <nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="name" v="金山路"/>
  </way>
  <way id="12" version="1"><nd ref="1"/><nd ref="3"/><tag k="highway" v="service"/></way>
  <way id="13" version="1">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="building" v="yes"/><tag k="name" v="天中广场"/>
  </way>
</osm>
"""


def test_import_osm(tmp_path: Path) -> None:
    path = tmp_path / "tiny.osm"
    path.write_text(OSM, encoding="utf-8")
    entries = import_osm(path, county="河南驻马店经济开发区")
    by_name = {e.name: e for e in entries}
    assert sorted(by_name) == sorted(
        ["驻马店市第一高级中学", "前王庄", "丹尼斯", "金山路", "天中广场"]
    )
    road = by_name["金山路"]
    assert road.level is AddressLevel.ROAD and road.aliases == ("金山大道",)
    assert road.county == "河南驻马店经济开发区" and road.source == "osm"
    assert [e.name for e in entries].count("金山路") == 1  # two ways, one road
    assert by_name["前王庄"].level is AddressLevel.VILLAGE
    assert by_name["前王庄"].county == "驿城区"  # from is_in
    assert by_name["丹尼斯"].county == "驿城区"  # from addr:county
    assert by_name["天中广场"].level is AddressLevel.POI
    assert by_name["驻马店市第一高级中学"].level is AddressLevel.POI


def test_import_osm_unreadable_file_is_a_value_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node", encoding="utf-8")
    with pytest.raises(ValueError, match="无法读取 OSM 文件"):
        import_osm(bad, county="驿城区")
    with pytest.raises(ValueError, match="无法读取 OSM 文件"):
        import_osm(tmp_path / "missing.osm", county="驿城区")
