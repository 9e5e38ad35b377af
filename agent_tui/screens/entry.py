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

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Static, TextArea

from agent_tui import wire
from agent_tui.client.model import CachedCase
from agent_tui.client.seat import Seat
from agent_tui.data.reference import ReferenceData, county_rules_from_json
from agent_tui.domain.address import (
    UNMATCHED_MARK,
    AddressEntry,
    AddressIndex,
    AddressLevel,
    UnmatchedAddress,
)
from agent_tui.domain.calendar import WorkCalendar
from agent_tui.domain.case import (
    CONTENT_MAX,
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
from agent_tui.domain.errors import DomainError, FieldError, ValidationFailed
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
from agent_tui.widgets.hits import (
    address_hits,
    category_hits,
    department_hit,
    department_hits,
    unmatched_hit,
)
from agent_tui.widgets.pick import PickField
from agent_tui.widgets.search_list import Hit
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.seat_events import SeatCasesChanged, follow_seat

DRAFT_ID = "entry"
#: The toast after a save stays long enough to read the number to the caller.
SAVED_TOAST_SECONDS = 20.0
FIELDS = ("caller_phone", "caller_name", "anonymous", "category", "address", "content")
#: Fields in the order of the form (the first error gets the focus), with their names for
#: the summary line at the top.
_FIELD_ORDER = (*FIELDS, "department")
_FIELD_LABELS = {
    "caller_phone": N_("来电号码"),
    "caller_name": N_("姓名"),
    "anonymous": N_("匿名"),
    "category": N_("诉求分类"),
    "address": N_("发生地点"),
    "content": N_("诉求内容"),
    "department": N_("主办单位"),
}


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


def _address_of(entry: AddressEntry | UnmatchedAddress | None, detail: str) -> Address:
    if entry is None:
        return Address(detail=detail)
    if isinstance(entry, UnmatchedAddress):
        # Kept as typed, marked: the department sees that nobody matched it to the book.
        return Address(
            county=entry.county,
            township=entry.township,
            detail=" ".join(p for p in (entry.detail, detail) if p),
        )
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
        #: Routing with the county table the store serves (an admin may have edited it), and
        #: the ETag it was built from.
        self._router = ctx.router
        self._router_etag = ""
        #: Errors are on show (after a refused save): every change counts them again.
        self._errors_shown = False
        #: Set by F9: the department is a blocking field too.
        self._dispatching = False

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="entry"):
            with VerticalScroll(id="entry-form"):
                # Order = the call: who (the number, and the caller's name when given), what
                # kind, what about, where, what. Enter on the number goes on to the appeal
                # type (the identity fields are optional: Tab visits them); digits pick in the
                # choices.
                # How many blocking errors remain (shown after a save or dispatch is refused).
                yield Static("", id="entry-summary", classes="field-error")
                with Horizontal(classes="row", id="caller-row"):
                    yield from self._field(
                        t("来电号码"),
                        Input(id="caller_phone", placeholder=t("手机或带区号固话")),
                        error=False,
                    )
                    yield from self._field(
                        t("姓名"), Input(id="caller_name", placeholder=t("可不填")), error=False
                    )
                    with Vertical(classes="cell", id="gender-cell"):
                        yield Label(t("性别"), classes="field-label")
                        yield ChoiceBar(
                            [(g, t(g.label)) for g in (Gender.UNKNOWN, Gender.MALE, Gender.FEMALE)],
                            id="gender",
                        )
                with Horizontal(classes="row", id="caller-flags"):
                    yield Checkbox(t("保密（对承办单位隐藏身份）"), id="confidential")
                    yield Checkbox(t("匿名"), id="anonymous")
                # The row's errors below it, full width: a cell is too narrow for them.
                yield Static("", id="caller_phone-error", classes="field-error")
                yield Static("", id="caller_name-error", classes="field-error")
                yield Static("", id="anonymous-error", classes="field-error")
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
                        placeholder=t("县区+地名（泌阳 王庄、by wz）、道路（jsl → 金山路）"),
                        id="address",
                        empty=t("无匹配地址（回车：按所填文字记为未匹配地址）"),
                        free_text=lambda text: unmatched_hit(self.ctx.addresses, text),
                    ),
                )
                yield Input(id="address_detail", placeholder=t("详细位置（如 北侧 50 米、门牌号）"))
                yield from self._field(
                    t("诉求内容"), TextArea(id="content", tab_behavior="focus", soft_wrap=True)
                )
                yield Static(self._count_text(0), id="content-count", classes="hint")
                yield from self._field(
                    t("主办单位"),
                    PickField(
                        self._department_hits, placeholder=t("默认按分类派单"), id="department"
                    ),
                )
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

    def _field(self, label: str, widget: Any, *, error: bool = True) -> ComposeResult:
        with Vertical(classes="cell", id=f"{widget.id}-cell"):
            yield Label(label, classes="field-label")
            yield widget
            if error:
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

    def _count_text(self, n: int) -> str:
        return t("{n}/{limit} 字", n=n, limit=CONTENT_MAX)

    def _problems(self) -> list[FieldError]:
        """Every blocking error of the form as it stands (nothing shown, nothing focused)."""
        try:
            self._intake(self._body())
        except ValidationFailed as exc:
            errors = list(exc.errors)
        else:
            errors = []
        picker = self.query_one("#category", PickField)
        typed = picker.input.value.strip()
        if picker.value is None and typed:
            # Text that matched no category: say so on the field, not "please pick one".
            errors = [e for e in errors if e.field != "category"]
            message = t("没有名为“{name}”的分类：请从列表中选择", name=typed)
            errors.append(FieldError("category", "unknown", message, message))
        return sorted(errors, key=lambda e: _FIELD_ORDER.index(e.field))

    def _show_problems(self, errors: list[FieldError], *, focus: bool) -> None:
        """Each error beside its field, the count at the top; the first gets the focus."""
        for name in (*FIELDS, "department"):
            self._error(name, "")
        for e in errors:
            self._error(e.field, either(e.message, e.message_en))
        self._errors_shown = bool(errors)
        summary = self.query_one("#entry-summary", Static)
        if errors:
            names = t("、").join(dict.fromkeys(t(_FIELD_LABELS[e.field]) for e in errors))
            summary.update(t("还有 {n} 处需要修改：{fields}", n=len(errors), fields=names))
        else:
            summary.update("")
        summary.set_class(bool(errors), "-shown")
        if errors and focus:
            first = errors[0].field
            target = {
                "address": "#address-input",
                "category": "#category-input",
                "department": "#department-input",
            }.get(first, f"#{first}")
            widget = self.query(target).first()
            widget.focus()
            widget.scroll_visible()

    def _department_problem(self) -> list[FieldError]:
        if not self._dispatching or self.query_one("#department", PickField).value is not None:
            return []
        message = t("请选择主办单位（或先选分类自动带出）")
        return [FieldError("department", "required", message, message)]

    def _recount(self) -> None:
        if self._errors_shown:
            self._show_problems([*self._problems(), *self._department_problem()], focus=False)

    def _intake(self, body: dict[str, Any]) -> Intake:
        a = body["address"]
        return validate_intake(
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
                address=Address(a["county"], a["township"], a["village"], a["road"], a["detail"]),
            )
        )

    def _validate(self, *extra: FieldError) -> dict[str, Any] | None:
        """The create body, or None after showing every error beside its field."""
        errors = sorted([*self._problems(), *extra], key=lambda e: _FIELD_ORDER.index(e.field))
        if errors:
            self._show_problems(errors, focus=True)
            return None
        self._show_problems([], focus=False)
        body = self._body()
        intake = self._intake(body)
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
        if control_id == "content":
            n = len(self.query_one("#content", TextArea).text.strip())
            count = self.query_one("#content-count", Static)
            count.update(self._count_text(n))
            count.set_class(n > CONTENT_MAX, "-over")
        if self._errors_shown and getattr(self, "_restoring", False) is False:
            # How many remain, as the agent fixes them (no focus moves while typing).
            self.call_after_refresh(self._recount)
        if control_id == "caller_phone":
            self._lookup_history(event.value)
        if control_id in ("category", "urgency", "address"):
            self._route()
        if control_id in ("category", "address"):
            self._find_related()

    def on_key(self, event: events.Key) -> None:
        # Tab on the appeal type keeps it and the default urgency and goes on to the category:
        # digits typed next (a category code) belong there, not to 紧急程度. Enter, a digit or
        # Shift+Tab from the category still reach the urgency.
        if event.key == "tab" and self.focused is self.query_one("#appeal_type", ChoiceBar):
            event.stop()
            event.prevent_default()
            self.query_one("#category-input", Input).focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.control.id == "caller_phone":
            event.stop()
            self.query_one("#appeal_type", ChoiceBar).focus()  # identity: Tab, when given
        elif event.control.id in ("caller_name", "address_detail"):
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
        place = self.query_one("#address", PickField).value
        county, township = "", ""
        if isinstance(place, AddressEntry):
            county = place.county
            township = place.name if place.level is AddressLevel.TOWNSHIP else place.township
        elif isinstance(place, UnmatchedAddress):
            county, township = place.county, place.township
        try:
            route = self._county_router().route(category.code, urgency, county, township)
        except DomainError as exc:
            info.update(either(exc.message, exc.message_en))
            return
        span = DEFAULT_POLICY.handling_limit(route.deadline_class, urgency)
        now = self._now()
        deadline = self.ctx.calendar.deadline(now, span)
        department = route.department
        if department is not None:
            self.query_one("#department", PickField).pick(department_hit(department))
        self._co_departments = [d.code for d in route.co_departments]
        co = t("、").join(d.short_name for d in route.co_departments)
        when = (describe_en if english() else describe)(deadline, now, self.ctx.calendar)
        info.update(
            either(route.reason, route.reason_en)
            + (t(" · 协办：{co}", co=co) if co else "")
            + t(" · 办理期限：{deadline}", deadline=when)
        )

    def _county_router(self) -> Router:
        """The packaged routing, or the one with the county table this seat last fetched from
        the store (rebuilt when its ETag moves; a table the seat cannot read is ignored)."""
        cached = self.seat.reference_set("county_routing") if self.seat is not None else None
        if cached is None:
            return self.ctx.router
        body, etag = cached
        if etag != self._router_etag:
            ref = self.ctx.reference
            try:
                rules = county_rules_from_json(body)
            except ValidationFailed:
                self._router = self.ctx.router
            else:
                self._router = Router(ref.categories, ref.departments, rules, ref.platforms)
            self._router_etag = etag
        return self._router

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
            if pick.endswith(UNMATCHED_MARK):
                kept = unmatched_hit(self.ctx.addresses, pick.removesuffix(UNMATCHED_MARK))
                self.query_one("#address", PickField).pick(kept)
            elif pick:
                hits = _address_hits(self.ctx.addresses, pick)
                found = next((h for h in hits if h.label == pick), None)
                if found is not None:
                    self.query_one("#address", PickField).pick(found)
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

    def _saved(self, case_uuid: str, done: str, title: str) -> None:
        """The toast after a save: what was done, and the case's number to tell the caller
        (given at save from this seat's numbers, online or offline; none left: the central
        store numbers it when the case arrives, and the toast says so)."""
        assert self.seat is not None
        cached = self.seat.case(case_uuid)
        number = cached.case.number if cached is not None else ""
        said = t("编号 {number}", number=number) if number else t("编号待同步后分配")
        self.notify(
            t("{done}，{said}", done=done, said=said),
            title=title,
            severity="information" if number else "warning",
            timeout=SAVED_TOAST_SECONDS,
        )

    def action_save(self) -> None:
        self._dispatching = False
        case_uuid = self._save()
        if case_uuid is not None:
            self._saved(case_uuid, t("已受理"), t("保存"))
            self._clear()

    def action_dispatch(self) -> None:
        # Every blocking error at once, the form's first one focused (not the department
        # alone, far below, while the category is wrong).
        self._dispatching = True
        if self._validate(*self._department_problem()) is None:
            return
        department = self.query_one("#department", PickField).value
        assert department is not None
        co = [c for c in self._co_departments if c != department.code]
        params = {"department": department.code, "co_departments": co}
        case_uuid = self._save(Step.DISPATCH, params)
        if case_uuid is not None:
            self._saved(case_uuid, t("已受理并派往 {name}", name=department.short_name), t("派单"))
            self._clear()

    def action_resolve(self) -> None:
        from agent_tui.screens.knowledge import AnswerScreen

        self._dispatching = False
        if self._validate() is None:
            return

        def done(answer: str | None) -> None:
            case_uuid = self._save(Step.RESOLVE, {"result": answer}) if answer else None
            if case_uuid is not None:
                self._saved(case_uuid, t("已直接办结"), t("办结"))
                self._clear()

        category = self.query_one("#category", PickField).value
        self.app.push_screen(AnswerScreen(category), done)

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
        self._dispatching = False
        self._show_problems([], focus=False)
        self.query_one("#content-count", Static).update(self._count_text(0))
        self.query_one("#caller_phone", Input).focus()
        self.call_after_refresh(setattr, self, "_restoring", False)
