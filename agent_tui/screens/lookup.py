"""Reference lookup: addresses, categories, departments and the knowledge base from one box.

F5–F8 switch what is searched; the detail pane shows the highlighted result in full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Label, Static

from agent_tui.client.seat import Seat
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.address import AddressEntry, AddressIndex
from agent_tui.domain.reference import Category, Department, KnowledgeEntry
from agent_tui.domain.search import SearchIndex
from agent_tui.i18n import N_, t
from agent_tui.widgets.footer import SteadyFooter
from agent_tui.widgets.hits import address_hits, category_hits, knowledge_hits
from agent_tui.widgets.search_list import Hit, SearchList
from agent_tui.widgets.seat_bar import SeatBar

LIMIT = 50


@dataclass(frozen=True, slots=True)
class LookupSource:
    key: str
    title: str
    placeholder: str
    search: Callable[[str], Sequence[Hit]]
    describe: Callable[[object], str]


def build_sources(
    ref: ReferenceData,
    addresses: AddressIndex,
    categories: SearchIndex[Category],
    departments: SearchIndex[Department],
    knowledge: SearchIndex[KnowledgeEntry],
) -> dict[str, LookupSource]:
    def search_addresses(q: str) -> list[Hit]:
        return address_hits(addresses, q, LIMIT)

    def describe_address(e: object) -> str:
        assert isinstance(e, AddressEntry)
        lines = [
            f"[b]{e.name}[/b]",
            t("层级：{level}", level=t(e.level.label)),
            t("路径：{path}", path=e.path),
        ]
        if e.aliases:
            lines.append(t("别名：{aliases}", aliases=t("、").join(e.aliases)))
        if e.code:
            lines.append(t("区划代码：{code}", code=e.code))
        return "\n".join(lines)

    def search_categories(q: str) -> list[Hit]:
        return category_hits(categories, ref, q, LIMIT)

    def describe_category(c: object) -> str:
        assert isinstance(c, Category)
        parent = ref.category(c.parent)
        co = t("、").join(ref.department_label(x) for x in c.co_departments) or t("无")
        return "\n".join(
            [
                t("[b]{name}[/b]（{code}）", name=c.name, code=c.code),
                t("大类：{parent}", parent=parent.name if parent else "—"),
                t("默认主办：{name}", name=ref.department_label(c.department)),
                t("协办：{co}", co=co),
                t("期限类别：{deadline_class}", deadline_class=t(c.deadline_class.label)),
            ]
        )

    def search_departments(q: str) -> list[Hit]:
        return [
            Hit(
                m.entry.payload.short_name,
                f"{m.entry.payload.code} · {m.entry.payload.name}",
                m.entry.payload,
            )
            for m in departments.search(q, LIMIT)
        ]

    def describe_department(d: object) -> str:
        assert isinstance(d, Department)
        lines = [
            f"[b]{d.name}[/b]",
            t("简称：{short_name}（{code}）", short_name=d.short_name, code=d.code),
        ]
        if d.phone:
            lines.append(t("服务电话：{phone}", phone=d.phone))
        return "\n".join(lines)

    def search_knowledge(q: str) -> list[Hit]:
        return knowledge_hits(knowledge, q, LIMIT)

    def describe_knowledge(k: object) -> str:
        assert isinstance(k, KnowledgeEntry)
        lines = [f"[b]{k.title}[/b]", "", k.answer]
        if k.phone:
            lines += ["", t("电话：{phone}", phone=k.phone)]
        if k.department:
            lines.append(t("承办：{department}", department=ref.department_label(k.department)))
        return "\n".join(lines)

    # Titles and placeholders are translated when shown (the sources are built once).
    return {
        "address": LookupSource(
            "address",
            N_("地址"),
            N_("输入汉字、拼音或首字母（如 jsl → 金山路）"),
            search_addresses,
            describe_address,
        ),
        "category": LookupSource(
            "category",
            N_("诉求分类"),
            N_("输入汉字、拼音或首字母或分类代码"),
            search_categories,
            describe_category,
        ),
        "department": LookupSource(
            "department",
            N_("承办单位"),
            N_("输入汉字、拼音或首字母或单位代码"),
            search_departments,
            describe_department,
        ),
        "knowledge": LookupSource(
            "knowledge",
            N_("知识库"),
            N_("输入汉字、拼音或首字母（如 停水、公积金）"),
            search_knowledge,
            describe_knowledge,
        ),
    }


class LookupScreen(Screen[None]):
    """One search box; F5 地址 / F6 分类 / F7 单位 / F8 知识库."""

    HELP_TITLE = N_("资料查询")

    # These keys are priority (style.md reserves that for quit and help) because agents type
    # ahead: a non-priority binding runs only after the key has bubbled up from the focused
    # Input, while the next keys are already being typed into it. F-keys and Ctrl+L never
    # carry text, so taking them first steals nothing from the Input.

    BINDINGS = [
        Binding(
            "f5",
            "mode('address')",
            "地址",
            tooltip="搜索县区、乡镇、村社区、道路",
            priority=True,
            id="lookup.address",
        ),
        Binding(
            "f6",
            "mode('category')",
            "分类",
            tooltip="搜索诉求分类及其默认承办单位",
            priority=True,
            id="lookup.category",
        ),
        Binding(
            "f7",
            "mode('department')",
            "单位",
            tooltip="搜索承办单位",
            priority=True,
            id="lookup.department",
        ),
        Binding(
            "f8",
            "mode('knowledge')",
            "知识库",
            tooltip="搜索知识库答复口径",
            priority=True,
            id="lookup.knowledge",
        ),
        Binding(
            "ctrl+l",
            "focus_search",
            "搜索框",
            tooltip="回到搜索框并全选",
            priority=True,
            id="lookup.focus_search",
        ),
    ]

    def __init__(self, sources: dict[str, LookupSource], seat: Seat | None = None) -> None:
        super().__init__()
        self.sources = sources
        self.seat = seat
        self.current = sources["address"]
        self._request: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="lookup"):
            with Vertical(id="lookup-left"):
                yield Label(self._mode_text(), id="lookup-mode")
                yield SearchList(self.current.search, placeholder=t(self.current.placeholder))
            yield Static("", id="lookup-detail")
        if self.seat is not None:
            yield SeatBar(self.seat)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("驻马店 12345 · 资料查询")
        self.sub_title = t(self.current.title)
        self.query_one(SearchList).input.focus()
        if self._request is not None:
            self.show(*self._request)
            self._request = None

    def _mode_text(self) -> str:
        return "  ".join(
            f"[reverse] {t(s.title)} [/]" if s is self.current else f" {t(s.title)} "
            for s in self.sources.values()
        )

    def action_mode(self, key: str) -> None:
        self.current = self.sources[key]
        self.sub_title = t(self.current.title)
        self.query_one("#lookup-mode", Label).update(self._mode_text())
        self.query_one("#lookup-detail", Static).update("")
        search_list = self.query_one(SearchList)
        # A new kind of search starts from an empty box: "jsl" means nothing to categories.
        search_list.input.value = ""
        search_list.set_searcher(self.current.search, t(self.current.placeholder))
        search_list.input.focus()

    def show(self, key: str, query: str) -> None:
        """Open one kind with ``query`` typed in (the command palette lands here); before the
        screen is mounted, the request waits for ``on_mount``."""
        if not self.is_mounted:
            self._request = (key, query)
            return
        self.action_mode(key)
        self.query_one(SearchList).input.value = query

    def action_focus_search(self) -> None:
        search_input = self.query_one(SearchList).input
        if search_input.has_focus:
            search_input.select_all()
        else:
            # Focusing moves the cursor to the end once the Focus event is handled: select after.
            search_input.focus()
            self.call_after_refresh(search_input.select_all)

    @on(SearchList.Highlighted)
    @on(SearchList.Picked)
    def _show(self, event: SearchList.Picked) -> None:
        self.query_one("#lookup-detail", Static).update(self.current.describe(event.hit.value))
