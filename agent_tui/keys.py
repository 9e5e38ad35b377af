"""Key tables built from Textual bindings: the F1 help and ``agent-tui keys`` share this."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from textual.binding import Binding, BindingType
from textual.dom import DOMNode

from agent_tui.i18n import N_, pt, t

# Group names stay the Chinese keys (the help sorts by them); they are translated when shown.
GENERAL = N_("通用")
NAVIGATION = N_("导航")


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
        head = f"| {t('键')} | {t('作用')} | {t('说明')} | id |"
        lines += [f"**{t(group)}**", "", head, "|---|---|---|---|"]
        lines += [
            f"| {format_key(r.key)} | {r.description} | {r.tooltip} | `{r.id}` |" for r in items
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# -- bindings in the UI language ---------------------------------------------------------------

#: Each class's own BINDINGS as written (Chinese), kept so that switching back restores them.
_ORIGINAL: dict[type[DOMNode], list[BindingType]] = {}


def _subclasses(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _translated(binding: BindingType) -> BindingType:
    if not isinstance(binding, Binding):
        return binding
    description, tooltip = pt("binding", binding.description), pt("binding", binding.tooltip)
    return replace(binding, description=description, tooltip=tooltip)


def source_bindings(package: str = "agent_tui") -> dict[type[DOMNode], list[BindingType]]:
    """Each ``package`` class that declares BINDINGS, with them as written (in Chinese).

    Only imported classes are seen: ``agent_tui.app`` imports every screen and widget.
    """
    found: dict[type[DOMNode], list[BindingType]] = {}
    for cls in _subclasses(DOMNode):
        if cls.__module__.startswith(f"{package}.") and "BINDINGS" in cls.__dict__:
            found[cls] = _ORIGINAL.setdefault(cls, list(cls.__dict__["BINDINGS"]))
    return found


def localize_bindings(package: str = "agent_tui") -> None:
    """Set every ``package`` class's BINDINGS to its original ones in the current language.

    Textual reads ``description``/``tooltip`` from the class BINDINGS, merged once when the class
    is created (``_merged_bindings``, copied into each node); so the merged map is rebuilt too,
    for the class and its subclasses.
    """
    changed = source_bindings(package)
    for cls, original in changed.items():
        cls.BINDINGS = [_translated(b) for b in original]
    for cls in set(_subclasses(DOMNode)):
        if issubclass(cls, tuple(changed)):
            cls._merged_bindings = cls._merge_bindings()
