"""Screens at 120×36 with Chinese content: CJK must align. Review diffs before updating."""

from __future__ import annotations

from pathlib import Path

from agent_tui.app import make_app
from agent_tui.config import Settings

SIZE = (120, 36)


def test_lookup_address_jsl(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=[*"jsl", "enter"], terminal_size=SIZE)


def test_lookup_category(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f3", *"zy", "enter"], terminal_size=SIZE)


def test_help(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f1"], terminal_size=SIZE)
