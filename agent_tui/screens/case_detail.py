"""Case detail (工单详情): every field, the event timeline, and the steps this user may take.

The steps come from the domain state machine for this user's role and are bound to 1–9. A
step opens a small form (reason, result, department, date, rating) and goes to the outbox:
it never waits on the network. A conflict the server answered is shown with both versions:
Ctrl+Y sends the step again on the server's version, Ctrl+D drops it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from agent_tui import wire
from agent_tui.client.api import ApiError
from agent_tui.client.seat import Seat
from agent_tui.client.store import OutboxEntry
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.case import AppealType, Case, Role, Satisfaction, Status
from agent_tui.domain.lifecycle import Step, available_steps
from agent_tui.domain.related import group_of
from agent_tui.i18n import N_, t
from agent_tui.screens.entry import EntryContext
from agent_tui.screens.step_form import NOT_ASKED, StepForm
from agent_tui.widgets.case_table import local, number_of, short, status_of
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.timeline import Timeline, TimelineEvent

#: Steps the system takes on its own (clock jobs), never offered at a seat.
NOT_AT_SEAT = frozenset({Step.REGISTER, Step.NOTICE, Step.PUBLIC_NOTICE})
MAX_STEP_KEYS = 9


def steps_for(body: dict[str, Any], role: Role, department: str) -> list[Step]:
    """The steps ``role`` may take on the case now (the domain decides, not the screen)."""
    satisfaction = body.get("satisfaction")
    case = Case(
        uuid=str(body.get("uuid", "")),
        appeal_type=AppealType(body.get("appeal_type") or AppealType.COMPLAINT),
        content=str(body.get("content", "")),
        status=status_of(body),
        department=str(body.get("department", "")),
        satisfaction=Satisfaction(satisfaction) if satisfaction else None,
    )
    steps = [s for s in available_steps(case, role, department) if s not in NOT_AT_SEAT]
    return steps[:MAX_STEP_KEYS]


def needs_form(step: Step) -> bool:
    """Whether the step's request body has fields to ask for (a reason, a department ...)."""
    body = wire.STEP_BODIES.get(step, wire.StepBody)
    return any(f not in NOT_ASKED for f in body.model_fields)


@dataclass(frozen=True, slots=True)
class Action:
    """What one digit does: ``steps`` queued at once, in order (chained on each other's
    versions by the outbox), then ``form``'s step with the fields its form asks for."""

    label: str
    steps: tuple[tuple[Step, dict[str, Any]], ...] = ()
    form: Step | None = None
    #: Back to the queue afterwards: the callback queue's rhythm is one key per call.
    closes: bool = False


def _rated(satisfaction: Satisfaction, reached: bool) -> tuple[tuple[Step, dict[str, Any]], ...]:
    called = ((Step.CALLBACK, {"reached": True}),) if reached else ()
    return (*called, (Step.RATE, {"satisfaction": str(satisfaction)}))


def _callback_actions(reached: bool) -> list[Action]:
    """回访: one key per outcome. Satisfied and basically satisfied archive the case;
    dissatisfied reopens it to the same department (a reason is asked); unreachable counts a
    try (the server closes the case after the configured number of tries)."""
    archive: tuple[tuple[Step, dict[str, Any]], ...] = ((Step.ARCHIVE, {}),)
    actions = [
        Action(N_("满意"), (*_rated(Satisfaction.SATISFIED, reached), *archive), closes=True),
        Action(N_("基本满意"), (*_rated(Satisfaction.BASIC, reached), *archive), closes=True),
        Action(
            N_("不满意，重办"),
            _rated(Satisfaction.DISSATISFIED, reached),
            form=Step.REOPEN,
            closes=True,
        ),
    ]
    if reached:
        actions.append(Action(N_("未接通"), ((Step.CALLBACK, {"reached": False}),), closes=True))
    return actions


def actions_for(body: dict[str, Any], steps: list[Step]) -> list[Action]:
    """The keys 1–9 of the case screen: the domain's steps, with the callback outcomes and
    "approve the return and dispatch again" as single actions."""
    status = status_of(body)
    if status is Status.CALLBACK_PENDING and Step.CALLBACK in steps:
        return _callback_actions(reached=True)
    if status is Status.CALLED_BACK and Step.RATE in steps:
        return _callback_actions(reached=False)
    actions = [
        Action(step.label, form=step) if needs_form(step) else Action(step.label, ((step, {}),))
        for step in steps
    ]
    if Step.APPROVE_RETURN in steps:
        actions.append(
            Action(N_("同意退单并改派"), ((Step.APPROVE_RETURN, {}),), form=Step.DISPATCH)
        )
    return actions[:MAX_STEP_KEYS]


