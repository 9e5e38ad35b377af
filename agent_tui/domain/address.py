"""Addresses of a case: county → township → village/community, roads, crossings and landmarks.

``AddressIndex`` puts them behind ``search.SearchIndex`` so that an agent finds 金山路 by typing
"jsl", a village by its initials, and the 金山路/骏达路 crossing by typing both roads
("金山路骏达路" or "jsl jdl") in either order. A county or township in front of a name narrows
the search to it — "泌阳 王庄", "biyang wangzhuang", "by wz", "官庄 王庄", "泌阳王庄" — since the
city has a dozen 王庄村 and the caller names the place the way people do. Every entry reads as
its path (泌阳县·官庄镇·王庄村); text that matches nothing is kept as said, marked unmatched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from agent_tui.domain.search import Match, MatchKind, SearchEntry, SearchIndex, normalize


class AddressLevel(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    ROAD = "road"
    CROSSING = "crossing"
    POI = "poi"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> AddressLevel:
        """Accept the English value or the Chinese label (道路, 交叉口, ...)."""
        value = text.strip()
        for level in cls:
            if value.lower() == level.value or value == level.label:
                return level
        raise ValueError(
            f"未知的地址级别“{text}”（可用：{'、'.join(f'{lv.value}/{lv.label}' for lv in cls)}）"
        )


_LEVEL_LABELS: dict[AddressLevel, str] = {
    AddressLevel.COUNTY: "县区",
    AddressLevel.TOWNSHIP: "乡镇街道",
    AddressLevel.VILLAGE: "村社区",
    AddressLevel.ROAD: "道路",
    AddressLevel.CROSSING: "交叉口",
    AddressLevel.POI: "地标",
}

#: Base rank per level: roads and crossings come before the 2,906 villages, since callers in the
#: city name streets far more often, and a county or township beats anything with the same name.
LEVEL_RANK: dict[AddressLevel, int] = {
    AddressLevel.COUNTY: 0,
    AddressLevel.TOWNSHIP: 1,
    AddressLevel.ROAD: 2,
    AddressLevel.CROSSING: 3,
    AddressLevel.VILLAGE: 4,
    AddressLevel.POI: 5,
}

PATH_SEPARATOR = " › "
#: How a pick-list row and a filled address field read: 泌阳县·官庄镇·王庄村.
LABEL_SEPARATOR = "·"
#: The mark of an address kept as typed because the address book has nothing for it.
UNMATCHED_MARK = "（未匹配）"
#: Between the scope (county, township) and the name in a query: spaces, the label's dot, the
#: path's arrow, commas.
_QUERY_SEPARATORS = re.compile(r"[\s·›,，、]+")
#: Scope matches good enough to narrow by: the start of a name or of its pinyin, never a
#: substring or a typo (a scope picked by accident would hide every right answer).
_SCOPE_KINDS = frozenset(
    {
        MatchKind.EXACT,
        MatchKind.PREFIX,
        MatchKind.INITIALS,
        MatchKind.INITIALS_PREFIX,
        MatchKind.PINYIN_PREFIX,
    }
)
#: At most this many counties/townships one scope word may stand for ("by": 泌阳县, 柏苑街道 …).
_MAX_SCOPES = 6
#: At most this many entries outside the scope are looked at per scoped search: candidates come
#: best first (villages before the address book's shops), so the cap only cuts a long tail.
_SCOPE_BUDGET = 12_000
_HAN_ONLY = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")

_CROSSING_RE = re.compile(r"^(.+?)(?:与|&|/)(.+?)(?:交叉口|交口|路口|十字路口)?$")


def crossing_name(a: str, b: str) -> str:
    """The name a crossing is recorded under: ``crossing_name("金山路", "骏达路")``."""
    return f"{a.strip()}与{b.strip()}交叉口"


def crossing_roads(name: str) -> tuple[str, str] | None:
    """The two roads of a crossing name ("金山路与骏达路交叉口" → ("金山路", "骏达路"))."""
    m = _CROSSING_RE.match(name.strip())
    if m is None:
        return None
    return m.group(1), m.group(2)


@dataclass(frozen=True, slots=True)
class AddressEntry:
    level: AddressLevel
    name: str
    county: str
    township: str = ""
    village: str = ""
    aliases: tuple[str, ...] = ()
    code: str = ""
    source: str = ""

    @property
    def parts(self) -> tuple[str, ...]:
        """County, township, village and name, without blanks or repeats."""
        parts: list[str] = []
        for part in (self.county, self.township, self.village, self.name):
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        return tuple(parts)

    @property
    def path(self) -> str:
        """ "驿城区 › 东风路街道 › 前进路北段社区" / "驿城区 › 金山路"."""
        return PATH_SEPARATOR.join(self.parts)

    @property
    def full_text(self) -> str:
        """The address as written on a case: "驿城区东风路街道前进路北段社区"."""
        return "".join(self.parts)

    @property
    def label(self) -> str:
        """What a pick-list row and the filled field show: "泌阳县·官庄镇·王庄村"."""
        return LABEL_SEPARATOR.join(self.parts)


@dataclass(frozen=True, slots=True)
class UnmatchedAddress:
    """An address the agent typed that the address book does not know: kept as said, with
    the county and township its words named (if any), and marked so everyone sees it."""

    text: str  # what is left after the county/township words ("王庄西头小卖部")
    county: str = ""
    township: str = ""

    @property
    def label(self) -> str:
        head = [p for p in (self.county, self.township) if p]
        return LABEL_SEPARATOR.join([*head, self.text]) + UNMATCHED_MARK

    @property
    def detail(self) -> str:
        """What the case's address detail keeps: the words and the mark."""
        return self.text + UNMATCHED_MARK


