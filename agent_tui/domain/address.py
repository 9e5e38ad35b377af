"""Addresses of a case: county → township → village/community, roads, crossings and landmarks.

``AddressIndex`` puts them behind ``search.SearchIndex`` so that an agent finds 金山路 by typing
"jsl", a village by its initials, and the 金山路/骏达路 crossing by typing both roads
("金山路骏达路" or "jsl jdl") in either order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
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

        hits = self._index.search(query, limit, keep if scope or wanted else None, fuzzy=fuzzy)
        return [_to_address_match(m) for m in hits]


def _to_address_match(m: Match[AddressEntry]) -> AddressMatch:
    return AddressMatch(m.entry.payload, m.kind, m.score, m.matched)
