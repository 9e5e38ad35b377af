"""Search indexes over the reference data: one engine (``domain.search``) for every pick-list.

Built once per process and cached: the seat builds them at start-up, off the keystroke path.
"""

from __future__ import annotations

from functools import cache

from agent_tui.data.addresses import build_address_index
from agent_tui.data.reference import ReferenceData, department_search_keys, load_reference
from agent_tui.domain.address import AddressIndex
from agent_tui.domain.reference import Category, Department, KnowledgeEntry
from agent_tui.domain.search import SearchEntry, SearchIndex, gc_paused


def category_index(ref: ReferenceData) -> SearchIndex[Category]:
    """Leaves only (a case carries a leaf); findable by name, code and "大类 小类"."""
    entries = []
    for leaf in ref.leaves():
        parent = ref.category(leaf.parent)
        aliases = [leaf.code]
        if parent is not None:
            aliases.append(parent.name + leaf.name)
        entries.append(SearchEntry(leaf.name, leaf, tuple(aliases)))
    return SearchIndex(entries)


def department_index(ref: ReferenceData) -> SearchIndex[Department]:
    """By short name, full name, code and the full name's pinyin; municipal units first."""
    rank = {"municipal": 0, "utility": 1, "county": 2}
    return SearchIndex(
        SearchEntry(
            d.short_name,
            d,
            (d.name, *department_search_keys(d)),
            rank.get(d.kind, 3),
        )
        for d in ref.departments
    )


def knowledge_index(ref: ReferenceData) -> SearchIndex[KnowledgeEntry]:
    return SearchIndex(SearchEntry(k.title, k, k.keywords) for k in ref.knowledge)


@cache
def default_reference() -> ReferenceData:
    return load_reference()


@cache
def default_indexes() -> tuple[
    AddressIndex, SearchIndex[Category], SearchIndex[Department], SearchIndex[KnowledgeEntry]
]:
    """The packaged data's indexes (the centre's address book is added by the caller)."""
    with gc_paused():  # reading the files too allocates only long-lived, acyclic objects
        ref = default_reference()
        return (
            build_address_index(),
            category_index(ref),
            department_index(ref),
            knowledge_index(ref),
        )
