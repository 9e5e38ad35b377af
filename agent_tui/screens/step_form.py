"""One lifecycle step as a small form: only the fields the step's request body has.

The form is built from ``wire.STEP_BODIES`` (reason, result, department, a date, callback
reached, rating; a department's reply: its outcome, what was done, the handling officer and
a contact phone); every field is checked here with a message beside it (the domain's rules,
``domain.outcome`` for a reply), and the step is queued only when the body would be accepted
by the server.
"""

from __future__ import annotations

import contextlib
import uuid as uuid_mod
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea

from agent_tui import wire
from agent_tui.client.model import CaseView
from agent_tui.domain.calendar import end_of_day
from agent_tui.domain.case import ReplyOutcome, Satisfaction, normalize_phone
from agent_tui.domain.errors import DomainError, ValidationFailed
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.outcome import check_reply
from agent_tui.i18n import N_, either, t
from agent_tui.screens.entry import EntryContext
from agent_tui.widgets.choice import ChoiceBar
from agent_tui.widgets.co_opinions import co_opinion_lines
from agent_tui.widgets.hits import department_hit, department_hits
from agent_tui.widgets.pick import PickField
from agent_tui.widgets.search_list import Hit

FIELD_LABELS = {
    "department": N_("主办单位"),
    "reason": N_("理由"),
    "result": N_("答复内容（F8 知识库）"),
    "new_deadline": N_("申请的新期限（年-月-日）"),
    "deadline": N_("批准的新期限（年-月-日，留空按申请）"),
    "reached": N_("是否接通"),
    "satisfaction": N_("满意度（数字键）"),
    "outcome": N_("办理结果（数字键）"),
    "officer": N_("经办人"),
    "officer_phone": N_("经办人联系电话"),
    "opinion": N_("协办意见"),
    "phone": N_("联系电话（可不填）"),
}
#: A field named alike in every body, said as the step means it (a repeat call's ``reason``
#: is what the caller said).
STEP_FIELD_LABELS = {
    (Step.URGE, "reason"): N_("来电人所说（催办内容）"),
    (Step.SUPPLEMENT, "reason"): N_("补充内容"),
}
#: The message when such a field is left empty.
STEP_FIELD_REQUIRED = {
    (Step.URGE, "reason"): N_("请填写来电人所说"),
    (Step.SUPPLEMENT, "reason"): N_("请填写补充内容"),
    (Step.CO_OPINION, "officer"): N_("请填写经办人"),
}
#: A reply's ``result`` is what the department did (an answer on the call is the answer).
REPLY_RESULT_LABEL = N_("办理情况（做了什么；F8 知识库）")
#: Fields written as text (several lines), not one line.
TEXT_AREAS = frozenset({"result", "opinion"})
#: Body fields the form does not ask for (filled from routing or left to the server).
NOT_ASKED = frozenset({"command_id", "version", "co_departments", "platform", "sample_callback"})


def parse_day(text: str) -> date:
    return date.fromisoformat(text.strip().replace("/", "-").replace(".", "-"))


