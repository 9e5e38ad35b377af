"""Case detail (工单详情): every field, the event timeline, and the steps this user may take.

The steps come from the domain state machine for this user's role and are bound to 1–9. A
step opens a small form (reason, result, department, date, rating) and goes to the outbox:
it never waits on the network. A conflict the server answered is shown with both versions:
Ctrl+Y sends the step again on the server's version, Ctrl+D drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Label, Static

from agent_tui import wire
from agent_tui.client.model import CachedCase, CaseView, HeldCommand, domain_case
from agent_tui.client.seat import Seat, SeatError, StepRefused
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.case import OPEN_STATUSES, Role, Satisfaction, Status, SupervisionLevel
from agent_tui.domain.lifecycle import (
    INTAKE,
    REPEAT_CALL_STEPS,
    Step,
    available_steps,
    repeat_call_steps,
)
from agent_tui.domain.rules import short_deadline
from agent_tui.i18n import N_, t
from agent_tui.screens.callback_form import CallbackForm
from agent_tui.screens.entry import EntryContext
from agent_tui.screens.step_form import NOT_ASKED, StepForm
from agent_tui.widgets.case_table import local, number_of, short
from agent_tui.widgets.co_opinions import co_opinion_lines
from agent_tui.widgets.footer import SteadyFooter
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.seat_events import SeatCasesChanged, SeatCommandsHeld, follow_seat
from agent_tui.widgets.timeline import Timeline, TimelineEvent
from agent_tui.widgets.times import display_zone

#: Steps the system takes on its own (clock jobs), never offered at a seat; and the repeat
#: calls (催办, 补充), which have keys of their own (F7, F8), not a digit.
NOT_AT_SEAT = frozenset({Step.REGISTER, Step.NOTICE, Step.PUBLIC_NOTICE}) | REPEAT_CALL_STEPS
MAX_STEP_KEYS = 9


def steps_for(case: CaseView, role: Role, department: str) -> list[Step]:
    """The steps ``role`` may take on the case now (the domain decides, not the screen)."""
    steps = [
        s for s in available_steps(domain_case(case), role, department) if s not in NOT_AT_SEAT
    ]
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
    #: A callback outcome: the callback form opens with this satisfaction chosen.
    callback: Satisfaction | None = None
    #: With ``callback``: the call is recorded as reached first (it was not before).
    reached: bool = False


def callback_steps(
    answers: dict[str, Any], reached: bool, can_reopen: bool = True
) -> tuple[tuple[Step, dict[str, Any]], ...]:
    """The steps the callback form's answers are stored as: the reached callback (unless it
    was recorded before), the rating with the answers, then archive — or, dissatisfied,
    reopen with what the citizen said as the reason (a case answered on the call has no
    department to reopen to: it is archived with the answers)."""
    called = ((Step.CALLBACK, {"reached": True}),) if reached else ()
    rate = (Step.RATE, {k: v for k, v in answers.items() if v is not None})
    dissatisfied = Satisfaction(answers["satisfaction"]) is Satisfaction.DISSATISFIED
    if dissatisfied and can_reopen:
        return (*called, rate, (Step.REOPEN, {"reason": answers["note"]}))
    return (*called, rate, (Step.ARCHIVE, {}))


def _callback_actions(reached: bool) -> list[Action]:
    """回访: one key per outcome. 1–3 open the callback form with that satisfaction chosen
    (solved?, satisfaction, what the citizen said; a summary to confirm before anything is
    stored): satisfied and basically satisfied then archive the case, dissatisfied reopens it
    to the same department. Unreachable counts a try (the server closes the case after the
    configured number of tries)."""
    actions = [
        Action(label, callback=s, reached=reached, closes=True)
        for label, s in (
            (N_("满意"), Satisfaction.SATISFIED),
            (N_("基本满意"), Satisfaction.BASIC),
            (N_("不满意，重办"), Satisfaction.DISSATISFIED),
        )
    ]
    if reached:
        actions.append(Action(N_("未接通"), ((Step.CALLBACK, {"reached": False}),), closes=True))
    return actions


def actions_for(case: CaseView, steps: list[Step]) -> list[Action]:
    """The keys 1–9 of the case screen: the domain's steps, with the callback outcomes and
    "approve the return and dispatch again" as single actions."""
    status = case.status
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
        Binding(
            "f7",
            "repeat_call('urge')",
            "催办",
            tooltip="重复来电：记下来电人所说，催承办单位（已办结的：可重办时重办）",
            show=False,  # no room in the Footer at 100 columns: the pane names it
            id="case.urge",
        ),
        Binding(
            "f8",
            "repeat_call('supplement')",
            "补充",
            tooltip="重复来电：给在办工单补充来电人提供的新情况",
            show=False,  # no room in the Footer at 100 columns: the pane names it
            id="case.supplement",
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
        #: The case as the seat holds it now (None: not in this seat's cache).
        self.cached: CachedCase | None = None
        self.steps: list[Step] = []
        self.actions: list[Action] = []
        self.events: list[wire.EventPublic] | None = None
        self._events_version = -1  # the case version the timeline was read at
        #: The version being read now: reading refreshes the seat's cache, which tells this
        #: screen the case changed; without this it read again, and again (~100 reads a second).
        self._reading_version = -1
        #: The other cases of its related group (关联工单), and whether steps go to them too.
        self.related: list[CachedCase] = []
        self.together = True
        #: The case left what this user may see (re-dispatched elsewhere, say).
        self.withdrawn = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="case"):
            with VerticalScroll(id="case-main"):
                yield Static("", id="case-leader", classes="leader-mark")
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
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#case-main", VerticalScroll).focus()  # the keys scroll the case
        follow_seat(self)
        self.refresh_case()

    def on_seat_cases_changed(self, message: SeatCasesChanged) -> None:
        """The feed (or this seat) changed this case or one of its group: show it now."""
        event = message.event
        if self.case_uuid in event.withdrawn:
            self.withdrawn = True
        mine = {self.case_uuid, *(c.uuid for c in self.related)}
        if event.uuids & mine or self._group_joined(event):
            self.refresh_case()

    def _group_joined(self, event: object) -> bool:
        """A case of another seat joined this case's group."""
        if self.cached is None:
            return False
        group = self.cached.case.related_to or self.case_uuid
        cases = getattr(event, "cases", ())
        return any(c.related_to == group for c in cases)

    def on_seat_commands_held(self, message: SeatCommandsHeld) -> None:
        if any(h.case_uuid == self.case_uuid for h in message.event.held):
            self.refresh_case()

    # -- data ----------------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        user = self.seat.user
        return user.role if user else Role.AGENT

    @property
    def case(self) -> CaseView | None:
        return self.cached.case if self.cached else None

    def _held(self) -> list[HeldCommand]:
        return self.seat.held(self.case_uuid)

    def refresh_case(self) -> None:
        """Show what the seat holds now (called again whenever it changes)."""
        cached = self.seat.case(self.case_uuid)
        if cached is None:
            self.cached = None
            self.steps, self.actions, self.related = [], [], []
            self.query_one("#case-fields", Static).update(
                t("该工单已转出，本账号不再可见（以中心库为准）")
                if self.withdrawn
                else t("本机没有这个工单")
            )
            self._show_steps()
            self.refresh_bindings()
            return
        self.cached = cached
        case = cached.case
        user = self.seat.user
        self.steps = steps_for(case, self.role, user.department if user else "")
        self.actions = actions_for(case, self.steps)
        self.title = t("工单 {number}", number=number_of(case))
        self.related = [
            c for c in self.seat.group(self.case_uuid, case.related_to) if c.uuid != self.case_uuid
        ]
        self._show_fields()
        self._show_steps()
        self._show_related()
        self._show_conflict()
        self._show_timeline()
        self.refresh_bindings()
        if cached.confirmed and case.version not in (self._events_version, self._reading_version):
            self._reading_version = case.version
            self.action_reload()  # a newer version than the timeline: read its events

    @work(exclusive=True, group="case-fetch", exit_on_error=False)
    async def action_reload(self) -> None:
        if self.cached is None or not self.cached.confirmed:
            return  # not on the central store yet
        try:
            case = await self.seat.fetch_case(self.case_uuid)
        except SeatError as exc:
            self._reading_version = -1  # read again at the next change (or Ctrl+R)
            self.query_one("#case-status", Static).update(
                t("显示本机缓存，办理过程需联网读取（{error}）", error=exc.message)
            )
            return
        self.events = list(case.events or [])
        self._events_version = case.version
        await self.seat.refresh_group(case.uuid, case.related_to)
        self.query_one("#case-status", Static).update("")
        self.refresh_case()

    # -- showing it ----------------------------------------------------------------------------

    def _label_of(self, code: str, kind: str) -> str:
        if kind == "category":
            c = self.reference.category(code)
            return t("{name}（{code}）", name=c.name, code=c.code) if c else code
        return self.reference.department_label(code)

    def _show_fields(self) -> None:
        assert self.cached is not None
        b = self.cached.case
        a = b.address
        place = " ".join(v for v in (a.county, a.township, a.village, a.road, a.detail) if v)
        caller = (
            t("（保密，已隐藏）")
            if b.masked
            else f"{b.caller_name or t('（未留姓名）')} {b.caller_phone}"
        )
        flags = t("、").join(
            t(label)
            for flag, label in ((b.confidential, N_("保密")), (b.anonymous, N_("匿名")))
            if flag
        )
        co = t("、").join(self._label_of(c, "department") for c in b.co_departments)
        status = t(b.status.label) + (t("（本机操作待发送）") if self.cached.pending else "")
        rows = [
            (N_("工单号"), number_of(b)),
            (N_("状态"), status),
            (N_("版本"), str(b.version)),
            (N_("受理"), f"{local(b.registered_at)} {b.agent}"),
            (N_("来电人"), caller + (t("（{flags}）", flags=flags) if flags else "")),
            (N_("诉求类型"), t(b.appeal_type.label)),
            (N_("分类"), self._label_of(b.category, "category")),
            (N_("地点"), place),
            (N_("主办单位"), self._label_of(b.department, "department")),
            (N_("协办单位"), co),
            (N_("协办意见"), "\n".join(self._co_opinions())),
            (N_("签收期限"), short_deadline(b.sign_deadline, display_zone())),
            (N_("办理期限"), short_deadline(b.handling_deadline, display_zone())),
            (N_("办理结果"), t(b.reply_outcome.label) if b.reply_outcome else ""),
            (N_("答复"), b.result),
            (N_("经办人"), " ".join(v for v in (b.reply_officer, b.reply_phone) if v)),
            (N_("不予受理理由"), b.refusal_reason),
            (N_("问题是否解决"), t(b.callback_solved.label) if b.callback_solved else ""),
            (N_("满意度"), t(b.satisfaction.label) if b.satisfaction else ""),
            (N_("催办"), _urges_text(b)),
            (N_("补充"), t("{count} 次", count=b.supplements) if b.supplements else ""),
            (N_("市民反映"), b.callback_note),
            (N_("回访话术"), self._callback_script(b)),
            (N_("诉求内容"), b.content),
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
        marker = self.query_one("#case-leader", Static)
        marker.set_class(b.leader_assigned, "-shown")
        if b.leader_assigned:
            marker.update(
                t(
                    "【领导交办】{level} · 领导接听受理，办结前全程督办",
                    level=t(SupervisionLevel(b.supervision).label),
                )
            )

    def _callback_script(self, b: CaseView) -> str:
        """What the agent reads to the caller at the callback: the department's reply as it
        was structured, then the two questions."""
        if b.status not in (Status.CALLBACK_PENDING, Status.CALLED_BACK):
            return ""
        department = self._label_of(b.department, "department") or t("热线")
        parts = [t("您反映的问题，{department}答复：", department=department)]
        if b.reply_outcome is not None:
            parts.append(t("办理结果为“{outcome}”。", outcome=t(b.reply_outcome.label)))
        if b.result:
            parts.append(t("办理情况：{result}。", result=b.result.rstrip("。")))
        if b.reply_officer:
            officer, phone = b.reply_officer, b.reply_phone
            parts.append(t("经办人 {officer}，联系电话 {phone}。", officer=officer, phone=phone))
        parts.append(t("请问您的问题是否已解决？您对办理结果满意、基本满意还是不满意？"))
        return "".join(parts)

    def _co_opinions(self) -> list[str]:
        assert self.cached is not None
        return co_opinion_lines(
            self.cached.case, lambda c: self._label_of(c, "department"), self._now()
        )

    def _show_steps(self) -> None:
        if not self.actions:
            text = t("（当前状态下本角色无可办理步骤）")
        else:
            text = "\n".join(f"[b]{i}[/b]  {t(a.label)}" for i, a in enumerate(self.actions, 1))
        case = self.case
        if (
            case is not None
            and case.status in OPEN_STATUSES
            and self.check_action("repeat_call", ())
        ):
            text += "\n" + t("重复来电：F7 催办 · F8 补充")
        self.query_one("#case-steps", Static).update(text)

    def _together(self, action: Action | None = None) -> list[CachedCase]:
        """The related cases a step on this one is also taken on: those in the same state
        where the domain allows the same step to this user."""
        if not self.related or self.cached is None:
            return []
        status = self.cached.case.status
        user = self.seat.user
        department = user.department if user else ""
        first = action.steps[0][0] if action and action.steps else (action.form if action else None)
        if action is not None and action.callback is not None:
            first = Step.CALLBACK if action.reached else Step.RATE
        return [
            c
            for c in self.related
            if c.case.status is status
            and (first is None or first in steps_for(c.case, self.role, department))
        ]

    def _show_related(self) -> None:
        panel = self.query_one("#case-related", Static)
        panel.display = bool(self.related)
        if not self.related:
            return
        lines = [t("[b]关联工单[/b] {count} 件", count=len(self.related))]
        for c in self.related[:6]:
            lines.append(
                f"· {number_of(c.case)} {t(c.case.status.label)} {short(c.case.content, 14)}"
            )
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
        mine = t((entry.step or Step.REGISTER).label)
        lines = [
            t("[b red]与中心库冲突[/]") if entry.conflict else t("[b red]中心库拒绝了这一步[/]"),
            t("本机：{step}（基于第 {version} 版）", step=mine, version=entry.version or "?"),
        ]
        if server is not None:
            lines += [
                t(
                    "中心库：第 {version} 版 · {status} · 主办 {department}",
                    version=server.version,
                    status=t(server.status.label),
                    department=self._label_of(server.department, "department") or "—",
                ),
                t("更新于 {at}", at=local(server.updated_at)),
            ]
        if entry.error:
            lines.append(t("原因：{error}", error=entry.error))
        lines.append(t("Ctrl+Y 按最新版本重新提交 · Ctrl+D 放弃本机操作"))
        panel.update("\n".join(lines))

    def _show_timeline(self) -> None:
        events = []
        for e in self.events or []:
            source = t(e.from_status.label) if e.from_status else ""
            target = t(e.to_status.label)
            events.append(
                TimelineEvent(
                    local(e.at),
                    e.actor,
                    t(e.role.label),
                    t(e.step.label),
                    f"{source}→{target}" if source and source != target else target,
                    e.reason,
                )
            )
        self.query_one("#case-timeline", Timeline).show(events)

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("reapply", "discard"):
            return bool(self._held())
        if action == "repeat_call":
            return self.role in INTAKE  # who takes the calls: the centre, a leader at a seat
        if action == "together":
            return bool(self._together())
        return True

    def action_close(self) -> None:
        self.dismiss()

    def action_page(self, direction: int) -> None:
        main = self.query_one("#case-main", VerticalScroll)
        main.scroll_page_down() if direction > 0 else main.scroll_page_up()

    def action_step(self, n: int) -> None:
        if n > len(self.actions) or self.cached is None:
            self.notify(t("没有第 {n} 个步骤", n=n), severity="warning")
            return
        if self._held():
            self.notify(t("请先处理与中心库的冲突（Ctrl+Y 或 Ctrl+D）"), severity="warning")
            return
        action = self.actions[n - 1]
        if action.callback is not None:
            self._callback(action, action.callback)
            return
        if action.form is None:
            self._queue(action, None)
            return
        form = action.form

        def done(params: dict[str, Any] | None) -> None:
            if params is not None:
                self._queue(action, (form, params))

        self.app.push_screen(StepForm(form, self.cached.case, self.ctx, self._now()), done)

    def action_repeat_call(self, kind: str) -> None:
        """F7 催办 / F8 补充 for a repeat call about this case: what the caller said, into the
        outbox; a closed case offers 重办 where the lifecycle allows it."""
        if self.cached is None:
            return
        if self._held():
            self.notify(t("请先处理与中心库的冲突（Ctrl+Y 或 Ctrl+D）"), severity="warning")
            return
        repeat_call(self, self.seat, self.ctx, self.cached, Step(kind), self._now())

    def _callback(self, action: Action, satisfaction: Satisfaction) -> None:
        """The callback form; its confirmed answers go to the outbox as the callback steps."""
        assert self.cached is not None
        case = self.cached.case
        department = self._label_of(case.department, "department")
        can_reopen = bool(case.department)

        def done(answers: dict[str, Any] | None) -> None:
            if answers is not None:
                self._queue(action, None, callback_steps(answers, action.reached, can_reopen))

        self.app.push_screen(CallbackForm(case, satisfaction, action.reached, department), done)

    def _queue(
        self,
        action: Action,
        last: tuple[Step, dict[str, Any]] | None,
        steps: tuple[tuple[Step, dict[str, Any]], ...] = (),
    ) -> None:
        """Into the outbox, in order: the first on the version shown, the rest chained."""
        if self.cached is None:
            return
        steps = (*action.steps, *steps, *([last] if last else []))
        others = self._together(action) if self.together else []
        try:
            for cached in (self.cached, *others):
                for step, params in steps:
                    self.seat.take_step(cached, step, params)
        except StepRefused as exc:
            self.notify(str(exc), title=t("这一步不能提交"), severity="error")
            return
        self.notify(
            t("{step}：已提交（待发送到中心库）", step=t(action.label))
            + (t("，关联工单 {count} 件一并办理", count=len(others)) if others else ""),
            title=number_of(self.cached.case),
        )
        if action.closes:
            self.dismiss()
        else:
            self.refresh_case()

    def _now(self) -> datetime:
        now: datetime = self.app.clock()  # type: ignore[attr-defined]
        return now

    def action_reapply(self) -> None:
        for held in self._held():
            if held.server_case is None:
                continue
            self.seat.reapply(held)
            self.notify(t("已按中心库最新版本重新提交"), title=self._number())
        self.refresh_case()

    def action_discard(self) -> None:
        for held in self._held():
            self.seat.discard(held)
        self.notify(t("已放弃本机操作，以中心库为准"), title=self._number())
        self.refresh_case()

    def _number(self) -> str:
        return number_of(self.cached.case) if self.cached else ""


def _urges_text(case: CaseView) -> str:
    """``2 次，最近 11-26 10:00``; '' when the caller never urged it."""
    if not case.urges:
        return ""
    text = t("{count} 次", count=case.urges)
    if case.last_urged_at is not None:
        text += t("，最近 {at}", at=local(case.last_urged_at))
    return text


def repeat_call(
    screen: Screen[Any],
    seat: Seat,
    ctx: EntryContext,
    cached: CachedCase,
    step: Step,
    now: datetime,
) -> None:
    """A repeat call about ``cached`` (the case screen's and case entry's F7/F8): the form
    asks what the caller said and the step goes to the outbox. A closed case cannot be urged:
    the reopen (重办) form opens instead where the lifecycle allows it, else it says why."""
    user = seat.user
    role = user.role if user else Role.AGENT
    offered = repeat_call_steps(domain_case(cached.case), role)
    number = number_of(cached.case)
    if step not in offered:
        if Step.REOPEN in offered:
            screen.notify(t("工单已办结，不能催办：改为重办"), title=number, severity="warning")
            step = Step.REOPEN
        else:
            screen.notify(
                t(
                    "工单已办结（{status}），不能催办或补充；请重新受理为新工单",
                    status=t(cached.case.status.label),
                ),
                title=number,
                severity="warning",
            )
            return

    def done(params: dict[str, Any] | None) -> None:
        if params is None:
            return
        try:
            seat.take_step(cached, step, params)
        except StepRefused as exc:
            screen.notify(str(exc), title=t("这一步不能提交"), severity="error")
            return
        screen.notify(t("{step}：已提交（待发送到中心库）", step=t(step.label)), title=number)

    screen.app.push_screen(StepForm(step, cached.case, ctx, now), done)
