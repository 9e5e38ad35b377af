"""The rules of a department's structured reply (结构化答复) and of the callback's answers.

A reply says what came of the case (``ReplyOutcome``: 已解决 / 部分解决 / 未解决 / 情况不属实 /
已解释说明), what was done (``result``), who handled it and how to reach them. The callback
records what the citizen said and their answers to the two questions a centre is ranked on:
was the problem solved (``Solved``: 已解决 / 未解决, for 解决率) and how satisfied they are
(``Satisfaction``, for 满意率).

Rules (checked here for the server and the seat's forms alike; every problem at once, one
``FieldError`` per field, named as the request body names it):

- the result (what was done) is required, at most ``RESULT_MAX`` characters;
- a structured reply (an outcome given) names its handling officer (at most ``OFFICER_MAX``)
  and a contact phone, checked and normalised like the caller's (phonenumbers: an 11-digit
  mobile, or a landline with its area code; a local number takes 0396);
- officer or phone without an outcome is refused (half a structured reply); a reply with
  none of the three is a free-text reply, as seats sent before replies had structure
  (an outbox may still hold one), and is kept with no outcome;
- the callback's satisfaction is required; "solved?" may be left unasked (an older seat) and
  then the case is not in 解决率's denominator; what the citizen said is at most ``NOTE_MAX``.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_tui.domain.case import (
    NOTE_MAX,
    OFFICER_MAX,
    RESULT_MAX,
    ReplyOutcome,
    Satisfaction,
    Solved,
    normalize_phone,
)
from agent_tui.domain.errors import FieldError, ValidationFailed


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply as checked: text stripped, phone normalised."""

    result: str
    outcome: ReplyOutcome | None = None
    officer: str = ""
    officer_phone: str = ""


def check_reply(
    result: str,
    outcome: ReplyOutcome | None = None,
    officer: str = "",
    officer_phone: str = "",
) -> Reply:
    """Check a department's reply; return it normalised or raise ``ValidationFailed``."""
    errors: list[FieldError] = []
    result, officer, phone = result.strip(), officer.strip(), officer_phone.strip()
    if not result:
        errors.append(FieldError("result", "required", "请填写办理结果", "The result is required"))
    elif len(result) > RESULT_MAX:
        errors.append(
            FieldError("result", "too_long", f"办理结果最多 {RESULT_MAX} 个字", "Too long")
        )
    if outcome is None and (officer or phone):
        errors.append(
            FieldError(
                "outcome",
                "required",
                "请选择办理结果（已解决、部分解决……）",
                "Pick the outcome of the reply",
            )
        )
    if outcome is not None and not officer:
        errors.append(
            FieldError("officer", "required", "请填写经办人", "The handling officer is required")
        )
    elif len(officer) > OFFICER_MAX:
        errors.append(
            FieldError(
                "officer",
                "too_long",
                f"经办人最多 {OFFICER_MAX} 个字",
                f"Officer is limited to {OFFICER_MAX} characters",
            )
        )
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValueError:
            errors.append(
                FieldError(
                    "officer_phone",
                    "invalid",
                    "联系电话无效：手机为 11 位，固话请带区号（如 0396-2345678）",
                    "Invalid phone: an 11-digit mobile, or a landline with its area code",
                )
            )
    elif outcome is not None:
        errors.append(
            FieldError(
                "officer_phone",
                "required",
                "请填写经办人联系电话",
                "The officer's contact phone is required",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return Reply(result, outcome, officer, phone)


@dataclass(frozen=True, slots=True)
class CallbackAnswers:
    """What the caller said at the callback, as checked."""

    satisfaction: Satisfaction
    solved: Solved | None = None
    note: str = ""


def check_callback_answers(
    satisfaction: Satisfaction | None, solved: Solved | None = None, note: str = ""
) -> CallbackAnswers:
    """Check the callback's answers; return them or raise ``ValidationFailed``."""
    errors: list[FieldError] = []
    note = note.strip()
    if satisfaction is None:
        errors.append(
            FieldError("satisfaction", "required", "请选择满意度", "Satisfaction is required")
        )
    if len(note) > NOTE_MAX:
        errors.append(
            FieldError(
                "note",
                "too_long",
                f"市民反映最多 {NOTE_MAX} 个字",
                f"What the caller said is limited to {NOTE_MAX} characters",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    assert satisfaction is not None
    return CallbackAnswers(satisfaction, solved, note)
