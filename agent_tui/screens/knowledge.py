"""The knowledge base: pick an answer to read to the caller (and resolve the case with it)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from agent_tui.data.indexes import default_indexes
from agent_tui.domain.reference import Category, KnowledgeEntry
from agent_tui.i18n import N_, t
from agent_tui.widgets.hits import knowledge_hit, knowledge_hits
from agent_tui.widgets.search_list import Hit, SearchList


def answer_hits(query: str) -> list[Hit]:
    return knowledge_hits(default_indexes()[3], query, 30)


def answer_text(entry: KnowledgeEntry) -> str:
    phone = t("（电话 {phone}）", phone=entry.phone) if entry.phone else ""
    return f"{entry.answer}{phone}"


def category_answer_hits(query: str, category: Category | None) -> list[Hit]:
    """``answer_hits``, the answers filed under ``category`` first; searching for the
    category's own name lists all of them, whatever their titles say."""
    hits = answer_hits(query)
    if category is None:
        return hits
    if query.strip() == category.name:
        shown = {id(h.value) for h in hits}
        entries = [e.payload for e in default_indexes()[3].entries]
        hits += [
            knowledge_hit(e) for e in entries if e.category == category.code and id(e) not in shown
        ]
    return sorted(hits, key=lambda h: h.value.category != category.code)  # stable


class AnswerScreen(ModalScreen[str | None]):
    """Search the knowledge base; Enter takes the highlighted answer, Esc cancels. Opened on
    a case's category, it comes up already searched on it."""

    HELP_TITLE = N_("知识库")
    BINDINGS = [Binding("escape", "cancel", "取消", id="answer.cancel")]

    def __init__(self, category: Category | None = None) -> None:
        super().__init__()
        self.category = category

    def compose(self) -> ComposeResult:
        with Vertical(id="answer"):
            yield Label(
                t("直接办结：选择答复口径（Enter 采用，Esc 取消）"), classes="section-title"
            )
            yield SearchList(
                lambda q: category_answer_hits(q, self.category),
                placeholder=t("知识库：汉字/拼音/首字母（如 停水、gjj）"),
            )
            yield Static("", id="answer-preview")

    def on_mount(self) -> None:
        search = self.query_one(SearchList)
        if self.category is not None:
            search.input.value = self.category.name  # searches at once (Input.Changed)
        search.input.focus()

    @on(SearchList.Highlighted)
    def _preview(self, event: SearchList.Highlighted) -> None:
        entry = event.hit.value
        assert isinstance(entry, KnowledgeEntry)
        self.query_one("#answer-preview", Static).update(answer_text(entry))

    @on(SearchList.Picked)
    def _picked(self, event: SearchList.Picked) -> None:
        if isinstance(event, SearchList.Highlighted):
            return
        entry = event.hit.value
        assert isinstance(entry, KnowledgeEntry)
        self.dismiss(answer_text(entry))

    def action_cancel(self) -> None:
        self.dismiss(None)
