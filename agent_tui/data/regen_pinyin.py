"""Recompute the ``pinyin`` and ``initials`` columns of the packaged gazetteer.

    python -m agent_tui.data.regen_pinyin          # rewrite the file in place
    python -m agent_tui.data.regen_pinyin --check  # exit 1 if the file is out of date

The columns come from ``agent_tui.domain.pinyin.pinyin_keys``, so a reading fixed in
``PLACE_PHRASES`` (泌阳 bì, 佛 fó, surname 翟 zhái, ...) reaches the data by running this.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from agent_tui.domain.pinyin import pinyin_keys

GAZETTEER_PATH = Path(__file__).with_name("zhumadian_gazetteer.csv")


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="重新生成地名拼音列 (regenerate pinyin columns)")
    parser.add_argument("--check", action="store_true", help="只检查，不写入；过期则退出码 1")
    parser.add_argument("path", nargs="?", type=Path, default=GAZETTEER_PATH)
    args = parser.parse_args(argv)
    changed = regenerate(args.path, check=args.check)
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
