"""Screens at 120×36 with Chinese content: CJK must align. Review diffs before updating."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent_tui.app import make_app
from agent_tui.config import Settings

SIZE = (120, 36)


def test_lookup_address_jsl(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=[*"jsl", "enter"], terminal_size=SIZE)


def test_lookup_category(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f6", *"zy", "enter"], terminal_size=SIZE)


def test_help(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f1"], terminal_size=SIZE)


def _offline_seat(tmp_path: Path):  # type: ignore[no-untyped-def]
    from agent_tui.client.seat import Seat

    # Port 9 (discard) on loopback: nothing answers, the seat is offline and says so.
    return Seat("http://127.0.0.1:9", "agent01", "x", tmp_path / "seat", seat_id="seat-07")


def _frozen() -> datetime:
    return datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # Thursday 10:30 in Zhumadian


def test_case_entry_with_routing(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)

    async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter")
        await pilot.press(*"ab")  # content: ASCII here (the snapshot harness types keys)
        await pilot.pause()

    assert snap_compare(app, run_before=fill, terminal_size=SIZE)


def test_case_entry_errors(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)
    assert snap_compare(app, press=[*"12345", "ctrl+s"], terminal_size=SIZE)
