"""Command palette (Ctrl+P) providers: cases, addresses, departments and the knowledge base.

Each provider asks the same search engines the screens use (the seat store for cases), so
``jsl`` finds 金山路 here as everywhere. Choosing a case opens it; choosing an address, a
department or an answer opens the reference lookup on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Protocol

from textual.command import Hit, Hits, Provider

from agent_tui.i18n import t
from agent_tui.widgets.case_table import local, number_of, short

if TYPE_CHECKING:  # the palette loads with the login form: nothing heavy at import
    from agent_tui.client.seat import Seat
    from agent_tui.data.reference import ReferenceData
    from agent_tui.domain.address import AddressIndex
    from agent_tui.domain.reference import Department, KnowledgeEntry
    from agent_tui.domain.search import SearchIndex

LIMIT = 12


class PaletteHost(Protocol):
    """What the providers need from the application."""

    seat: Seat | None
    reference: ReferenceData
    addresses: AddressIndex
    departments: SearchIndex[Department]
    knowledge: SearchIndex[KnowledgeEntry]

    def open_case(self, case_uuid: str) -> None: ...

    async def show_lookup(self, kind: str, query: str) -> None: ...


def _score(rank: int, weight: float = 1.0) -> float:
    """Our engines rank already; the palette sorts by score, so keep their order. A case
    (matched literally by number, phone or content) comes before reference data."""
    return weight * (1.0 - rank / (LIMIT * 2))


REFERENCE = 0.9


class _HostProvider(Provider):
    @property
    def host(self) -> PaletteHost:
        return self.app  # type: ignore[return-value]

    def _lookup(self, kind: str, query: str) -> Callable[[], Awaitable[None]]:
        return partial(self.host.show_lookup, kind, query)


class CaseCommands(_HostProvider):
    async def search(self, query: str) -> Hits:
        seat = self.host.seat
        if seat is None or len(query.strip()) < 2:
            return
        for rank, cached in enumerate(seat.search(query.strip(), LIMIT)):
            c = cached.case
            label = t("工单 {number} · {status}", number=number_of(c), status=t(c.status.label))
            yield Hit(
                _score(rank),
                label,
                partial(self.host.open_case, c.uuid),
                text=label,
                help=f"{local(c.registered_at)} {c.caller_phone} {short(c.content, 30)}"
                + (t("（待发送）") if cached.pending else ""),
            )


class _ReferenceCommands(_HostProvider):
    """Reference data: each row opens the lookup on that kind with its name typed in."""

    KIND = ""

    def rows(self, query: str) -> Iterator[tuple[str, str, str]]:
        """(label, what the lookup searches, help) for ``query``, best first."""
        raise NotImplementedError

    async def search(self, query: str) -> Hits:
        if not query.strip():
            return
        for rank, (label, target, help_) in enumerate(self.rows(query.strip())):
            yield Hit(
                _score(rank, REFERENCE),
                label,
                self._lookup(self.KIND, target),
                text=label,
                help=help_,
            )


class AddressCommands(_ReferenceCommands):
    KIND = "address"

    def rows(self, query: str) -> Iterator[tuple[str, str, str]]:
        for m in self.host.addresses.search(query, LIMIT):
            name = m.entry.name
            yield t("地址 {name}", name=name), name, f"{t(m.entry.level.label)} · {m.path}"


class DepartmentCommands(_ReferenceCommands):
    KIND = "department"

    def rows(self, query: str) -> Iterator[tuple[str, str, str]]:
        for m in self.host.departments.search(query, LIMIT):
            d = m.entry.payload
            yield t("单位 {name}", name=d.short_name), d.short_name, d.name


class KnowledgeCommands(_ReferenceCommands):
    KIND = "knowledge"

    def rows(self, query: str) -> Iterator[tuple[str, str, str]]:
        for m in self.host.knowledge.search(query, LIMIT):
            k = m.entry.payload
            yield t("知识库 {title}", title=k.title), k.title, short(k.answer, 40)


PROVIDERS = (CaseCommands, AddressCommands, DepartmentCommands, KnowledgeCommands)
