"""Case entry (受理): the caller's phone first, then the form, then one key to save or dispatch.

Keyboard flow: Enter moves to the next field everywhere; digits pick in the single-key
choices; pick-lists search as you type (汉字, 拼音, 首字母, code) and Enter takes the top hit.
Routing fills the department and shows the deadline in working days and as a date. Errors
appear beside their field. The form is a draft in the seat store on every change; saving
writes the case and its commands to the outbox at once and never waits on the network.
"""

from __future__ import annotations

import uuid as uuid_mod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Static, TextArea

from agent_tui import wire
from agent_tui.client.model import CachedCase
from agent_tui.client.seat import Seat
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.address import AddressEntry, AddressIndex, AddressLevel
from agent_tui.domain.calendar import WorkCalendar
from agent_tui.domain.case import (
    OPEN_STATUSES,
    Address,
    AppealType,
    Gender,
    Intake,
    Role,
    Urgency,
    normalize_phone,
    validate_intake,
)
from agent_tui.domain.deadlines import DEFAULT_POLICY, describe, describe_en
from agent_tui.domain.errors import DomainError, ValidationFailed
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.reference import Category, Department
from agent_tui.domain.related import group_of
from agent_tui.domain.routing import Router
from agent_tui.domain.rules import is_finished
from agent_tui.domain.search import SearchIndex
from agent_tui.i18n import N_, either, english, t
from agent_tui.widgets.case_table import leader_mark, local, number_of, short
from agent_tui.widgets.choice import ChoiceBar
from agent_tui.widgets.footer import SteadyFooter
from agent_tui.widgets.hits import address_hits, category_hits, department_hit, department_hits
from agent_tui.widgets.pick import PickField
from agent_tui.widgets.search_list import Hit
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.seat_events import SeatCasesChanged, follow_seat

DRAFT_ID = "entry"
FIELDS = ("caller_phone", "caller_name", "anonymous", "category", "address", "content")


@dataclass(frozen=True, slots=True)
class EntryContext:
    """What the form searches and routes with (built once at start-up)."""

    reference: ReferenceData
    addresses: AddressIndex
    categories: SearchIndex[Category]
    departments: SearchIndex[Department]
    calendar: WorkCalendar
    router: Router


def _address_hits(index: AddressIndex, query: str) -> list[Hit]:
    return address_hits(index, query, 8)


def _address_of(entry: AddressEntry | None, detail: str) -> Address:
    if entry is None:
        return Address(detail=detail)
    road = entry.name if entry.level in (AddressLevel.ROAD, AddressLevel.CROSSING) else ""
    village = entry.name if entry.level is AddressLevel.VILLAGE else entry.village
    township = entry.name if entry.level is AddressLevel.TOWNSHIP else entry.township
    place = entry.name if entry.level is AddressLevel.POI else ""
    return Address(
        county=entry.county,
        township=township,
        village=village,
        road=road,
        detail=" ".join(p for p in (place, detail) if p),
    )


