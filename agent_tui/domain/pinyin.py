"""Pinyin for place names, departments and categories.

pypinyin reads most characters right, but place names carry heteronyms whose everyday reading is
wrong (泌阳 is bì yáng, not mì). ``PLACE_PHRASES`` pins those readings; add to it when a centre
finds another. ``pinyin_keys`` returns the full pinyin and the initials used by the search index.

pypinyin is imported only for a text whose reading was not precomputed (``add_known_readings``):
the packaged data's readings ship in a generated table, so a seat starts without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

#: Phrase → one reading per character (tone marks as pypinyin writes them).
PLACE_PHRASES: dict[str, list[list[str]]] = {
    "泌阳": [["bì"], ["yáng"]],
    "泌水": [["bì"], ["shuǐ"]],
    "泌河": [["bì"], ["hé"]],
    "重渠": [["chóng"], ["qú"]],
    "佛堂": [["fó"], ["táng"]],
    "佛寺": [["fó"], ["sì"]],
    "单庄": [["shàn"], ["zhuāng"]],
    "单楼": [["shàn"], ["lóu"]],
    "解庄": [["xiè"], ["zhuāng"]],
    "查庄": [["zhā"], ["zhuāng"]],
    "仇庄": [["qiú"], ["zhuāng"]],
    "长安": [["cháng"], ["ān"]],
    # Found in the Zhumadian gazetteer: Buddhist 佛 is fó; the surnames 翟/曾/薄/单 read zhái,
    # zēng, bó and shàn, and pypinyin's default (dí, céng, báo, dān) gives wrong initials.
    "佛阁": [["fó"], ["gé"]],
    "石佛": [["shí"], ["fó"]],
    "翟庄": [["zhái"], ["zhuāng"]],
    "翟老": [["zhái"], ["lǎo"]],
    "小翟": [["xiǎo"], ["zhái"]],
    "大翟": [["dà"], ["zhái"]],
    "黑翟": [["hēi"], ["zhái"]],
    "曾楼": [["zēng"], ["lóu"]],
    "曾庄": [["zēng"], ["zhuāng"]],
    "曾营": [["zēng"], ["yíng"]],
    "曾寨": [["zēng"], ["zhài"]],
    "薄李": [["bó"], ["lǐ"]],
    "薄庄": [["bó"], ["zhuāng"]],
    "单高": [["shàn"], ["gāo"]],
    "单老": [["shàn"], ["lǎo"]],
}

#: Readings computed ahead of time for the packaged data (``agent_tui.data.pinyin_table`` loads
#: them): with these the seat never imports pypinyin (0.2 s, 57 MiB) for the names it ships.
_known: dict[str, tuple[str, str]] = {}
#: While ``fresh_readings`` runs: every text converted, else None.
_collected: dict[str, tuple[str, str]] | None = None
_phrases_loaded = False


def add_known_readings(readings: Mapping[str, tuple[str, str]]) -> None:
    """Use ``readings`` (text → ``pinyin_keys(text)``, precomputed) instead of pypinyin."""
    _known.update(readings)
    pinyin_keys.cache_clear()


@lru_cache(maxsize=65536)
def pinyin_keys(text: str) -> tuple[str, str]:
    """Return ``(full, initials)`` for ``text``: ``("biyangxian", "byx")`` for 泌阳县.

    Non-Chinese characters pass through lower-cased (so ``G107`` stays ``g107``); pypinyin
    keeps a non-Chinese run whole, so its initial is the run's first character. A precomputed
    reading is used when there is one; otherwise pypinyin converts (``convert``).
    """
    if text.isascii():  # what pypinyin returns for it, without importing pypinyin
        low = text.lower()
        return low, low[:1]
    keys = _known.get(text) if _collected is None else None
    if keys is None:
        keys = convert(text)
        if _collected is not None:
            _collected[text] = keys
    return keys


def convert(text: str) -> tuple[str, str]:
    """``pinyin_keys`` computed by pypinyin, imported on first use."""
    from pypinyin import Style, lazy_pinyin, load_phrases_dict

    global _phrases_loaded
    if not _phrases_loaded:
        load_phrases_dict(PLACE_PHRASES)
        _phrases_loaded = True
    full = "".join(lazy_pinyin(text, style=Style.NORMAL, errors="default")).lower()
    initials = "".join(
        s[0] for s in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default") if s
    ).lower()
    return full, initials


@contextmanager
def fresh_readings() -> Iterator[dict[str, tuple[str, str]]]:
    """Within the block, convert every text with pypinyin (not the precomputed readings) and
    collect them: how ``regen_pinyin`` lists, and checks, the readings of the packaged data."""
    global _collected
    collected: dict[str, tuple[str, str]] = {}
    _collected = collected
    pinyin_keys.cache_clear()
    try:
        yield collected
    finally:
        _collected = None
        pinyin_keys.cache_clear()
