"""The hot-spot rule: ≥ 3 cases in 24 h and ≥ 2 × the mean day of the 7 days before."""

from __future__ import annotations

from agent_tui.domain.hotspots import PlaceCount, find_hotspots, is_hot, place_of


def pc(place: str, last: int, baseline_total: int, category: str = "0101") -> PlaceCount:
    return PlaceCount(category, "驿城区", place, last, baseline_total)


def test_the_rule_needs_three_cases_and_twice_the_baseline() -> None:
    assert is_hot(3, 0.0) and is_hot(4, 2.0)
    assert not is_hot(2, 0.0)  # too few, however quiet the place was
    assert not is_hot(5, 3.0)  # busy place, busy day: below twice its usual
    assert is_hot(6, 3.0)  # exactly twice


def test_hotspots_most_rising_first_with_the_rule_in_words() -> None:
    found = find_hotspots(
        [
            pc("金山路", 3, 0),  # rises by 3
            pc("刘阁村", 4, 7),  # 1/day: rises by 3, more cases: first of the two
            pc("文化路", 10, 14),  # 2/day: rises by 8
            pc("乐山大道", 5, 21),  # 3/day: not twice
            pc("中心街", 2, 0),  # too few
            pc("", 9, 0),  # no place recorded: not a place
        ]
    )
    assert [h.place for h in found] == ["文化路", "刘阁村", "金山路"]
    assert found[1].baseline_per_day == 1.0
    assert found[1].rule == "24小时内 4 件，前7日日均 1.0 件"


def test_at_most_ten_hotspots() -> None:
    found = find_hotspots([pc(f"村{i}", 3 + i, 0) for i in range(15)])
    assert len(found) == 10 and found[0].last_24h == 17


def test_the_place_is_the_finest_level_recorded() -> None:
    assert place_of("刘阁村", "金山路", "顺河街道") == "刘阁村"
    assert place_of("", "金山路", "顺河街道") == "金山路"
    assert place_of("", "", "顺河街道") == "顺河街道"