class CaseEntryScreen(Screen[None]):
    HELP_TITLE = N_("受理")

    BINDINGS = [
        Binding(
            "f9,ctrl+g", "dispatch", "派单", tooltip="保存并派给所选承办单位", id="entry.dispatch"
        ),
        Binding("ctrl+s", "save", "保存", tooltip="只受理，稍后派单", id="entry.save"),
        Binding("ctrl+r", "resolve", "直接办结", tooltip="用答复内容直接办结", id="entry.resolve"),
        Binding("ctrl+n", "clear", "新建", tooltip="清空表单（草稿随之删除）", id="entry.clear"),
        Binding(
            "ctrl+l",
            "link",
            "关联",
            tooltip="关联同类同地的未办结工单（再按换下一件，最后取消）",
            id="entry.link",
        ),
        Binding(
            "f7",
            "repeat_call('urge')",
            "催办",
            tooltip="重复来电：来电历史中所选的在办工单记一次催办（已办结的：可重办时重办）",
            show=False,  # no room in the Footer at 100 columns: the pane names it
            id="entry.urge",
        ),
        Binding(
            "f8",
            "repeat_call('supplement')",
            "补充",
            tooltip="重复来电：给来电历史中所选的在办工单补充新情况",
            show=False,  # no room in the Footer at 100 columns: the pane names it
            id="entry.supplement",
        ),
    ]

    def __init__(self, ctx: EntryContext, seat: Seat | None) -> None:
        super().__init__()
        self.ctx = ctx
        self.seat = seat
        #: 协办 from routing, sent with the dispatch (the lead department is the pick-list).
        self._co_departments: list[str] = []
        #: Related open cases offered for linking (newest first), and the group linked to.
        self._related: list[CachedCase] = []
        self._related_to = ""
        #: The caller's cases as the history pane shows them (F7/F8 act on the selected one).
        self._history: list[CachedCase] = []

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="entry"):
            with VerticalScroll(id="entry-form"):
                # Order = the call: number, what kind, what about, where, what; the optional
                # identity fields last. Enter moves on; digits pick in the choices.
                yield from self._field(
                    t("来电号码"), Input(id="caller_phone", placeholder=t("手机或带区号固话"))
                )
                yield Label(t("诉求类型（数字键选择）"), classes="field-label")
                yield ChoiceBar(
                    [(a, t(a.label)) for a in AppealType],
                    value=AppealType.COMPLAINT,
                    id="appeal_type",
                )
                yield Label(t("紧急程度"), classes="field-label")
                yield ChoiceBar([(u, t(u.label)) for u in Urgency], id="urgency")
                yield from self._field(
                    t("诉求分类"),
                    PickField(
                        self._category_hits,
                        placeholder=t("分类：汉字/拼音/首字母/代码"),
                        id="category",
                    ),
                )
                yield Static("", id="route-info", classes="hint")
                yield from self._field(
                    t("发生地点"),
                    PickField(
                        lambda q: _address_hits(self.ctx.addresses, q),
                        placeholder=t("县区、乡镇、村社区、道路（如 jsl → 金山路）"),
                        id="address",
                    ),
                )
                yield Input(id="address_detail", placeholder=t("详细位置（如 北侧 50 米、门牌号）"))
                yield from self._field(
                    t("诉求内容"), TextArea(id="content", tab_behavior="focus", soft_wrap=True)
                )
                yield from self._field(
                    t("主办单位"),
                    PickField(
                        self._department_hits, placeholder=t("默认按分类派单"), id="department"
                    ),
                )
                with Horizontal(classes="row"):
                    yield from self._field(
                        t("姓名"), Input(id="caller_name", placeholder=t("可不填"))
                    )
                    with Vertical(classes="cell"):
                        yield Label(t("性别"), classes="field-label")
                        yield ChoiceBar(
                            [(g, t(g.label)) for g in (Gender.UNKNOWN, Gender.MALE, Gender.FEMALE)],
                            id="gender",
                        )
                with Horizontal(classes="row"):
                    yield Checkbox(t("保密（对承办单位隐藏身份）"), id="confidential")
                    yield Checkbox(t("匿名"), id="anonymous")
                yield Static("", id="anonymous-error", classes="field-error")
                yield Static("", id="entry-status", classes="hint")
            with Vertical(id="entry-side"):
                yield Label(t("来电历史"), classes="section-title")
                yield Static("", id="history-warning")
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
                with Vertical(id="related-box"):
                    yield Label(t("可能相关（同类、同地、未办结）"), classes="section-title")
                    yield Static("", id="related")
        if self.seat is not None:
            yield SeatBar(self.seat)
        yield SteadyFooter()

    def _field(self, label: str, widget: Any) -> ComposeResult:
        with Vertical(classes="cell"):
            yield Label(label, classes="field-label")
            yield widget
            yield Static("", id=f"{widget.id}-error", classes="field-error")

    def on_mount(self) -> None:
        user = self.seat.user if self.seat is not None else None
        leader = user is not None and user.role is Role.LEADER
        # 领导接听: a leader's seat says so; every case taken here is 领导交办.
        self.title = t("驻马店 12345 · 领导接听") if leader else t("驻马店 12345 · 受理")
        table = self.query_one("#history", DataTable)
        table.add_columns(t("工单号"), t("受理时间"), t("状态"), t("内容"))
        for picker in self.query(PickField):
            picker.query_one("OptionList").can_focus = False
        self.query_one("#related-box").display = False
        self._restore_draft()
        self.query_one("#caller_phone", Input).focus()
        follow_seat(self)

    def on_seat_cases_changed(self, message: SeatCasesChanged) -> None:
        """A case of the caller's history changed (an urge delivered, a step elsewhere): the
        pane shows it from the seat's cache at once."""
        if self.seat is None or not self._history:
            return
        if message.event.uuids & {c.uuid for c in self._history}:
            try:
                phone = normalize_phone(self.query_one("#caller_phone", Input).value)
            except ValueError:
                return
            self._show_history(self.seat.cached_caller_history(phone))

    def _now(self) -> datetime:
        now: datetime = getattr(self.app, "clock", lambda: datetime.now(UTC))()
        return now

    # -- searches ------------------------------------------------------------------------------

    def _category_hits(self, query: str) -> list[Hit]:
        return category_hits(self.ctx.categories, self.ctx.reference, query, 8)

    def _department_hits(self, query: str) -> list[Hit]:
        return department_hits(self.ctx.departments, query, 8)

    # -- the form as data ----------------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        """The form as the server's create body (also the draft)."""
        address = _address_of(
            self.query_one("#address", PickField).value,
            self.query_one("#address_detail", Input).value.strip(),
        )
        category = self.query_one("#category", PickField).value
        return {
            "appeal_type": str(self.query_one("#appeal_type", ChoiceBar).value),
            "urgency": str(self.query_one("#urgency", ChoiceBar).value),
            "gender": str(self.query_one("#gender", ChoiceBar).value),
            "caller_phone": self.query_one("#caller_phone", Input).value.strip(),
            "caller_name": self.query_one("#caller_name", Input).value.strip(),
            "confidential": self.query_one("#confidential", Checkbox).value,
            "anonymous": self.query_one("#anonymous", Checkbox).value,
            "category": category.code if category else "",
            "address": {
                "county": address.county,
                "township": address.township,
                "village": address.village,
                "road": address.road,
                "detail": address.detail,
            },
            "content": self.query_one("#content", TextArea).text.strip(),
            **({"related_to": self._related_to} if self._related_to else {}),
        }

    def _draft(self) -> dict[str, Any]:
        body = self._body()
        body["_address_pick"] = self.query_one("#address", PickField).input.value
        body["_address_detail"] = self.query_one("#address_detail", Input).value
        dept = self.query_one("#department", PickField).value
        body["_department"] = dept.code if dept else ""
        return body

    def _validate(self) -> dict[str, Any] | None:
        """The create body, or None after showing every error beside its field."""
        body = self._body()
        for name in FIELDS:
            self._error(name, "")
        try:
            a = body["address"]
            intake = validate_intake(
                Intake(
                    appeal_type=AppealType(body["appeal_type"]),
                    content=body["content"],
                    urgency=Urgency(body["urgency"]),
                    caller_phone=body["caller_phone"],
                    caller_name=body["caller_name"],
                    gender=Gender(body["gender"]),
                    confidential=body["confidential"],
                    anonymous=body["anonymous"],
                    category=body["category"],
                    address=Address(
                        a["county"], a["township"], a["village"], a["road"], a["detail"]
                    ),
                )
            )
        except ValidationFailed as exc:
            for e in exc.errors:
                self._error(e.field, either(e.message, e.message_en))
            first = exc.errors[0].field
            target = {"caller_name": "#caller_name", "address": "#address-input"}.get(
                first, f"#{first}"
            )
            self.query(target).first().focus()
            return None
        body["caller_phone"] = intake.caller_phone
        body["registered_at"] = self._now().isoformat()
        return body

    def _error(self, name: str, message: str) -> None:
        for node in self.query(f"#{name}-error"):
            assert isinstance(node, Static)
            node.update(message)
            node.set_class(bool(message), "-shown")

    # -- reacting to the form ------------------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    @on(ChoiceBar.Changed)
    @on(PickField.Picked)
    def _changed(self, event: Any) -> None:
        if self.seat is not None and getattr(self, "_restoring", False) is False:
            self.seat.save_draft(DRAFT_ID, self._draft())
        control = getattr(event, "control", None)
        control_id = getattr(control, "id", "")
        if control_id == "caller_phone":
            self._lookup_history(event.value)
        if control_id in ("category", "urgency"):
            self._route()
        if control_id in ("category", "address"):
            self._find_related()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.control.id in ("caller_phone", "caller_name", "address_detail"):
            event.stop()
            self.focus_next()

    def _route(self) -> None:
        category = self.query_one("#category", PickField).value
        info = self.query_one("#route-info", Static)
        self._co_departments = []
        if category is None:
            info.update("")
            return
        urgency = self.query_one("#urgency", ChoiceBar).value
        try:
            route = self.ctx.router.route(category.code, urgency)
        except DomainError as exc:
            info.update(either(exc.message, exc.message_en))
            return
        span = DEFAULT_POLICY.handling_limit(route.deadline_class, urgency)
        now = self._now()
        deadline = self.ctx.calendar.deadline(now, span)
        department = route.department
        if department is not None:
            self.query_one("#department", PickField).pick(department_hit(department))
        name = department.short_name if department else t("（未配置）")
        self._co_departments = [d.code for d in route.co_departments]
        co = t("、").join(d.short_name for d in route.co_departments)
        when = (describe_en if english() else describe)(deadline, now, self.ctx.calendar)
        info.update(
            t("默认主办：{name}", name=name)
            + (t(" · 协办：{co}", co=co) if co else "")
            + t(" · 办理期限：{deadline}", deadline=when)
        )

    @work(exclusive=True, group="caller-history", exit_on_error=False)
    async def _lookup_history(self, raw: str) -> None:
        table = self.query_one("#history", DataTable)
        warning = self.query_one("#history-warning", Static)
        try:
            phone = normalize_phone(raw)
        except ValueError:
            table.clear()
            self._history = []
            warning.update("")
            self.refresh_bindings()
            return
        if self.seat is None:
            return
        async for answer in self.seat.caller_history(phone):
            self._show_history(answer.value)

    def _show_history(self, cases: list[CachedCase]) -> None:
        table = self.query_one("#history", DataTable)
        selected = self._selected_history()
        table.clear()
        self._history = list(cases)
        open_count = 0
        for cached in cases:
            c = cached.case
            is_open = not is_finished(c.status)
            open_count += is_open
            style = "bold yellow" if is_open else ""
            number = number_of(c)
            urged = t("·催办{count}", count=c.urges) if c.urges else ""
            table.add_row(
                f"[{style}]{number}[/]" if style else number,
                local(c.registered_at),
                leader_mark(c) + t(c.status.label) + urged,
                short(c.content, 18),
                key=cached.uuid,
            )
        # The cursor stays on its case; else it goes to the newest open one (what a repeat
        # call is most likely about: F7 urges it).
        keep = selected.uuid if selected else ""
        at = next((i for i, c in enumerate(cases) if c.uuid == keep), None)
        if at is None:
            at = next((i for i, c in enumerate(cases) if c.case.status in OPEN_STATUSES), 0)
        if cases:
            table.move_cursor(row=at)
        if len(cases) >= 2:
            text = t(
                "[b]重复来电[/b]：共 {count} 件，其中未办结 {open} 件",
                count=len(cases),
                open=open_count,
            )
        elif cases:
            text = t("曾来电 1 次（未办结 {open} 件）", open=open_count)
        else:
            text = t("首次来电")
        if any(c.case.status in OPEN_STATUSES for c in cases):
            text += "\n" + t("F7 催办 · F8 补充（所选工单）")
        self.query_one("#history-warning", Static).update(text)
        self.refresh_bindings()  # F7/F8 are shown while there is a case to urge

    def _selected_history(self) -> CachedCase | None:
        """The case under the history pane's cursor."""
        table = self.query_one("#history", DataTable)
        if not self._history or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), len(self._history) - 1)
        return self._history[row]

    def action_repeat_call(self, kind: str) -> None:
        """F7 催办 / F8 补充: a repeat call about the case selected in the caller's history."""
        from agent_tui.screens.case_detail import repeat_call

        cached = self._selected_history()
        if cached is None or self.seat is None:
            self.notify(t("来电历史中没有工单：先输入来电号码"), severity="warning")
            return
        fresh = self.seat.case(cached.uuid) or cached
        repeat_call(self, self.seat, self.ctx, fresh, Step(kind), self._now())

    # -- related cases -------------------------------------------------------------------------

    @work(exclusive=True, group="related", exit_on_error=False)
    async def _find_related(self) -> None:
        """Open cases of the same category at the same village or road: this seat's cache at
        once (offline too), then the server's answer over the whole centre."""
        if self.seat is None:
            return
        body = self._body()
        category, address = body["category"], body["address"]
        if not (category and address["county"] and (address["village"] or address["road"])):
            self._show_related([])
            return
        now = self._now()
        settings = getattr(self.app, "settings", None)
        window = timedelta(days=settings.related_window_days if settings else 7)
        place = Address(
            county=address["county"],
            township=address["township"],
            village=address["village"],
            road=address["road"],
        )
        async for answer in self.seat.related(category, place, now, window):
            self._show_related(answer.value)

    def _show_related(self, cases: list[CachedCase]) -> None:
        self._related = cases
        box = self.query_one("#related-box")
        box.display = bool(cases) or bool(self._related_to)
        lines = []
        for cached in cases[:5]:
            c = cached.case
            mark = "✔" if group_of(c.uuid, c.related_to) == self._related_to else "·"
            department = self.ctx.reference.department(c.department)
            lines.append(
                f"{mark} {number_of(c)} {t(c.status.label)}"
                + (f" · {department.short_name}" if department else "")
                + f" · {short(c.content, 18)}"
            )
        if self._related_to:
            lines.append(t("[b]已关联[/b]：本件将与之一并办理（Ctrl+L 切换或取消）"))
        elif cases:
            lines.append(t("Ctrl+L 关联第一件"))
        self.query_one("#related", Static).update("\n".join(lines))
        self.refresh_bindings()  # Ctrl+L is shown while there is something to link

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "link":
            return bool(self._related)
        if action == "repeat_call":
            return bool(self._history)
        return True

    def action_link(self) -> None:
        """Link to the next candidate's group (first, second, ... then none)."""
        groups = list(dict.fromkeys(group_of(c.uuid, c.case.related_to) for c in self._related))
        at = groups.index(self._related_to) + 1 if self._related_to in groups else 0
        self._related_to = groups[at] if at < len(groups) else ""
        linked = next(
            (c for c in self._related if group_of(c.uuid, c.case.related_to) == self._related_to),
            None,
        )
        department = self.ctx.reference.department(linked.case.department) if linked else None
        if department is not None:  # handled together: by the department that has the group
            self.query_one("#department", PickField).pick(department_hit(department))
        self._show_related(self._related)
        if self.seat is not None:
            self.seat.save_draft(DRAFT_ID, self._draft())

    # -- drafts --------------------------------------------------------------------------------

    def _restore_draft(self) -> None:
        if self.seat is None:
            return
        drafts = {d: body for d, body, _ in self.seat.drafts_saved()}
        body = drafts.get(DRAFT_ID)
        if not body:
            return
        self._restoring = True
        try:
            self.query_one("#caller_phone", Input).value = body.get("caller_phone", "")
            self.query_one("#caller_name", Input).value = body.get("caller_name", "")
            self.query_one("#confidential", Checkbox).value = bool(body.get("confidential"))
            self.query_one("#anonymous", Checkbox).value = bool(body.get("anonymous"))
            self.query_one("#appeal_type", ChoiceBar).value = AppealType(
                body.get("appeal_type", "complaint")
            )
            self.query_one("#urgency", ChoiceBar).value = Urgency(body.get("urgency", "normal"))
            self.query_one("#gender", ChoiceBar).value = Gender(body.get("gender", "unknown"))
            code = body.get("category", "")
            category = self.ctx.reference.category(code) if code else None
            if category is not None:
                self.query_one("#category", PickField).pick(
                    Hit(category.name, category.code, category)
                )
            self.query_one("#content", TextArea).text = body.get("content", "")
            self.query_one("#address_detail", Input).value = body.get("_address_detail", "")
            pick = body.get("_address_pick", "")
            if pick:
                hits = _address_hits(self.ctx.addresses, pick)
                if hits and hits[0].label == pick:
                    self.query_one("#address", PickField).pick(hits[0])
            dept = self.ctx.reference.department(body.get("_department", ""))
            if dept is not None:
                self.query_one("#department", PickField).pick(department_hit(dept))
            self._related_to = str(body.get("related_to", ""))
        finally:
            self.call_after_refresh(setattr, self, "_restoring", False)
        self.notify(t("已恢复上次未保存的草稿"), title=t("草稿"))

    # -- actions -------------------------------------------------------------------------------

    def _save(self, then: Step | None = None, params: dict[str, Any] | None = None) -> str | None:
        """Into the seat's outbox (and the step that follows at once); the case's uuid."""
        body = self._validate()
        if body is None:
            return None
        if self.seat is None:
            self.notify(t("未连接坐席（资料查询模式）：无法保存"), severity="error")
            return None
        request = wire.CaseCreate.model_validate({**body, "uuid": str(uuid_mod.uuid4())})
        follow = (then, params or {}) if then is not None else None
        return self.seat.register(request, draft_id=DRAFT_ID, then=follow)

    def action_save(self) -> None:
        if self._save() is not None:
            self.notify(t("已受理（待发送到中心库）"), title=t("保存"))
            self._clear()

    def action_dispatch(self) -> None:
        department = self.query_one("#department", PickField).value
        if department is None:
            self._error("department", t("请选择主办单位（或先选分类自动带出）"))
            self.query_one("#department-input", Input).focus()
            return
        self._error("department", "")
        co = [c for c in self._co_departments if c != department.code]
        params = {"department": department.code, "co_departments": co}
        if self._save(Step.DISPATCH, params) is not None:
            self.notify(t("已受理并派往 {name}", name=department.short_name), title=t("派单"))
            self._clear()

    def action_resolve(self) -> None:
        from agent_tui.screens.knowledge import AnswerScreen

        if self._validate() is None:
            return

        def done(answer: str | None) -> None:
            if answer and self._save(Step.RESOLVE, {"result": answer}) is not None:
                self.notify(t("已直接办结"), title=t("办结"))
                self._clear()

        self.app.push_screen(AnswerScreen(), done)

    def action_clear(self) -> None:
        self._clear()
        if self.seat is not None:
            self.seat.discard_draft(DRAFT_ID)

    def _clear(self) -> None:
        self._restoring = True
        for input_ in self.query(Input):
            input_.value = ""
        self.query_one("#content", TextArea).text = ""
        for box in self.query(Checkbox):
            box.value = False
        for picker in self.query(PickField):
            picker.pick(None)
        self.query_one("#appeal_type", ChoiceBar).value = AppealType.COMPLAINT
        self.query_one("#urgency", ChoiceBar).value = Urgency.NORMAL
        self.query_one("#gender", ChoiceBar).value = Gender.UNKNOWN
        self.query_one("#route-info", Static).update("")
        self.query_one("#history", DataTable).clear()
        self._history = []
        self.query_one("#history-warning", Static).update("")
        self._related_to = ""
        self._show_related([])
        for name in (*FIELDS, "department"):
            self._error(name, "")
        self.query_one("#caller_phone", Input).focus()
        self.call_after_refresh(setattr, self, "_restoring", False)