class StepForm(ModalScreen[dict[str, Any] | None]):
    HELP_TITLE = N_("办理步骤")
    BINDINGS = [
        Binding("ctrl+s", "submit", "确认", tooltip="提交这一步（进入待发送）", id="step.submit"),
        Binding("escape", "cancel", "取消", id="step.cancel"),
        Binding("f8", "knowledge", "知识库", tooltip="从知识库选答复口径", id="step.knowledge"),
    ]

    def __init__(self, step: Step, case: CaseView, ctx: EntryContext, now: datetime) -> None:
        super().__init__()
        self.step = step
        self.case = case
        self.ctx = ctx
        self.now = now
        body = wire.STEP_BODIES.get(step, wire.StepBody)
        self.fields = [f for f in body.model_fields if f not in NOT_ASKED]
        self._co_departments: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="step-form"):
            number = self.case.number or t("（待发送）")
            yield Label(
                t("{step} · 工单 {number}", step=t(self.step.label), number=number),
                classes="section-title",
            )
            if self.step is Step.REPLY and self.case.co_departments:
                # The lead replies with the co-departments' opinions (协办意见) in view.
                lines = co_opinion_lines(self.case, self.ctx.reference.department_label, self.now)
                yield Label(t("协办意见"), classes="field-label")
                yield Static("\n".join(lines), id="step-co-opinions")
            for name in self.fields:
                label = STEP_FIELD_LABELS.get((self.step, name)) or FIELD_LABELS.get(name, name)
                if self.step is Step.REPLY and name == "result":
                    label = REPLY_RESULT_LABEL
                yield Label(t(label), classes="field-label")
                yield self._widget(name)
                yield Static("", id=f"step-{name}-error", classes="field-error")
            if not self.fields:
                yield Static(t("确认{step}？", step=t(self.step.label)), classes="hint")
            yield Static("", id="step-route", classes="hint")
            yield Static(t("Ctrl+S 确认 · Esc 取消"), classes="hint")

    def _widget(self, name: str) -> Any:
        if name == "department":
            return PickField(
                self._department_hits,
                placeholder=t("单位：汉字/拼音/首字母"),
                id="step-department",
            )
        if name in TEXT_AREAS:
            return TextArea(id=f"step-{name}", tab_behavior="focus", soft_wrap=True)
        if name == "reached":
            return ChoiceBar([(True, t("已接通")), (False, t("未接通"))], id="step-reached")
        if name == "satisfaction":
            return ChoiceBar([(s, t(s.label)) for s in Satisfaction], id="step-satisfaction")
        if name == "outcome":
            # No default: a department that skips the question must not reply 已解决.
            return ChoiceBar([(o, t(o.label)) for o in ReplyOutcome], empty=True, id="step-outcome")
        if name == "officer_phone":
            return Input(id="step-officer_phone", placeholder=t("手机或带区号的固话"))
        placeholder = t("如 2026-12-05") if "deadline" in name else ""
        return Input(id=f"step-{name}", placeholder=placeholder)

    def _department_hits(self, query: str) -> list[Hit]:
        return department_hits(self.ctx.departments, query, 8)

    def on_mount(self) -> None:
        if "officer_phone" in self.fields:
            # The department's own number, to keep or replace with the officer's.
            dept = self.ctx.reference.department(self.case.department)
            if dept is not None and dept.phone:
                with contextlib.suppress(ValueError):  # a service number (12319) is no contact
                    phone = normalize_phone(dept.phone)
                    self.query_one("#step-officer_phone", Input).value = phone
        if "department" in self.fields:
            self._prefill_department()
            self.query_one("#step-department", PickField).query_one("OptionList").can_focus = False
        if self.fields:
            first = self.query(f"#step-{self.fields[0]}").first()
            target = first.input if isinstance(first, PickField) else first
            target.focus()

    def _prefill_department(self) -> None:
        """Routing by the case's category (or the department it had) fills the pick-list."""
        code = self.case.department
        category = self.case.category
        if category:
            try:
                place = self.case.address
                route = self.ctx.router.route(
                    category, self.case.urgency, place.county, place.township
                )
            except DomainError:
                route = None
            if route is not None:
                if route.department is not None and not code:
                    code = route.department.code
                self._co_departments = [d.code for d in route.co_departments]
        dept = self.ctx.reference.department(code)
        if dept is not None:
            self.query_one("#step-department", PickField).pick(department_hit(dept))
        if self._co_departments:
            names = t("、").join(
                d.short_name
                for c in self._co_departments
                if (d := self.ctx.reference.department(c)) is not None
            )
            self.query_one("#step-route", Static).update(t("协办（按分类）：{names}", names=names))

    # -- reading and checking the form ---------------------------------------------------------

    def _error(self, name: str, message: str) -> None:
        node = self.query_one(f"#step-{name}-error", Static)
        node.update(message)
        node.set_class(bool(message), "-shown")

    def _params(self) -> tuple[dict[str, Any], dict[str, str]]:
        params: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in self.fields:
            if name == "department":
                dept = self.query_one("#step-department", PickField).value
                if dept is None:
                    errors[name] = t("请选择主办单位")
                else:
                    params[name] = dept.code
                    if self._co_departments:
                        params["co_departments"] = [
                            c for c in self._co_departments if c != dept.code
                        ]
            elif name in TEXT_AREAS:
                text = self.query_one(f"#step-{name}", TextArea).text.strip()
                if not text:
                    errors[name] = t(
                        N_("请填写答复内容") if name == "result" else N_("请填写协办意见")
                    )
                params[name] = text
            elif name == "phone":
                text = self.query_one("#step-phone", Input).value.strip()
                if text:
                    try:
                        text = normalize_phone(text)
                    except ValueError:
                        errors[name] = t(
                            "电话号码无效：手机为 11 位，固话请带区号（如 0396-2345678）"
                        )
                params[name] = text
            elif name == "outcome":
                outcome = self.query_one("#step-outcome", ChoiceBar).selected
                if outcome is None:
                    errors[name] = t("请选择办理结果（数字键 1–5）")
                else:
                    params[name] = str(outcome)
            elif name in ("officer", "officer_phone") and self.step is Step.REPLY:
                # Checked together by the reply's rules below (needed once an outcome is set).
                params[name] = self.query_one(f"#step-{name}", Input).value.strip()
            elif name in ("reached", "satisfaction"):
                value = self.query_one(f"#step-{name}", ChoiceBar).value
                params[name] = str(value) if isinstance(value, Satisfaction) else value
            elif name in ("new_deadline", "deadline"):
                text = self.query_one(f"#step-{name}", Input).value.strip()
                if not text and name == "deadline":
                    continue
                try:
                    moment = end_of_day(parse_day(text))  # a date: to its end, 24:00
                except ValueError:
                    errors[name] = t("日期格式如 2026-12-05")
                    continue
                if moment <= self.now:
                    errors[name] = t("新期限须晚于今天")
                    continue
                params[name] = moment.isoformat()
            else:
                text = self.query_one(f"#step-{name}", Input).value.strip()
                if not text:
                    errors[name] = t(STEP_FIELD_REQUIRED.get((self.step, name), N_("请填写理由")))
                params[name] = text
        if self.step is Step.REPLY:
            errors = {**self._reply_rules(params), **errors}
        if not errors:
            errors = self._server_rules(params)
        return params, errors

    def _reply_rules(self, params: dict[str, Any]) -> dict[str, str]:
        """The domain's rules of a structured reply (officer, phone), beside their fields; the
        phone goes out normalised, as the store will keep it."""
        outcome = params.get("outcome")
        try:
            reply = check_reply(
                params.get("result", ""),
                ReplyOutcome(outcome) if outcome else ReplyOutcome.RESOLVED,
                params.get("officer", ""),
                params.get("officer_phone", ""),
            )
        except ValidationFailed as exc:
            return {e.field: either(e.message, e.message_en) for e in exc.errors}
        params["officer_phone"] = reply.officer_phone
        return {}

    def _server_rules(self, params: dict[str, Any]) -> dict[str, str]:
        """What the server would refuse (lengths, limits), before it is queued."""
        body = wire.STEP_BODIES.get(self.step, wire.StepBody)
        try:
            body.model_validate({**params, "command_id": str(uuid_mod.uuid4()), "version": 1})
        except ValidationError as exc:
            errors = {}
            for e in exc.errors():
                field = str(e["loc"][0]) if e["loc"] else ""
                limit = (e.get("ctx") or {}).get("max_length")
                errors[field if field in self.fields else self.fields[0]] = (
                    t("不能超过 {limit} 字", limit=limit) if limit else t("内容不合要求")
                )
            return errors
        return {}

    # -- actions -------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = [i for i in self.query(Input) if i.id and i.id.startswith("step-")]
        if inputs and event.control is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        params, errors = self._params()
        for name in self.fields:
            self._error(name, errors.get(name, ""))
        if errors:
            first = next(n for n in self.fields if n in errors)
            node = self.query(f"#step-{first}").first()
            (node.input if isinstance(node, PickField) else node).focus()
            return
        self.dismiss(params)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_knowledge(self) -> None:
        if "result" not in self.fields:
            return
        from agent_tui.screens.knowledge import AnswerScreen

        def fill(answer: str | None) -> None:
            if answer:
                self.query_one("#step-result", TextArea).text = answer

        category = self.ctx.reference.category(self.case.category)
        self.app.push_screen(AnswerScreen(category), fill)
