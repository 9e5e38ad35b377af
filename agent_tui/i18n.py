"""The UI language: Chinese source strings are the keys, English comes from a catalogue.

gettext style, so the code stays readable in Chinese: ``t("默认主办：{name}", name=...)`` is the
Chinese template itself in ``zh`` (the default) and its entry in ``locale/en.toml`` in ``en``;
a string without an entry falls back to the Chinese. ``N_("…")`` marks a string that is
translated later (module constants, evaluated before the language is known). Where one
Chinese word needs two English ones (直接办结: the status "Resolved on call", the key "Resolve"),
a ``[context]`` table of the catalogue overrides it for ``pt(context, …)`` (gettext's pgettext).
The language is set once per app by ``make_app``; stdlib only, so the client may use it too.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Literal, get_args

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
SOURCE: Language = "zh"

#: gettext's separator between a context and a string in a catalogue key.
CONTEXT = "\x04"

_current: Language = SOURCE


def set_language(language: Language) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    global _current
    _current = language


def language() -> Language:
    return _current


def english() -> bool:
    return _current == "en"


@cache
def catalogue(language: Language) -> dict[str, str]:
    """Chinese → ``language`` (empty for the source language); read once per process.

    A ``[context]`` table's entries are keyed ``context + CONTEXT + chinese``.
    """
    if language == SOURCE:
        return {}
    text = files("agent_tui").joinpath("locale", f"{language}.toml").read_text(encoding="utf-8")
    flat: dict[str, str] = {}
    for key, value in tomllib.loads(text).items():
        if isinstance(value, dict):
            flat.update({f"{key}{CONTEXT}{k}": str(v) for k, v in value.items()})
        else:
            flat[key] = str(value)
    return flat


def t(text: str, /, **fields: object) -> str:
    """``text`` in the current language, then ``.format(**fields)`` (only when fields are
    given, so a literal brace in a plain string needs no doubling)."""
    if _current != SOURCE:
        text = catalogue(_current).get(text, text)
    return text.format(**fields) if fields else text


def pt(context: str, text: str, /, **fields: object) -> str:
    """``t`` with the ``[context]`` entry first, if the catalogue has one."""
    if _current != SOURCE:
        found = catalogue(_current)
        text = found.get(f"{context}{CONTEXT}{text}", found.get(text, text))
    return text.format(**fields) if fields else text


def N_(text: str) -> str:  # gettext's name: mark now, translate later
    """Mark ``text`` for the catalogue without translating it now."""
    return text


def either(zh: str, en: str) -> str:
    """A message that already carries both languages (domain errors: ``message_en``)."""
    return en if _current == "en" and en else zh
