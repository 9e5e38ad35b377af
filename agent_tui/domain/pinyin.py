"""Pinyin for place names, departments and categories.

pypinyin reads most characters right, but place names carry heteronyms whose everyday reading is
wrong (泌阳 is bì yáng, not mì). ``PLACE_PHRASES`` pins those readings; add to it when a centre
finds another. ``pinyin_keys`` returns the full pinyin and the initials used by the search index.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin, load_phrases_dict

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

_loaded = False


def _ensure_phrases() -> None:
    global _loaded
    if not _loaded:
        load_phrases_dict(PLACE_PHRASES)
        _loaded = True


@lru_cache(maxsize=65536)
def pinyin_keys(text: str) -> tuple[str, str]:
    """Return ``(full, initials)`` for ``text``: ``("biyangxian", "byx")`` for 泌阳县.

    Non-Chinese characters pass through lower-cased (so ``G107`` stays ``g107``).
    """
    _ensure_phrases()
    full = "".join(lazy_pinyin(text, style=Style.NORMAL, errors="default")).lower()
    initials = "".join(
        s[0] for s in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default") if s
    ).lower()
    return full, initials
