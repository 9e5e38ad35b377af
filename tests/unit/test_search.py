"""The generic search index: tiers, ranking, limits, fuzzy fallback."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.domain.search import Match, MatchKind, SearchEntry, SearchIndex, normalize

NAMES = [
    ("金山路", 2),
    ("金山路与骏达路交叉口", 3),
    ("骏达路", 2),
    ("建设路", 2),
    ("乐山大道", 2),
    ("文化路", 2),
    ("泌阳县", 0),
    ("泌水街道", 1),
    ("前王庄社区", 4),
    ("大王庄村", 4),
    ("G107国道", 2),
    ("中心街北路", 2),
]


def make_index() -> SearchIndex[str]:
    entries = [SearchEntry(name, name, rank=rank) for name, rank in NAMES]
    entries.append(SearchEntry("中华大道", "中华大道", aliases=("中华路",), rank=2))
    return SearchIndex(entries)


INDEX = make_index()


def names(matches: list[Match[str]]) -> list[str]:
    return [m.entry.name for m in matches]


def test_exact_name_ranks_first() -> None:
    result = INDEX.search("金山路")
    assert result[0].entry.name == "金山路"
    assert result[0].kind is MatchKind.EXACT
    assert result[1].entry.name == "金山路与骏达路交叉口"
    assert result[1].kind is MatchKind.PREFIX


def test_alias_exact_match_reports_the_alias() -> None:
    [first, *_] = INDEX.search("中华路")
    assert first.entry.name == "中华大道"
    assert first.kind is MatchKind.EXACT
    assert first.matched == "中华路"


def test_initials_exact_then_prefix() -> None:
    result = INDEX.search("jsl")
    assert [m.kind for m in result[:2]] == [MatchKind.INITIALS, MatchKind.INITIALS]
    assert set(names(result[:2])) == {"金山路", "建设路"}
    assert "金山路与骏达路交叉口" in names(result)


def test_initials_are_case_and_space_insensitive() -> None:
    assert names(INDEX.search("BYX"))[0] == "泌阳县"
    assert names(INDEX.search(" b y x "))[0] == "泌阳县"


def test_full_pinyin_prefix() -> None:
    [first, *_] = INDEX.search("jinshanlu")
    assert first.entry.name == "金山路"
    assert first.kind is MatchKind.PINYIN_PREFIX


def test_chinese_substring() -> None:
    result = INDEX.search("王庄")
    assert set(names(result)) >= {"前王庄社区", "大王庄村"}
    assert all(m.kind is MatchKind.SUBSTRING for m in result[:2])


def test_latin_inside_a_name() -> None:
    assert names(INDEX.search("g107"))[0] == "G107国道"


def test_ties_break_by_rank_then_shorter_name() -> None:
    result = INDEX.search("路")  # every road contains it: base rank, then length decide
    ranks = [m.entry.rank for m in result]
    assert ranks == sorted(ranks)
    same_rank = [m.entry.name for m in result if m.entry.rank == 2]
    assert [len(n) for n in same_rank] == sorted(len(n) for n in same_rank)


def test_fuzzy_fallback_finds_a_one_character_typo() -> None:
    result = INDEX.search("金山璐")
    assert names(result)[0] == "金山路"
    assert result[0].kind is MatchKind.FUZZY


def test_fuzzy_can_be_switched_off_and_needs_two_characters() -> None:
    assert INDEX.search("金山璐", fuzzy=False) == []
    assert all(m.kind is not MatchKind.FUZZY for m in INDEX.search("璐"))


def test_fuzzy_only_fills_up_to_limit() -> None:
    assert len(INDEX.search("金山路", limit=1)) == 1
    assert all(m.kind is not MatchKind.FUZZY for m in INDEX.search("路", limit=3))


def test_keep_filters_by_payload() -> None:
    result = INDEX.search("路", keep=lambda p: p.startswith("金"))
    assert result and all(m.entry.payload.startswith("金") for m in result)


def test_empty_query_and_zero_limit() -> None:
    assert INDEX.search("   ") == []
    assert INDEX.search("金山", limit=0) == []


def test_prefix_heads_cover_large_ranges_in_rank_order() -> None:
    # More entries than the prefix table sorts on the fly, so precomputed heads answer.
    entries = [SearchEntry(f"金山路{i}号院", i, rank=i % 7) for i in range(600)]
    index = SearchIndex(entries)
    result = index.search("金山路", limit=300)
    assert len(result) == 300
    keys = [(m.entry.rank, len(m.entry.name), m.entry.name) for m in result]
    assert keys == sorted(keys)
    assert len({m.entry.payload for m in result}) == 300


def _really_matches(m: Match[str], query: str) -> bool:
    q = normalize(query)
    texts = [normalize(t) for t in (m.entry.name, *m.entry.aliases)]
    checks = {
        MatchKind.EXACT: lambda t: t == q,
        MatchKind.PREFIX: lambda t: t.startswith(q),
        MatchKind.SUBSTRING: lambda t: q in t,
    }
    check = checks.get(m.kind)
    return check is None or any(check(t) for t in texts)


@settings(max_examples=150, deadline=None)
@given(
    query=st.text(alphabet="金山路骏达王庄村大道jslwzcbyx ", min_size=0, max_size=5),
    limit=st.integers(min_value=0, max_value=8),
)
def test_results_respect_limit_tiers_and_really_match(query: str, limit: int) -> None:
    result = INDEX.search(query, limit=limit)
    assert len(result) <= limit
    assert [m.kind for m in result] == sorted(m.kind for m in result)
    assert len({id(m.entry) for m in result}) == len(result)
    assert all(_really_matches(m, query) for m in result)
