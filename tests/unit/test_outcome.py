"""The structured reply's and the callback answers' rules (``domain.outcome``), alone and as
the lifecycle applies them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_tui.domain.case import OFFICER_MAX, ReplyOutcome, Role, Satisfaction, Solved, Status
from agent_tui.domain.errors import ValidationFailed
from agent_tui.domain.lifecycle import Step, apply
from agent_tui.domain.outcome import check_callback_answers, check_reply

from .lifecycle_helpers import case_in, good_command


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.code for e in exc.value.errors}


def test_a_structured_reply_is_normalised() -> None:
    reply = check_reply(" 已清理 ", ReplyOutcome.RESOLVED, " 王强 ", "0396 2345678")
    assert (reply.result, reply.officer, reply.officer_phone) == ("已清理", "王强", "0396-2345678")
    assert check_reply("已清理", ReplyOutcome.PARTLY, "王强", "2345678").officer_phone == (
        "0396-2345678"  # a local landline is in Zhumadian
    )


def test_a_free_text_reply_is_still_a_reply() -> None:
    reply = check_reply("已清理")
    assert reply.outcome is None and reply.officer == "" and reply.officer_phone == ""


def test_every_problem_is_reported_at_once_by_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_reply("", ReplyOutcome.UNRESOLVED, "", "12345")
    assert fields(exc) == {"result": "required", "officer": "required", "officer_phone": "invalid"}
    with pytest.raises(ValidationFailed) as exc:
        check_reply("已处理", ReplyOutcome.UNFOUNDED, "王" * (OFFICER_MAX + 1), "")
    assert fields(exc) == {"officer": "too_long", "officer_phone": "required"}
    assert "联系电话" in exc.value.for_field("officer_phone")[0].message


def test_half_a_structured_reply_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_reply("已处理", None, "王强", "13903960001")
    assert fields(exc) == {"outcome": "required"}


@pytest.mark.parametrize("outcome", list(ReplyOutcome))
def test_the_reply_step_stores_each_outcome(outcome: ReplyOutcome) -> None:
    case = case_in(Status.IN_PROGRESS)
    cmd = replace(
        good_command(Step.REPLY, Role.DEPARTMENT, case),
        outcome=outcome,
        officer="王强",
        officer_phone="+86 139 0396 0001",
    )
    after, event = apply(case, cmd)
    assert (after.reply_outcome, after.reply_officer, after.reply_phone) == (
        outcome,
        "王强",
        "13903960001",
    )
    assert event.changes["reply_outcome"] == (None, outcome)  # in the audit log too


def test_the_reply_step_refuses_a_bad_phone() -> None:
    case = case_in(Status.IN_PROGRESS)
    cmd = replace(
        good_command(Step.REPLY, Role.DEPARTMENT, case),
        outcome=ReplyOutcome.RESOLVED,
        officer="王强",
        officer_phone="110",
    )
    with pytest.raises(ValidationFailed) as exc:
        apply(case, cmd)
    assert fields(exc) == {"officer_phone": "invalid"}


def test_callback_answers() -> None:
    answers = check_callback_answers(Satisfaction.BASIC, Solved.SOLVED, "  路灯已修好 ")
    assert answers.note == "路灯已修好" and answers.solved is Solved.SOLVED
    with pytest.raises(ValidationFailed) as exc:
        check_callback_answers(None, Solved.SOLVED, "长" * 501)
    assert fields(exc) == {"satisfaction": "required", "note": "too_long"}


def test_rating_stores_the_answers_and_a_reopen_clears_them() -> None:
    case = case_in(Status.CALLED_BACK)
    cmd = replace(
        good_command(Step.RATE, Role.AGENT, case),
        satisfaction=Satisfaction.DISSATISFIED,
        solved=Solved.UNSOLVED,
        note="井盖还是坏的",
    )
    rated, event = apply(case, cmd)
    assert (rated.callback_solved, rated.callback_note) == (Solved.UNSOLVED, "井盖还是坏的")
    assert event.changes["callback_solved"] == (None, Solved.UNSOLVED)
    reopened, _ = apply(rated, good_command(Step.REOPEN, Role.AGENT, rated))
    assert (reopened.callback_solved, reopened.callback_note, reopened.satisfaction) == (
        None,
        "",
        None,
    )
