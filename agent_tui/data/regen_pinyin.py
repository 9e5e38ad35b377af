"""Recompute the packaged pinyin: the gazetteer's ``pinyin``/``initials`` columns and
``pinyin_table.tsv`` (the reading of every text the packaged indexes key).

    python -m agent_tui.data.regen_pinyin          # rewrite both files in place
    python -m agent_tui.data.regen_pinyin --check  # exit 1 if either is out of date

Both come from pypinyin through ``agent_tui.domain.pinyin`` (never from the table itself), so a
reading fixed in ``PLACE_PHRASES`` (泌阳 bì, 佛 fó, surname 翟 zhái, ...) reaches the data by
running this. Given a path, only that gazetteer file is checked or rewritten.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from agent_tui.data.addresses import CENTRAL_CITY, load_gazetteer, load_starter_roads
from agent_tui.data.indexes import category_index, department_index, knowledge_index
from agent_tui.data.pinyin_table import (
    PINYIN_TABLE_FILE,
    format_pinyin_table,
    parse_pinyin_table,
)
from agent_tui.data.reference import (
    ReferenceData,
    _read_categories,
    load_departments,
    load_knowledge,
    load_platforms,
)
from agent_tui.domain.address import AddressIndex
from agent_tui.domain.pinyin import fresh_readings, pinyin_keys

GAZETTEER_PATH = Path(__file__).with_name("zhumadian_gazetteer.csv")
TABLE_PATH = Path(__file__).with_name(PINYIN_TABLE_FILE)


def regenerated_text(original: str) -> str:
    """The gazetteer text with its pinyin columns recomputed from ``name``."""
    # Keep the file's own line ending (the upstream CSV uses CRLF, as RFC 4180 does).
    terminator = "\r\n" if "\r\n" in original[:4096] else "\n"
    reader = csv.reader(io.StringIO(original, newline=""))
    header = next(reader)
    name_col, pinyin_col, initials_col = (
        header.index("name"),
        header.index("pinyin"),
        header.index("initials"),
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=terminator)
    writer.writerow(header)
    with fresh_readings():
        for row in reader:
            row[pinyin_col], row[initials_col] = pinyin_keys(row[name_col])
            writer.writerow(row)
    return out.getvalue()


def regenerate(path: Path = GAZETTEER_PATH, *, check: bool = False) -> list[str]:
    """Rewrite ``path`` (unless ``check``); return the names whose pinyin changed."""
    with path.open(encoding="utf-8", newline="") as f:
        original = f.read()
    updated = regenerated_text(original)
    changed = [
        f"{old[4]}: {old[-3]} → {new[-3]}"
        for old, new in zip(
            csv.reader(io.StringIO(original, newline="")),
            csv.reader(io.StringIO(updated, newline="")),
            strict=True,
        )
        if old != new
    ]
    if updated != original and not changed:  # only line endings or quoting differ
        changed = ["(format)"]
    if changed and not check:
        with path.open("w", encoding="utf-8", newline="") as f:
            f.write(updated)
    return changed


def packaged_readings() -> dict[str, tuple[str, str]]:
    """Every text the packaged data converts, with its reading: the reference records are read
    again (past their loaders' caches) and the indexes built while ``fresh_readings`` collects
    what pypinyin was asked."""
    with fresh_readings() as readings:
        ref = ReferenceData(
            platforms=load_platforms.__wrapped__(),
            departments=load_departments.__wrapped__(),
            categories=_read_categories.__wrapped__()[0],
            knowledge=load_knowledge.__wrapped__(),
        )
        category_index(ref)
        department_index(ref)
        knowledge_index(ref)
        AddressIndex((*load_gazetteer(), *load_starter_roads()), CENTRAL_CITY)
        return dict(readings)


def regenerate_table(
    path: Path = TABLE_PATH,
    *,
    check: bool = False,
    readings: dict[str, tuple[str, str]] | None = None,
) -> list[str]:
    """Rewrite the table at ``path`` (unless ``check``) with ``readings`` (by default
    ``packaged_readings()``); return what changed, one line per text."""
    try:
        original = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        original = ""
    if readings is None:
        readings = packaged_readings()
    updated = format_pinyin_table(readings)
    old = parse_pinyin_table(original)
    changed = [
        f"{name}: {'/'.join(old.get(name, ('-',)))} → {'/'.join(readings.get(name, ('-',)))}"
        for name in sorted(old.keys() | readings.keys())
        if old.get(name) != readings.get(name)
    ]
    if updated != original and not changed:
        changed = [f"({PINYIN_TABLE_FILE} format)"]
    if changed and not check:
        path.write_text(updated, encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="重新生成地名拼音列 (regenerate pinyin columns)")
    parser.add_argument("--check", action="store_true", help="只检查，不写入；过期则退出码 1")
    parser.add_argument("path", nargs="?", type=Path, default=None)
    args = parser.parse_args(argv)
    changed = regenerate(args.path or GAZETTEER_PATH, check=args.check)
    if args.path is None:
        changed += regenerate_table(check=args.check)
    for line in changed:
        print(line)
    if args.check:
        if changed:
            print(f"拼音列已过期：{len(changed)} 行 (out of date)", file=sys.stderr)
            return 1
        print("拼音列是最新的 (up to date)")
        return 0
    print(f"已更新 {len(changed)} 行 (rows updated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
