"""How reference data reads as a pick-list row: one place for the entry form, the step forms,
the lookup and the knowledge-base panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.i18n import t
from agent_tui.widgets.search_list import Hit

if TYPE_CHECKING:
    from agent_tui.data.reference import ReferenceData
    from agent_tui.domain.address import AddressIndex
    from agent_tui.domain.reference import Category, Department, KnowledgeEntry
    from agent_tui.domain.search import SearchIndex


def address_hits(index: AddressIndex, query: str, limit: int) -> list[Hit]:
    """Each row reads as its path (泌阳县·官庄镇·王庄村): the city has a dozen 王庄村."""
    return [Hit(m.entry.label, t(m.entry.level.label), m.entry) for m in index.search(query, limit)]


def unmatched_hit(index: AddressIndex, text: str) -> Hit:
    """Text the address book does not know, kept as typed and marked (泌阳县·王庄西头（未匹配）)."""
    kept = index.unmatched(text)
    return Hit(kept.label, t("未匹配地址"), kept)


def category_hit(category: Category, ref: ReferenceData) -> Hit:
    parent = ref.category(category.parent)
    return Hit(category.name, f"{category.code} · {parent.name if parent else ''}", category)


def category_hits(
    index: SearchIndex[Category], ref: ReferenceData, query: str, limit: int
) -> list[Hit]:
    return [category_hit(m.entry.payload, ref) for m in index.search(query, limit)]


def department_hit(department: Department) -> Hit:
    """A department as the pick-lists show it: short name, code."""
    return Hit(department.short_name, department.code, department)


def department_hits(index: SearchIndex[Department], query: str, limit: int) -> list[Hit]:
    return [department_hit(m.entry.payload) for m in index.search(query, limit)]


def knowledge_hit(entry: KnowledgeEntry) -> Hit:
    return Hit(entry.title, t("、").join(entry.keywords[:3]), entry)


def knowledge_hits(index: SearchIndex[KnowledgeEntry], query: str, limit: int) -> list[Hit]:
    return [knowledge_hit(m.entry.payload) for m in index.search(query, limit)]
