"""The callback (回访) form: what the citizen said, and the two questions a centre is ranked on.

Opened by the callback keys of the case screen (1 满意, 2 基本满意, 3 不满意) with that
satisfaction chosen: "was the problem solved?" (已解决 / 未解决, no default), the satisfaction,
and what the citizen said (needed when dissatisfied: it is the reason the case is reopened).
Ctrl+S checks the form (``domain.outcome``) and shows what will be stored; a second Ctrl+S or
Enter confirms, Esc goes back to the form. Nothing is stored before the confirmation.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from agent_tui.client.model import CaseView
from agent_tui.domain.case import NOTE_MAX, REASON_MAX, Satisfaction, Solved
from agent_tui.domain.errors import ValidationFailed
from agent_tui.domain.outcome import check_callback_answers
from agent_tui.i18n import N_, either, t
from agent_tui.widgets.choice import ChoiceBar

FIELDS = ("solved", "satisfaction", "note")


class ConfirmSummary(Static, can_focus=True):
    """What will be stored; focused while it asks for the confirmation (Enter confirms)."""


class CallbackForm(ModalScreen[dict[str, Any] | None]):
    """Answers ``{"solved", "satisfaction", "note"}`` (wire values), or None (cancelled)."""

    HELP_TITLE = N_("回访记录")
    BINDINGS = [
        Binding(
            "ctrl+s",
            "submit",
            "确认",
            tooltip="先核对将记录的内容，再按一次 Ctrl+S（或 Enter）确认",
            id="callback.submit",
        ),
        Binding("enter", "confirm", "确认记录", show=False, id="callback.confirm"),
        Binding("escape", "cancel", "取消", tooltip="核对时：回到表单", id="callback.cancel"),
    ]

    def __init__(
        self, case: CaseView, satisfaction: Satisfaction, reached: bool, department: str
    ) -> None:
        super().__init__()
        self.case = case
        self.satisfaction = satisfaction
        #: The call is reached now (this form records it), or was recorded before.
        self.reached = reached
        #: The department a dissatisfied caller's case is reopened to ("": answered on the
        #: call, nothing to reopen to: archived with the answers).
        self.department = department
        self.answers: dict[str, Any] | None = None  # checked, shown, waiting to be confirmed

    def compose(self) -> ComposeResult:
        with Vertical(id="callback-form"):
            number = self.case.number or t("（待发送）")
            yield Label(t("回访记录 · 工单 {number}", number=number), classes="section-title")
            yield Label(t("问题是否解决（数字键）"), classes="field-label")
            yield ChoiceBar([(s, t(s.label)) for s in Solved], empty=True, id="callback-solved")
            yield Static("", id="callback-solved-error", classes="field-error")
            yield Label(t("满意度（数字键）"), classes="field-label")
            yield ChoiceBar(
                [(s, t(s.label)) for s in Satisfaction],
                value=self.satisfaction,
                id="callback-satisfaction",
            )
            yield Static("", id="callback-satisfaction-error", classes="field-error")
            yield Label("", id="callback-note-label", classes="field-label")
            yield TextArea(id="callback-note", tab_behavior="focus", soft_wrap=True)
            yield Static("", id="callback-note-error", classes="field-error")
            yield ConfirmSummary("", id="callback-summary")
            yield Static("", id="callback-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#callback-summary", ConfirmSummary).display = False
        self._show_mode()
        self.query_one("#callback-solved", ChoiceBar).focus()

    @property
    def dissatisfied(self) -> bool:
        bar = self.query_one("#callback-satisfaction", ChoiceBar)
        return bar.value is Satisfaction.DISSATISFIED

    def _show_mode(self) -> None:
        label = t("市民反映（必填，即重办理由）") if self.dissatisfied else t("市民反映（选填）")
        self.query_one("#callback-note-label", Label).update(label)
        hint = (
            t("Ctrl+S 或 Enter 确认记录 · Esc 返回修改")
            if self.answers is not None
            else t("Ctrl+S 核对 · Esc 取消")
        )
        self.query_one("#callback-hint", Static).update(hint)

    @on(ChoiceBar.Changed)
    @on(TextArea.Changed)
    def _edited(self) -> None:
        """A change after the summary was shown: it no longer says what will be stored."""
        if self.answers is not None:
            self._back_to_form()
        self._show_mode()

    # -- checking ------------------------------------------------------------------------------

    def _error(self, name: str, message: str) -> None:
        node = self.query_one(f"#callback-{name}-error", Static)
        node.update(message)
        node.set_class(bool(message), "-shown")

    def _check(self) -> tuple[dict[str, Any], dict[str, str]]:
        solved = self.query_one("#callback-solved", ChoiceBar).selected
        satisfaction = self.query_one("#callback-satisfaction", ChoiceBar).value
        note = self.query_one("#callback-note", TextArea).text.strip()
        errors: dict[str, str] = {}
        if solved is None:
            errors["solved"] = t("请问市民：问题是否已解决（1 已解决 / 2 未解决）")
        try:
            check_callback_answers(satisfaction, solved, note)
        except ValidationFailed as exc:
            for e in exc.errors:
                errors.setdefault(e.field, either(e.message, e.message_en))
        if satisfaction is Satisfaction.DISSATISFIED and self.department and "note" not in errors:
            if not note:
                errors["note"] = t("不满意将重办：请记录市民反映的问题（作为重办理由）")
            elif len(note) > min(NOTE_MAX, REASON_MAX):
                errors["note"] = t("不能超过 {limit} 字", limit=min(NOTE_MAX, REASON_MAX))
        answers = {
            "solved": str(solved) if solved is not None else None,
            "satisfaction": str(satisfaction),
            "note": note,
        }
        return answers, errors

    def _summary(self, answers: dict[str, Any]) -> str:
        satisfaction = Satisfaction(answers["satisfaction"])
        lines = [t("[b]将记录[/b]")]
        if self.reached:
            lines.append(t("回访：已接通"))
        lines += [
            t("问题是否解决：{answer}", answer=t(Solved(answers["solved"]).label)),
            t("满意度：{answer}", answer=t(satisfaction.label)),
            t("市民反映：{note}", note=answers["note"] or t("（未记录）")),
        ]
        if satisfaction is Satisfaction.DISSATISFIED and self.department:
            lines.append(
                t("然后：重办，退回 {department}（新期限由中心库计算）", department=self.department)
            )
        elif satisfaction is Satisfaction.DISSATISFIED:
            lines.append(t("然后：归档（直接办结的工单没有承办单位，不能重办）"))
        else:
            lines.append(t("然后：归档"))
        return "\n".join(lines)

    # -- actions -------------------------------------------------------------------------------

    def action_submit(self) -> None:
        if self.answers is not None:
            self.action_confirm()
            return
        answers, errors = self._check()
        for name in FIELDS:
            self._error(name, errors.get(name, ""))
        if errors:
            first = next(n for n in FIELDS if n in errors)
            self.query_one(f"#callback-{first}").focus()
            return
        self.answers = answers
        summary = self.query_one("#callback-summary", ConfirmSummary)
        summary.update(self._summary(answers))
        summary.display = True
        summary.focus()
        self._show_mode()

    def action_confirm(self) -> None:
        if self.answers is None:
            return
        self.dismiss(self.answers)

    def _back_to_form(self) -> None:
        self.answers = None
        summary = self.query_one("#callback-summary", ConfirmSummary)
        summary.display = False
        summary.update("")

    def action_cancel(self) -> None:
        if self.answers is not None:
            self._back_to_form()
            self._show_mode()
            self.query_one("#callback-solved", ChoiceBar).focus()
            return
        self.dismiss(None)