@dataclass(frozen=True, slots=True)
class AddressMatch:
    entry: AddressEntry
    kind: MatchKind
    score: float
    matched: str  # the name or alias that matched

    @property
    def path(self) -> str:
        return self.entry.path


def _search_aliases(entry: AddressEntry) -> tuple[str, ...]:
    """Extra names to index: a crossing is findable by its two roads in either order."""
    aliases = list(entry.aliases)
    if entry.level is AddressLevel.CROSSING:
        roads = crossing_roads(entry.name)
        if roads is not None:
            a, b = roads
            aliases += [crossing_name(b, a), a + b, b + a]
    return tuple(dict.fromkeys(a for a in aliases if a and a != entry.name))


class AddressIndex:
    """Searchable address book; immutable once built.

    ``preferred_counties`` (the central city, for a city platform) rank before other counties
    within a level: "jsl" should offer the city's 金山路 before a county seat's 建设路.
    """

    def __init__(
        self, entries: Iterable[AddressEntry], preferred_counties: Collection[str] = ()
    ) -> None:
        self._entries = tuple(entries)
        preferred = frozenset(preferred_counties)

        def rank(e: AddressEntry) -> int:
            return LEVEL_RANK[e.level] * 2 + (0 if e.county in preferred else 1)

        self._index: SearchIndex[AddressEntry] = SearchIndex(
            SearchEntry(e.name, e, _search_aliases(e), rank(e)) for e in self._entries
        )
        # County scope accepts the official name or any alias of a county entry.
        self._counties: dict[str, str] = {}
        for e in self._entries:
            self._counties.setdefault(normalize(e.county), e.county)
            if e.level is AddressLevel.COUNTY:
                for alias in e.aliases:
                    self._counties.setdefault(normalize(alias), e.county)
        # Counties and townships: what a query's first words may narrow the search to.
        self._scopes: SearchIndex[AddressEntry] = SearchIndex(
            SearchEntry(e.name, e, e.aliases, LEVEL_RANK[e.level])
            for e in self._entries
            if e.level in (AddressLevel.COUNTY, AddressLevel.TOWNSHIP)
        )
        #: Every Han head (2+ characters) of a county/township name or alias: a query typed
        #: without a space is split only where its head is one of these (a set lookup, so a
        #: typo'd name pays next to nothing for the split).
        self._scope_heads: frozenset[str] = frozenset(
            name[:n]
            for e in self._entries
            if e.level in (AddressLevel.COUNTY, AddressLevel.TOWNSHIP)
            for name in (e.name, *e.aliases)
            for n in range(2, len(name) + 1)
        )
        self._crossings: dict[frozenset[str], AddressEntry] = {}
        for e in self._entries:
            roads = crossing_roads(e.name) if e.level is AddressLevel.CROSSING else None
            if roads is not None:
                self._crossings.setdefault(frozenset(roads), e)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[AddressEntry, ...]:
        return self._entries

    def counties(self) -> list[str]:
        """County-level names, in gazetteer order."""
        return list(dict.fromkeys(e.county for e in self._entries))

    def resolve_county(self, county: str) -> str:
        """The official county name for ``county`` or one of its aliases (开发区 → ...)."""
        found = self._counties.get(normalize(county))
        if found is None:
            raise ValueError(f"未知的县区“{county}”")
        return found

    def crossing(self, a: str, b: str) -> AddressEntry | None:
        """The recorded crossing of roads ``a`` and ``b`` (either order), if any."""
        return self._crossings.get(frozenset((a.strip(), b.strip())))

    def search(
        self,
        query: str,
        limit: int = 50,
        county: str | None = None,
        levels: Collection[AddressLevel] | None = None,
        *,
        fuzzy: bool = True,
    ) -> list[AddressMatch]:
        """Ranked matches, at most ``limit``, optionally within one county and some levels."""
        scope = self.resolve_county(county) if county else None
        wanted = frozenset(levels) if levels else None

        def keep(e: AddressEntry) -> bool:
            return (scope is None or e.county == scope) and (wanted is None or e.level in wanted)

        base = keep if scope or wanted else None
        words = [w for w in _QUERY_SEPARATORS.split(query) if w]
        text = "".join(words)
        scoped: list[Match[AddressEntry]] = []
        if len(words) >= 2:
            scoped = self._scoped(words, limit, base)
            # The words as one ("jsl jdl" is a crossing) still count; typo guesses do not
            # once the scope found something.
            hits = self._index.search(text, limit, base, fuzzy=fuzzy and not scoped)
        else:
            hits = self._index.search(text, limit, base, fuzzy=fuzzy)
            if (
                len(text) >= 3
                and _HAN_ONLY.match(text)
                and all(m.kind is MatchKind.FUZZY for m in hits)
            ):
                scoped = self._split(text, limit, base)  # "泌阳王庄": scope run into the name
        if scoped:
            hits = _merge(hits, scoped, limit)
        return [_to_address_match(m) for m in hits]

    # -- "county (or township) + name" -----------------------------------------------------------

    def _resolve_scopes(self, word: str, within: list[AddressEntry] | None) -> list[AddressEntry]:
        """The counties/townships ``word`` may name (inside the scopes ``within``)."""
        if len(word) < 2 and word.isascii():
            return []  # one letter names half the city

        def inside(e: AddressEntry) -> bool:
            return within is None or any(
                e.county == s.county and s.level is AddressLevel.COUNTY for s in within
            )

        found = self._scopes.search(word, _MAX_SCOPES, inside, fuzzy=False)
        return [m.entry.payload for m in found if m.kind in _SCOPE_KINDS]

    def _within(
        self,
        scopes: list[AddressEntry],
        name: str,
        limit: int,
        base: Callable[[AddressEntry], bool] | None,
    ) -> list[Match[AddressEntry]]:
        """``name`` searched in the scopes at once (one walk of the index), the hits of the
        best-named scope first."""
        order: dict[tuple[str, str], int] = {}
        for n, s in enumerate(scopes):
            key = (s.county, "" if s.level is AddressLevel.COUNTY else s.name)
            order.setdefault(key, n)
        counties = {c for c, t in order if not t}
        townships = {k for k in order if k[1]}

        def keep(e: AddressEntry) -> bool:
            return (
                (e.county in counties or (e.county, e.township) in townships)
                and e.level is not AddressLevel.COUNTY
                and (base is None or base(e))
            )

        def rank(m: Match[AddressEntry]) -> int:
            e = m.entry.payload
            return min(order.get((e.county, e.township), 99), order.get((e.county, ""), 99))

        found = self._index.search(name, limit, keep, fuzzy=False, budget=_SCOPE_BUDGET)
        return sorted(found, key=rank)  # stable: the index's order within a scope

    def _scoped(
        self, words: list[str], limit: int, base: Callable[[AddressEntry], bool] | None
    ) -> list[Match[AddressEntry]]:
        """Leading words that name a county, then a township in it; the rest is the name."""
        scopes: list[AddressEntry] | None = None
        used = 0
        for word in words[:-1]:
            found = self._resolve_scopes(word, scopes)
            if not found:
                break
            scopes, used = found, used + 1
        if not scopes:
            return []
        return self._within(scopes, "".join(words[used:]), limit, base)

    def _split(
        self, text: str, limit: int, base: Callable[[AddressEntry], bool] | None
    ) -> list[Match[AddressEntry]]:
        """Hanzi typed without a space: the longest head that names a scope, the tail within."""
        for cut in range(len(text) - 1, 1, -1):
            if text[:cut] not in self._scope_heads:
                continue
            scopes = self._resolve_scopes(text[:cut], None)
            if scopes:
                found = self._within(scopes, text[cut:], limit, base)
                if found:
                    return found
        return []

    def unmatched(self, text: str) -> UnmatchedAddress:
        """Free text as an unmatched address: the county/township its leading words name (the
        best one), the rest kept as typed."""
        words = [w for w in _QUERY_SEPARATORS.split(text) if w]
        county = township = ""
        used = 0
        scopes: list[AddressEntry] | None = None
        for word in words[:-1] if len(words) > 1 else ():
            found = self._resolve_scopes(word, scopes)
            if not found:
                break
            scopes, used = found, used + 1
        if scopes:
            best = scopes[0]
            county = best.county
            township = best.name if best.level is AddressLevel.TOWNSHIP else ""
        return UnmatchedAddress(" ".join(words[used:]) or text.strip(), county, township)


_STRONG = frozenset({MatchKind.EXACT, MatchKind.INITIALS})


def _merge(
    plain: list[Match[AddressEntry]], scoped: list[Match[AddressEntry]], limit: int
) -> list[Match[AddressEntry]]:
    """A whole-query exact hit ("jsl jdl" is a crossing) first, then the scoped hits, then the
    rest of the plain ones; each entry once."""
    ordered = [m for m in plain if m.kind in _STRONG]
    ordered += scoped
    ordered += [m for m in plain if m.kind not in _STRONG]
    out: list[Match[AddressEntry]] = []
    seen: set[int] = set()
    for m in ordered:
        if id(m.entry) not in seen:
            seen.add(id(m.entry))
            out.append(m)
    return out[:limit]


def _to_address_match(m: Match[AddressEntry]) -> AddressMatch:
    return AddressMatch(m.entry.payload, m.kind, m.score, m.matched)