class CaseScreen(Screen[None]):
    HELP_TITLE = N_("工单详情")

    BINDINGS = [
        Binding("escape", "close", "返回", tooltip="回到上一屏", id="case.close"),
        Binding(
            "1", "step(1)", "办理步骤", tooltip="1–9：按编号办理右侧列出的步骤", id="case.step"
        ),
        *(Binding(str(n), f"step({n})", show=False, id=f"case.step{n}") for n in range(2, 10)),
        Binding(
            "pagedown",
            "page(1)",
            "翻页",
            tooltip="工单内容与办理过程：PgDn/PgUp 翻页，↑↓ 逐行，Home/End 到头/尾",
            show=False,
            id="case.page",
        ),
        Binding("pageup", "page(-1)", show=False, id="case.page_up"),
        Binding("ctrl+r", "reload", "刷新", tooltip="从中心库重新读取", id="case.reload"),
        Binding(
            "ctrl+y",
            "reapply",
            "重新提交",
            tooltip="冲突：按中心库最新版本重新提交",
            id="case.reapply",
        ),
        Binding(
            "ctrl+d", "discard", "放弃操作", tooltip="冲突：放弃本机的这次操作", id="case.discard"
        ),
        Binding(
            "ctrl+l",
            "together",
            "一并办理",
            tooltip="关联工单：同状态的是否随本件一并办理（开/关）",
            id="case.together",
        ),
    ]

    def __init__(
        self, seat: Seat, reference: ReferenceData, ctx: EntryContext, case_uuid: str
    ) -> None:
        super().__init__()
        self.seat = seat
        self.reference = reference
        self.ctx = ctx
        self.case_uuid = case_uuid
        self.body: dict[str, Any] = {}
        self.pending = False
        self.steps: list[Step] = []
        self.actions: list[Action] = []
        self.events: list[dict[str, Any]] | None = None
        self._events_version = -1  # the case version the timeline was read at
        #: The other cases of its related group (关联工单), and whether steps go to them too.
        self.related: list[dict[str, Any]] = []
        self.together = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="case"):
            with VerticalScroll(id="case-main"):
                yield Static("", id="case-fields")
                yield Label(t("办理过程"), classes="section-title")
                yield Timeline(id="case-timeline")
            with Vertical(id="case-side"):
                yield Label(t("可办理（数字键）"), classes="section-title")
                yield Static("", id="case-steps")
                yield Static("", id="case-related")
                yield Static("", id="case-conflict")
                yield Static("", id="case-status", classes="hint")
        yield SeatBar(self.seat)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#case-main", VerticalScroll).focus()  # the keys scroll the case
        self.refresh_case()

    # -- data ----------------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        user = self.seat.user
        return user.role if user else Role.AGENT

    def _held(self) -> list[OutboxEntry]:
        return [e for e in self.seat.store.held() if e.case_uuid == self.case_uuid]

    def refresh_case(self) -> None:
        """Show what the seat store holds now (called again when the feed brings a change)."""
        cached = self.seat.store.case(self.case_uuid)
        if cached is None:
            self.query_one("#case-fields", Static).update(t("本机没有这个工单"))
            return
        self.body, self.pending = cached
        user = self.seat.user
        self.steps = steps_for(self.body, self.role, user.department if user else "")
        self.actions = actions_for(self.body, self.steps)
        self.title = t("工单 {number}", number=number_of(self.body))
        group = group_of(self.case_uuid, str(self.body.get("related_to") or ""))
        self.related = [b for b, _ in self.seat.store.group(group) if b["uuid"] != self.case_uuid]
        self._show_fields()
        self._show_steps()
        self._show_related()
        self._show_conflict()
        self._show_timeline()
        self.refresh_bindings()
        if self._events_version != self.body.get("version") and self.body.get("number"):
            self.action_reload()  # the feed brought a newer version: read its timeline

    @work(exclusive=True, group="case-fetch", exit_on_error=False)
    async def action_reload(self) -> None:
        if not self.body.get("number"):
            return  # not on the server yet
        try:
            case = await self.seat.api.get_case(self.case_uuid)
        except ApiError as exc:
            self.query_one("#case-status", Static).update(
                t("显示本机缓存，办理过程需联网读取（{error}）", error=exc.message)
            )
            return
        self.seat.store.put_cases([case])
        with contextlib.suppress(ApiError):  # the group as the server has it (other seats')
            group = await self.seat.api.list_cases(
                related_to=group_of(case.uuid, case.related_to), limit=50
            )
            self.seat.store.put_cases(group.items)
        self.events = [e.model_dump(mode="json") for e in case.events or []]
        self._events_version = case.version
        self.query_one("#case-status", Static).update("")
        self.refresh_case()

    # -- showing it ----------------------------------------------------------------------------

    def _label_of(self, code: str, kind: str) -> str:
        if kind == "category":
            c = self.reference.category(code)
            return t("{name}（{code}）", name=c.name, code=c.code) if c else code
        return self.reference.department_label(code)

    def _show_fields(self) -> None:
        b = self.body
        a = b.get("address") or {}
        place = " ".join(
            str(a[k]) for k in ("county", "township", "village", "road", "detail") if a.get(k)
        )
        caller = (
            t("（保密，已隐藏）")
            if b.get("masked")
            else (f"{b.get('caller_name') or t('（未留姓名）')} {b.get('caller_phone', '')}")
        )
        flags = t("、").join(
            t(label)
            for key, label in (("confidential", N_("保密")), ("anonymous", N_("匿名")))
            if b.get(key)
        )
        co = t("、").join(self._label_of(c, "department") for c in b.get("co_departments") or [])
        status = t(status_of(b).label) + (t("（本机操作待发送）") if self.pending else "")
        appeal = AppealType(b.get("appeal_type") or AppealType.COMPLAINT)
        satisfaction = Satisfaction(b["satisfaction"]) if b.get("satisfaction") else None
        rows = [
            (N_("工单号"), number_of(b)),
            (N_("状态"), status),
            (N_("版本"), str(b.get("version", 0))),
            (N_("受理"), f"{local(b.get('registered_at'))} {b.get('agent', '')}"),
            (N_("来电人"), caller + (t("（{flags}）", flags=flags) if flags else "")),
            (N_("诉求类型"), t(appeal.label)),
            (N_("分类"), self._label_of(str(b.get("category", "")), "category")),
            (N_("地点"), place),
            (N_("主办单位"), self._label_of(str(b.get("department", "")), "department")),
            (N_("协办单位"), co),
            (N_("签收期限"), local(b.get("sign_deadline"))),
            (N_("办理期限"), local(b.get("handling_deadline"))),
            (N_("答复"), str(b.get("result") or "")),
            (N_("不予受理理由"), str(b.get("refusal_reason") or "")),
            (N_("满意度"), t(satisfaction.label) if satisfaction else ""),
            (N_("诉求内容"), str(b.get("content", ""))),
        ]
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        # Folded, not cut: 汉字 have no spaces to wrap at, and Rich cuts a word wider than the
        # line with "…" unless told to fold it (the reply ended in "…" after one line).
        grid.add_column(overflow="fold")
        for label, value in rows:
            if value:
                grid.add_row(t(label), value)
        self.query_one("#case-fields", Static).update(grid)

    def _show_steps(self) -> None:
        if not self.actions:
            text = t("（当前状态下本角色无可办理步骤）")
        else:
            text = "\n".join(f"[b]{i}[/b]  {t(a.label)}" for i, a in enumerate(self.actions, 1))
        self.query_one("#case-steps", Static).update(text)

    def _together(self, action: Action | None = None) -> list[dict[str, Any]]:
        """The related cases a step on this one is also taken on: those in the same state
        where the domain allows the same step to this user."""
        if not self.related:
            return []
        status = status_of(self.body)
        user = self.seat.user
        department = user.department if user else ""
        first = action.steps[0][0] if action and action.steps else (action.form if action else None)
        return [
            b
            for b in self.related
            if status_of(b) is status
            and (first is None or first in steps_for(b, self.role, department))
        ]

    def _show_related(self) -> None:
        panel = self.query_one("#case-related", Static)
        panel.display = bool(self.related)
        if not self.related:
            return
        lines = [t("[b]关联工单[/b] {count} 件", count=len(self.related))]
        for b in self.related[:6]:
            lines.append(f"· {number_of(b)} {t(status_of(b).label)} {short(b.get('content'), 14)}")
        same = len(self._together())
        if same:
            state = t("一并办理") if self.together else t("不一并办理")
            lines.append(t("同状态 {count} 件：{state}（Ctrl+L 切换）", count=same, state=state))
        panel.update("\n".join(lines))

    def action_together(self) -> None:
        self.together = not self.together
        self._show_related()

    def _show_conflict(self) -> None:
        panel = self.query_one("#case-conflict", Static)
        held = self._held()
        panel.set_class(bool(held), "-shown")
        if not held:
            panel.update("")
            return
        entry = held[0]
        server = entry.server_case
        mine = t(Step(entry.step).label if entry.step else Step.REGISTER.label)
        lines = [
            t("[b red]与中心库冲突[/]")
            if entry.state == "conflict"
            else t("[b red]中心库拒绝了这一步[/]"),
            t(
                "本机：{step}（基于第 {version} 版）",
                step=mine,
                version=entry.body.get("version", "?"),
            ),
        ]
        if server is not None:
            lines += [
                t(
                    "中心库：第 {version} 版 · {status} · 主办 {department}",
                    version=server.version,
                    status=t(server.status.label),
                    department=self._label_of(server.department, "department") or "—",
                ),
                t("更新于 {at}", at=local(server.updated_at.isoformat())),
            ]
        if entry.last_error:
            lines.append(t("原因：{error}", error=entry.last_error))
        lines.append(t("Ctrl+Y 按最新版本重新提交 · Ctrl+D 放弃本机操作"))
        panel.update("\n".join(lines))

    def _show_timeline(self) -> None:
        events = []
        for e in self.events or []:
            source = t(Status(e["from_status"]).label) if e.get("from_status") else ""
            target = t(Status(e["to_status"]).label)
            events.append(
                TimelineEvent(
                    local(e.get("at")),
                    str(e.get("actor", "")),
                    t(Role(e["role"]).label),
                    t(Step(e["step"]).label),
                    f"{source}→{target}" if source and source != target else target,
                    str(e.get("reason", "")),
                )
            )
        self.query_one("#case-timeline", Timeline).show(events)

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("reapply", "discard"):
            return bool(self._held())
        if action == "together":
            return bool(self._together())
        return True

    def action_close(self) -> None:
        self.dismiss()

    def action_page(self, direction: int) -> None:
        main = self.query_one("#case-main", VerticalScroll)
        main.scroll_page_down() if direction > 0 else main.scroll_page_up()

    def action_step(self, n: int) -> None:
        if n > len(self.actions):
            self.notify(t("没有第 {n} 个步骤", n=n), severity="warning")
            return
        if self._held():
            self.notify(t("请先处理与中心库的冲突（Ctrl+Y 或 Ctrl+D）"), severity="warning")
            return
        action = self.actions[n - 1]
        if action.form is None:
            self._queue(action, None)
            return
        form = action.form

        def done(params: dict[str, Any] | None) -> None:
            if params is not None:
                self._queue(action, (form, params))

        self.app.push_screen(StepForm(form, self.body, self.ctx, self._now()), done)

    def _queue(self, action: Action, last: tuple[Step, dict[str, Any]] | None) -> None:
        """Into the outbox, in order: the first on the version shown, the rest chained."""
        steps = (*action.steps, *([last] if last else []))
        others = self._together(action) if self.together else []
        for body in (self.body, *others):
            version = int(body.get("version", 0) or 1)
            for step, params in steps:
                self.seat.queue_step(str(body["uuid"]), str(step), params, version)
        self.notify(
            t("{step}：已提交（待发送到中心库）", step=t(action.label))
            + (t("，关联工单 {count} 件一并办理", count=len(others)) if others else ""),
            title=number_of(self.body),
        )
        if action.closes:
            self.dismiss()
        else:
            self.refresh_case()

    def _now(self) -> datetime:
        now: datetime = self.app.clock()  # type: ignore[attr-defined]
        return now

    def action_reapply(self) -> None:
        for entry in self._held():
            server = entry.server_case
            if server is None:
                continue
            self.seat.store.reapply(entry.id, server.version)
            self.seat.sync.kick()
            self.notify(t("已按中心库最新版本重新提交"), title=number_of(self.body))
        self.refresh_case()

    def action_discard(self) -> None:
        for entry in self._held():
            self.seat.store.discard(entry.id)
        self.notify(t("已放弃本机操作，以中心库为准"), title=number_of(self.body))
        self.refresh_case()
