"""The precomputed pinyin table: up to date, read back exactly, and indexes built from it search
exactly as indexes built by pypinyin do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_tui.data.addresses import CENTRAL_CITY, load_gazetteer, load_starter_roads
from agent_tui.data.indexes import (
    category_index,
    default_indexes,
    default_reference,
    department_index,
    knowledge_index,
)
from agent_tui.data.pinyin_table import format_pinyin_table, parse_pinyin_table
from agent_tui.data.reference import load_reference
from agent_tui.data.regen_pinyin import TABLE_PATH, packaged_readings, regenerate_table
from agent_tui.domain.address import AddressIndex
from agent_tui.domain.pinyin import convert, fresh_readings, pinyin_keys

QUERIES = [
    # Chinese: exact, prefix, substring, a crossing's two roads
    "金山路",
    "驿城",
    "泌阳",
    "王庄",
    "委员会",
    "金山路骏达路",
    "城管",
    "停水",
    "噪音",
    # initials, heteronyms among them (泌 bì, 翟 zhái, 曾 zēng)
    "jsl",
    "byx",
    "zzc",
    "ycq",
    "scgj",
    "jsljdl",
    "zmdscsglj",
    # full pinyin
    "jinshan",
    "biyang",
    "zhumadian",
    "xipingxian",
    "gongshui",
    # typos for the fuzzy fallback
    "金山绿",
    "泌杨县",
    "jinshnalu",
    "jdl",
    "qwzsq",
]


def _results(indexes: tuple[Any, ...]) -> list[list[tuple[str, str, float, str]]]:
    addresses, *others = indexes
    out = [
        [(m.entry.name, m.kind.name, m.score, m.matched) for m in addresses.search(q)]
        for q in QUERIES
    ]
    for index in others:
        out += [
            [(m.entry.name, m.kind.name, m.score, m.matched) for m in index.search(q)]
            for q in QUERIES
        ]
    return out


@pytest.fixture(scope="module")
def by_pypinyin() -> tuple[tuple[Any, ...], dict[str, tuple[str, str]]]:
    """The packaged indexes with every reading computed by pypinyin, and those readings."""
    readings = packaged_readings()  # the reference records converted again, past the caches
    with fresh_readings():
        ref = load_reference()
        indexes = (
            AddressIndex((*load_gazetteer(), *load_starter_roads()), CENTRAL_CITY),
            category_index(ref),
            department_index(ref),
            knowledge_index(ref),
        )
    return indexes, readings


def test_table_is_up_to_date(
    by_pypinyin: tuple[tuple[Any, ...], dict[str, tuple[str, str]]],
) -> None:
    table = parse_pinyin_table(TABLE_PATH.read_text(encoding="utf-8"))
    assert table == by_pypinyin[1]
    assert TABLE_PATH.read_text(encoding="utf-8") == format_pinyin_table(table)


def test_indexes_from_the_table_search_as_pypinyin_does(
    by_pypinyin: tuple[tuple[Any, ...], dict[str, tuple[str, str]]],
) -> None:
    fresh, _ = by_pypinyin
    packaged = default_indexes()
    assert _results(packaged) == _results(fresh)
    # and every key of every entry, not only what the sample queries reach
    assert packaged[0]._index._pinyin == fresh[0]._index._pinyin
    for mine, theirs in zip(packaged[1:], fresh[1:], strict=True):
        assert mine._pinyin == theirs._pinyin
    assert default_reference() == load_reference()


def test_sample_queries_find_something() -> None:
    addresses = default_indexes()[0]
    for q in ("金山路", "jsl", "biyang", "金山绿", "jinshnalu"):
        assert addresses.search(q), q


def test_regen_check_detects_a_stale_table(
    tmp_path: Path, by_pypinyin: tuple[tuple[Any, ...], dict[str, tuple[str, str]]]
) -> None:
    readings = by_pypinyin[1]
    text = TABLE_PATH.read_text(encoding="utf-8").replace(
        "\n泌阳县\tbiyangxian\tbyx\n", "\n泌阳县\tmiyangxian\tmyx\n"
    )
    stale = tmp_path / "table.tsv"
    stale.write_text(text, encoding="utf-8")
    fixed = ["泌阳县: miyangxian/myx → biyangxian/byx"]
    assert regenerate_table(stale, check=True, readings=readings) == fixed
    assert stale.read_text(encoding="utf-8") == text  # --check writes nothing
    assert regenerate_table(stale, readings=readings) == fixed
    assert stale.read_text(encoding="utf-8") == TABLE_PATH.read_text(encoding="utf-8")
    missing = regenerate_table(tmp_path / "missing.tsv", check=True, readings=readings)
    assert len(missing) == len(readings)  # every text is new


def test_table_round_trip_and_bad_lines() -> None:
    readings = {"泌阳县": ("biyangxian", "byx"), "3号": ("3hao", "3h")}
    assert parse_pinyin_table(format_pinyin_table(readings)) == readings
    assert parse_pinyin_table(format_pinyin_table({})) == {}
    with pytest.raises(ValueError, match="every line"):
        parse_pinyin_table("泌阳县\tbiyangxian\n")
    with pytest.raises(ValueError, match="cannot store"):
        format_pinyin_table({"a\tb": ("ab", "a")})


@given(st.text(st.characters(max_codepoint=127), max_size=12))
def test_ascii_needs_no_pypinyin(text: str) -> None:
    assert pinyin_keys(text) == convert(text)


def test_a_name_missing_from_the_table_still_converts() -> None:
    assert (
        pinyin_keys("泌阳新区某某小区")
        == convert("泌阳新区某某小区")
        == ("biyangxinqumoumouxiaoqu", "byxqmmxq")
    )


def test_start_up_and_typical_queries_do_not_import_pypinyin() -> None:
    code = (
        "import sys\n"
        "from agent_tui.data.indexes import default_indexes\n"
        "indexes = default_indexes()\n"
        f"for q in {QUERIES!r}:\n"
        "    for index in indexes:\n"
        "        index.search(q)\n"
        "assert 'pypinyin' not in sys.modules, 'pypinyin imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
