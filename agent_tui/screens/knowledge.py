"""The knowledge base: pick an answer to read to the caller (and resolve the case with it)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from agent_tui.data.indexes import default_indexes
from agent_tui.domain.reference import KnowledgeEntry
from agent_tui.i18n import N_, t
from agent_tui.widgets.hits import knowledge_hits
from agent_tui.widgets.search_list import Hit, SearchList


def answer_hits(query: str) -> list[Hit]:
    return knowledge_hits(default_indexes()[3], query, 30)


def answer_text(entry: KnowledgeEntry) -> str:
    phone = t("（电话 {phone}）", phone=entry.phone) if entry.phone else ""
    return f"{entry.answer}{phone}"


class AnswerScreen(ModalScreen[str | None]):
    """Search the knowledge base; Enter takes the highlighted answer, Esc cancels."""

    HELP_TITLE = N_("知识库")
    BINDINGS = [Binding("escape", "cancel", "取消", id="answer.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="answer"):
            yield Label(
                t("直接办结：选择答复口径（Enter 采用，Esc 取消）"), classes="section-title"
            )
            yield SearchList(answer_hits, placeholder=t("知识库：汉字/拼音/首字母（如 停水、gjj）"))
            yield Static("", id="answer-preview")

    def on_mount(self) -> None:
        self.query_one(SearchList).input.focus()

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
