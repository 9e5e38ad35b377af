"""A fast in-memory text index with pinyin: addresses now, categories and departments later.

Agents type a few characters of Chinese, or pinyin initials (jsl → 金山路), on every keystroke,
so a query must cost well under a millisecond at 100,000 entries. The index therefore:

* numbers entries in global rank order (base rank, then shorter name, then name), so within a
  tier "better" simply means "smaller id" and every posting list is already sorted by quality;
* answers prefix tiers from sorted key arrays (bisect), with the ranked head of every *large*
  prefix range precomputed, so a one-letter query never sorts thousands of ids;
* answers Chinese substrings from a character/bigram inverted index and stops after ``limit``;
* uses rapidfuzz only as a fallback over a small candidate pool that shares characters (or a
  pinyin prefix) with the query, never over the whole index.

Tiers, best first: exact name/alias, name prefix, pinyin-initials exact, initials prefix,
Chinese substring, full-pinyin prefix, initials substring, fuzzy.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from itertools import compress, islice, repeat
from operator import add, contains
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from agent_tui.domain.pinyin import pinyin_keys

P = TypeVar("P")

#: Sorts after every real character: ``key < prefix + _MAX_CHAR`` bounds a prefix range.
_MAX_CHAR = "\U0010ffff"


class MatchKind(IntEnum):
    """How a result matched; the value is the tier (lower is better)."""

    EXACT = 0
    PREFIX = 1
    INITIALS = 2
    INITIALS_PREFIX = 3
    SUBSTRING = 4
    PINYIN_PREFIX = 5
    INITIALS_SUBSTRING = 6
    FUZZY = 7

    @property
    def label(self) -> str:
        """Short Chinese label for the result list."""
        return _KIND_LABELS[self]


_KIND_LABELS: dict[MatchKind, str] = {
    MatchKind.EXACT: "完全匹配",
    MatchKind.PREFIX: "开头匹配",
    MatchKind.INITIALS: "首字母",
    MatchKind.INITIALS_PREFIX: "首字母开头",
    MatchKind.SUBSTRING: "包含",
    MatchKind.PINYIN_PREFIX: "全拼",
    MatchKind.INITIALS_SUBSTRING: "首字母包含",
    MatchKind.FUZZY: "近似",
}


@dataclass(frozen=True, slots=True)
class SearchEntry(Generic[P]):
    """One searchable thing: ``rank`` is its base importance (lower = shown first)."""

    name: str
    payload: P
    aliases: tuple[str, ...] = ()
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Match(Generic[P]):
    """A result: the entry, its tier, a 0–100 score within the tier, and the text that matched."""

    entry: SearchEntry[P]
    kind: MatchKind
    score: float
    matched: str


def normalize(text: str) -> str:
    """Lower-case and drop whitespace: "JSL jdl" and "jsljdl" are the same query."""
    return "".join(text.split()).lower()


class _PrefixTable:
    """Sorted (key, id) pairs; ``ranked(prefix)`` yields the ids with that key prefix, best first.

    Ranges of at most ``SMALL`` keys are sorted on the fly. For every larger range the sorted
    head (``HEAD`` ids) is precomputed at build time, which keeps short queries O(limit).
    """

    SMALL = 48
    HEAD = 256

    __slots__ = ("heads", "ids", "keys")

    def __init__(self, pairs: list[tuple[str, int]]) -> None:
        pairs.sort()
        self.keys: list[str] = [k for k, _ in pairs]
        self.ids: list[int] = [i for _, i in pairs]
        # prefix -> (first HEAD distinct ids in rank order, whether that is all of them)
        self.heads: dict[str, tuple[list[int], bool]] = {}
        self._build_heads()

    def _build_heads(self) -> None:
        keys, ids = self.keys, self.ids
        stack: list[tuple[int, int, int]] = [(0, 0, len(keys))]  # (prefix length, lo, hi)
        while stack:
            depth, lo, hi = stack.pop()
            i = lo
            while i < hi and len(keys[i]) == depth:  # keys equal to the prefix sort first
                i += 1
            while i < hi:
                prefix = keys[i][: depth + 1]
                j = bisect_left(keys, prefix + _MAX_CHAR, i, hi)
                if j - i > self.SMALL:
                    ranked = sorted(set(ids[i:j]))
                    self.heads[prefix] = (ranked[: self.HEAD], len(ranked) <= self.HEAD)
                    stack.append((depth + 1, i, j))
                i = j

    def ranked(self, prefix: str) -> Iterator[int]:
        keys = self.keys
        lo = bisect_left(keys, prefix)
        hi = bisect_left(keys, prefix + _MAX_CHAR, lo)
        if hi - lo <= self.SMALL:
            yield from sorted(set(self.ids[lo:hi]))
            return
        head = self.heads.get(prefix)
        if head is None:  # only an empty prefix gets here
            yield from sorted(set(self.ids[lo:hi]))
            return
        first, complete = head
        yield from first
        if not complete:  # the caller wants more than HEAD: rare, pay for the full sort
            yield from sorted(set(self.ids[lo:hi]))[len(first) :]


_TEXT_KINDS = frozenset({MatchKind.EXACT, MatchKind.PREFIX, MatchKind.SUBSTRING, MatchKind.FUZZY})
_WHOLE_KINDS = frozenset({MatchKind.EXACT, MatchKind.INITIALS})
_PREFIX_KINDS = frozenset({MatchKind.PREFIX, MatchKind.INITIALS_PREFIX, MatchKind.PINYIN_PREFIX})


#: Runs of Han characters vs everything else. pypinyin splits text this way itself, so keying
#: each run separately gives the same pinyin while letting the per-text cache of ``pinyin_keys``
#: serve the parts that recur across an address book ("金山路" in "金山路12号院", "金山路3号").
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUNS = re.compile(f"[{_HAN}]+|[^{_HAN}]+")


def text_pinyin(text: str) -> tuple[str, str]:
    """``pinyin_keys`` of ``text``, computed run by run (same result, much faster in bulk)."""
    runs = _HAN_RUNS.findall(text)
    if len(runs) <= 1:
        return pinyin_keys(text)
    keys = [pinyin_keys(run) for run in runs]
    return "".join(f for f, _ in keys), "".join(i for _, i in keys)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an index is built: it allocates only acyclic
    containers (hundreds of thousands at 100k entries), which a collection would walk again and
    again for nothing (~15% of building the packaged indexes)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _bigrams(text: str) -> Iterator[str]:
    return (text[i : i + 2] for i in range(len(text) - 1))


def _trigrams(text: str) -> Iterator[str]:
    return (text[i : i + 3] for i in range(len(text) - 2))


def _verified(ids: list[int], hay: list[str], q: str, chunk: int = 128) -> Iterator[int]:
    """The ids whose ``hay`` contains ``q``, in order; checked a chunk at a time in C
    (map/compress) because a common bigram can have thousands of postings."""
    fetch = hay.__getitem__
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        yield from compress(part, map(contains, map(fetch, part), repeat(q)))


class SearchIndex(Generic[P]):
    """Immutable index over ``entries``; build once, query many times (thread-safe reads)."""

    #: Fuzzy fallback looks at no more than this many candidates.
    FUZZY_POOL = 1500
    #: rapidfuzz scores below this are not shown.
    FUZZY_CUTOFF = 60.0

    def __init__(self, entries: Iterable[SearchEntry[P]]) -> None:
        with gc_paused():
            self._build(entries)

    def _build(self, entries: Iterable[SearchEntry[P]]) -> None:
        ordered = sorted(entries, key=lambda e: (e.rank, len(e.name), e.name))
        self._entries: list[SearchEntry[P]] = ordered
        self._payloads: list[P] = [e.payload for e in ordered]
        self._texts: list[tuple[str, ...]] = []  # normalized name first, then aliases
        self._originals: list[tuple[str, ...]] = []  # the same texts as entered, for display
        self._pinyin: list[tuple[tuple[str, str], ...]] = []  # (full, initials) per text
        self._hay: list[str] = []  # texts joined by NUL, for substring verification
        self._initials_hay: list[str] = []
        name_pairs: list[tuple[str, int]] = []
        initials_pairs: list[tuple[str, int]] = []
        full_pairs: list[tuple[str, int]] = []

        # Start-up builds this over every packaged name, so the loop is written for speed: n-grams
        # by C-level map(add, ...), postings through defaultdicts, no per-text method calls.
        texts_of, originals_of, pinyin_of = self._texts, self._originals, self._pinyin
        hay, initials_hay = self._hay, self._initials_hay
        exact: defaultdict[str, list[int]] = defaultdict(list)
        initials_exact: defaultdict[str, list[int]] = defaultdict(list)
        gram_postings: defaultdict[str, list[int]] = defaultdict(list)
        initials_gram_postings: defaultdict[str, list[int]] = defaultdict(list)
        for i, entry in enumerate(ordered):
            by_key: dict[str, str] = {}
            for original in (entry.name, *entry.aliases) if entry.aliases else (entry.name,):
                key = "".join(original.split()).lower()  # normalize()
                if key and key not in by_key:
                    by_key[key] = original
            texts = tuple(by_key)
            keys = tuple(map(text_pinyin, texts))
            texts_of.append(texts)
            originals_of.append(tuple(by_key.values()))
            pinyin_of.append(keys)
            hay.append("\0".join(texts))
            initials_hay.append("\0".join([ini for _, ini in keys]))
            grams: set[str] = set()
            initials_grams: set[str] = set()
            for text, (full, initials) in zip(texts, keys, strict=True):
                exact[text].append(i)  # texts of one entry are distinct
                postings = initials_exact[initials]
                if not postings or postings[-1] != i:  # two texts may share initials
                    postings.append(i)
                name_pairs.append((text, i))
                initials_pairs.append((initials, i))
                full_pairs.append((full, i))
                grams.update(text, map(add, text, text[1:]))
                bigrams = list(map(add, initials, initials[1:]))
                initials_grams.update(bigrams, map(add, bigrams, initials[2:]))
            for gram in grams:
                gram_postings[gram].append(i)
            for gram in initials_grams:
                initials_gram_postings[gram].append(i)
        self._exact: dict[str, list[int]] = dict(exact)
        self._initials_exact: dict[str, list[int]] = dict(initials_exact)
        self._grams: dict[str, list[int]] = dict(gram_postings)  # chars and bigrams of the texts
        # bi- and trigrams of the initials: 26² bigrams over 100k entries have thousands of
        # postings each, trigrams tens; a 3+-letter query walks the short list.
        self._initials_grams: dict[str, list[int]] = dict(initials_gram_postings)

        self._primary: list[str] = [t[0] if t else "" for t in self._texts]
        self._full_of_name: list[str] = [k[0][0] if k else "" for k in self._pinyin]
        self._initials_of_name: list[str] = [k[0][1] if k else "" for k in self._pinyin]
        self._names = _PrefixTable(name_pairs)
        self._initials = _PrefixTable(initials_pairs)
        self._full = _PrefixTable(full_pairs)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> list[SearchEntry[P]]:
        """Entries in global rank order."""
        return list(self._entries)

    # -- tiers ---------------------------------------------------------------------------------

    def _substring(self, q: str) -> Iterator[int]:
        if len(q) == 1:
            yield from self._grams.get(q, ())
            return
        postings = []
        for gram in _bigrams(q):
            found = self._grams.get(gram)
            if found is None:
                return
            postings.append(found)
        rarest = min(postings, key=len)
        if len(q) == 2:
            yield from rarest
            return
        yield from _verified(rarest, self._hay, q)

    def _initials_substring(self, q: str) -> Iterator[int]:
        postings = []
        for gram in _trigrams(q) if len(q) >= 3 else _bigrams(q):
            found = self._initials_grams.get(gram)
            if found is None:
                return
            postings.append(found)
        yield from _verified(min(postings, key=len), self._initials_hay, q)

    def _tiers(self, q: str) -> Iterator[tuple[MatchKind, Iterable[int]]]:
        yield MatchKind.EXACT, self._exact.get(q, ())
        yield MatchKind.PREFIX, self._names.ranked(q)
        latin = q.isascii()
        if latin:
            py = q.replace("'", "")
            yield MatchKind.INITIALS, self._initials_exact.get(py, ())
            yield MatchKind.INITIALS_PREFIX, self._initials.ranked(py)
        yield MatchKind.SUBSTRING, self._substring(q)
        if latin:
            yield MatchKind.PINYIN_PREFIX, self._full.ranked(py)
            if len(py) >= 2:
                yield MatchKind.INITIALS_SUBSTRING, self._initials_substring(py)

    def _fuzzy_pool(
        self, q: str, seen: set[int], keep: Callable[[P], bool] | None
    ) -> tuple[list[int], list[str]]:
        """Candidates sharing something cheap with the query, and the strings to score them by.

        The pool is cut from posting lists by slicing, never tested item by item in Python:
        rapidfuzz rejects a candidate of the wrong length (``fuzz.ratio`` is
        2·matches / (len(a) + len(b))) in C far faster, and ``_fuzzy`` drops entries already
        shown or filtered out by ``keep`` from the few hits instead of the whole pool.
        """
        cap = self.FUZZY_POOL
        pool: list[int]
        if q.isascii():
            # Short latin queries are initials with a typo ("jdl" for jsl), long ones a full
            # spelling ("jinshnalu"); score each against the matching key only.
            initials = len(q) <= 6
            table = self._initials if initials else self._full
            keys = self._initials_of_name if initials else self._full_of_name
            # Only the precomputed heads (best-ranked HEAD ids) of the one- and two-letter
            # prefixes: going past a head means sorting a range of thousands of ids.
            head = _PrefixTable.HEAD
            prefixes = (q[:1], q[:2]) if initials else (q[:2], q[:3])
            pool = list(dict.fromkeys(i for p in prefixes for i in islice(table.ranked(p), head)))
            return pool, [keys[i] for i in pool]
        # Rarest grams first: they say most about which entries the typo was aimed at.
        grams = set(_bigrams(q)) | set(q)
        lists = sorted((self._grams[g] for g in grams if g in self._grams), key=len)
        pool = []
        for postings in lists:
            if len(postings) > cap and pool:
                # A common gram (路, 村) says little about the target: only when rare ones fail.
                break
            pool.extend(postings[: cap - len(pool)])
            if len(pool) >= cap:
                break
        choices = list(map(self._primary.__getitem__, pool))  # C-speed gather
        return pool, choices

    def _fuzzy(
        self, q: str, need: int, seen: set[int], keep: Callable[[P], bool] | None
    ) -> list[tuple[int, float]]:
        pool, choices = self._fuzzy_pool(q, seen, keep)
        if not pool:
            return []
        # Plain ratio, not WRatio: WRatio's partial matching lifts every longer name that merely
        # contains part of the query above the one the typo was aimed at.
        hits = process.extract(
            q, choices, scorer=fuzz.ratio, limit=None, score_cutoff=self.FUZZY_CUTOFF
        )
        best: dict[int, float] = {}
        payloads = self._payloads
        for _, score, pos in hits:
            i = pool[pos]
            if i in seen or score <= best.get(i, -1.0):
                continue
            if keep is not None and not keep(payloads[i]):
                continue
            best[i] = score
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:need]

    def _explain(self, i: int, kind: MatchKind, q: str, py: str) -> tuple[str, float]:
        """Which text matched (as entered), and a 0–100 score: how much of it the query covers."""
        texts = self._texts[i]
        keys = self._pinyin[i]
        for j, text in enumerate(texts):
            if kind in _TEXT_KINDS:
                key, probe = text, q
            elif kind is MatchKind.PINYIN_PREFIX:
                key, probe = keys[j][0], py
            else:
                key, probe = keys[j][1], py
            if kind in _WHOLE_KINDS:
                ok = key == probe
            elif kind in _PREFIX_KINDS:
                ok = key.startswith(probe)
            else:
                ok = probe in key
            if ok:
                return self._originals[i][j], 100.0 * len(probe) / max(len(key), 1)
        return self._entries[i].name, 0.0

    # -- query ---------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        limit: int = 50,
        keep: Callable[[P], bool] | None = None,
        *,
        fuzzy: bool = True,
        budget: int | None = None,
    ) -> list[Match[P]]:
        """Ranked matches for ``query``, at most ``limit``; ``keep`` filters by payload.

        With ``fuzzy=False`` the rapidfuzz fallback is skipped (e.g. while keys are still
        arriving faster than the screen refreshes). ``budget`` caps how many candidates the
        tiers may hand to ``keep``: a narrow filter over a common key ("dw" in one county)
        would otherwise walk the whole index; ids come in rank order, so what the cap cuts
        is the tail.
        """
        q = normalize(query)
        if not q or limit <= 0:
            return []
        payloads = self._payloads
        seen: set[int] = set()
        found: list[tuple[int, MatchKind]] = []
        left = budget if budget is not None else -1
        for kind, ids in self._tiers(q):
            for i in ids:
                if i in seen:
                    continue
                seen.add(i)
                if keep is not None and not keep(payloads[i]):
                    left -= 1
                    if left == 0:
                        break
                    continue
                found.append((i, kind))
                if len(found) >= limit:
                    break
            if len(found) >= limit or left == 0:
                break
        entries = self._entries
        py = q.replace("'", "")
        matches: list[Match[P]] = []
        for i, kind in found:
            matched, score = self._explain(i, kind, q, py)
            matches.append(Match(entries[i], kind, score, matched))
        if fuzzy and len(matches) < limit and len(q) >= 2:
            for i, score in self._fuzzy(q, limit - len(matches), seen, keep):
                matches.append(Match(entries[i], MatchKind.FUZZY, score, entries[i].name))
        return matches
