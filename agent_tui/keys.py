"""Key tables built from Textual bindings: the F1 help and ``agent-tui keys`` share this."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

GENERAL = "通用"
NAVIGATION = "导航"


@dataclass(frozen=True, slots=True)
class KeyRow:
    group: str  # a screen's title, GENERAL or NAVIGATION
    key: str
    description: str
    tooltip: str
    id: str


def rows_from(group: str, bindings: Iterable[object]) -> list[KeyRow]:
    """Rows for the bindings that carry an id (ours); tuples and widget internals are skipped."""
    rows = []
    for b in bindings:
        if not isinstance(b, Binding) or not b.id or not b.description:
            continue
        # Navigation keys (arrows, paging) are grouped apart, as k9s does.
        where = NAVIGATION if (b.id or "").startswith("pick.") else group
        rows.append(KeyRow(where, b.key, b.description, b.tooltip, b.id or ""))
    return rows


def group_rows(rows: Iterable[KeyRow]) -> dict[str, list[KeyRow]]:
    grouped: dict[str, list[KeyRow]] = {}
    for row in rows:
        grouped.setdefault(row.group, []).append(row)
    # Screen groups first, then general, then navigation.
    order = sorted(grouped, key=lambda g: (g == NAVIGATION, g == GENERAL))
    return {g: grouped[g] for g in order}


_KEY_NAMES = {
    "escape": "Esc",
    "enter": "Enter",
    "down": "↓",
    "up": "↑",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "question_mark": "?",
    "tab": "Tab",
}


def format_key(key: str) -> str:
    """``ctrl+l`` → ``Ctrl+L``; ``escape,f1`` → ``Esc / F1``."""

    def one(k: str) -> str:
        *mods, base = k.strip().split("+")
        name = _KEY_NAMES.get(base, base.upper() if len(base) <= 3 else base.title())
        return "+".join([*(m.title() for m in mods), name])

    return " / ".join(one(k) for k in key.split(","))


def markdown_table(rows: Iterable[KeyRow]) -> str:
    lines = []
    for group, items in group_rows(rows).items():
        lines += [f"**{group}**", "", "| 键 | 作用 | 说明 | id |", "|---|---|---|---|"]
        lines += [
            f"| {format_key(r.key)} | {r.description} | {r.tooltip} | `{r.id}` |" for r in items
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
