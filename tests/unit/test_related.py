"""Related cases: the domain's rule, and the seat store's offline candidates and groups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_tui import wire
from agent_tui.client.store import SeatStore
from agent_tui.domain.case import Address, Status
from agent_tui.domain.related import RELATED_WINDOW, group_of, is_candidate, same_place

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
ROAD = Address(county="驿城区", road="金山路")
VILLAGE = Address(county="驿城区", township="老河乡", village="王庄村")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (ROAD, ROAD, True),
        (VILLAGE, VILLAGE, True),
        (ROAD, Address(county="西平县", road="金山路"), False),
        (VILLAGE, Address(county="驿城区", township="胡庙乡", village="王庄村"), False),
        (Address(county="驿城区"), Address(county="驿城区"), False),  # a county is too wide
        (
            Address(county="驿城区", township="老河乡"),
            Address(county="驿城区", township="老河乡"),
            False,
        ),
        (Address(county="驿城区", village="王庄村", road="金山路"), ROAD, True),
        (Address(), Address(), False),
    ],
)
def test_same_place(a: Address, b: Address, same: bool) -> None:
    assert same_place(a, b) is same


def test_a_candidate_is_open_of_the_same_category_within_the_window() -> None:
    def candidate(**over: Any) -> bool:
        args: dict[str, Any] = {
            "category": "0101",
            "address": ROAD,
            "other_category": "0101",
            "other_address": ROAD,
            "other_status": Status.DISPATCHED,
            "other_registered_at": NOW - timedelta(days=2),
            "now": NOW,
        }
        args.update(over)
        return is_candidate(**args)

    assert candidate()
    assert not candidate(other_category="0102")
    assert not candidate(category="", other_category="")
    assert not candidate(other_status=Status.ARCHIVED)
    assert not candidate(other_registered_at=NOW - RELATED_WINDOW - timedelta(seconds=1))
    assert candidate(other_registered_at=NOW - RELATED_WINDOW)
    assert not candidate(other_registered_at=NOW - timedelta(days=2), window=timedelta(days=1))


def test_a_group_is_named_by_its_first_case() -> None:
    assert group_of("a", "") == "a"
    assert group_of("b", "a") == "a"


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "appeal_type": "complaint",
        "content": "金山路路灯不亮已经一周了",
        "caller_phone": "13912345678",
        "category": "0101",
        "address": {"county": "驿城区", "road": "金山路"},
        "registered_at": (NOW - timedelta(hours=1)).isoformat(),
    }
    body.update(over)
    return body


def test_the_seat_offers_its_own_pending_cases_and_finds_a_group_offline(tmp_path: Path) -> None:
    store = SeatStore(tmp_path / "seat.db")

    def save(**over: Any) -> str:
        return store.save_new_case(wire.CaseCreate.model_validate(_body(**over)), "agent01")

    first = save()
    save(category="0102")
    save(address={"county": "驿城区", "road": "解放大道"})
    save(registered_at=(NOW - timedelta(days=9)).isoformat())
    found = store.related_candidates("0101", Address(county="驿城区", road="金山路"), NOW)
    assert [c.uuid for c in found] == [first]
    assert found[0].pending is True  # still pending: linking to it works before it is sent
    assert not found[0].confirmed

    linked = save(related_to=first, registered_at=(NOW - timedelta(minutes=5)).isoformat())
    group = store.group(first)
    assert [c.uuid for c in group] == [first, linked]
    assert store.group(str(uuid.uuid4())) == []
    store.close()
