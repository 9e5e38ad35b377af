"""Intake validation: one clear message per field, phones checked with phonenumbers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_tui.domain.case import (
    CONTENT_MAX,
    Address,
    AppealType,
    Intake,
    normalize_phone,
    validate_intake,
)
from agent_tui.domain.errors import ValidationFailed

GOOD = Intake(
    appeal_type=AppealType.COMPLAINT,
    content="乐山大道与文化路交叉口东南角下水道堵塞，积水漫到非机动车道",
    caller_phone="13912345678",
    category="0201",
    address=Address(county="驿城区", road="乐山大道与文化路交叉口"),
)


def fields_of(intake: Intake) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as err:
        validate_intake(intake)
    return {e.field: e.code for e in err.value.errors}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("0396-2345678", "0396-2345678"),
        ("03962345678", "0396-2345678"),
        ("2345678", "0396-2345678"),  # a local number: Zhumadian's area code is implied
        ("010-12345678", "010-12345678"),
        ("0371-65432100", "0371-65432100"),
    ],
)
def test_valid_phones_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "12345", "123456789012345", "abc", "00000000000", "1391234567", "11111111111"]
)
def test_junk_phones_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


@given(st.text(max_size=30))
def test_normalize_phone_never_crashes(raw: str) -> None:
    try:
        out = normalize_phone(raw)
    except ValueError:
        return
    assert out.isdigit() or "-" in out


def test_a_good_intake_passes_and_is_normalised() -> None:
    out = validate_intake(replace(GOOD, caller_phone="+86 13912345678", caller_name=" 张三 "))
    assert out.caller_phone == "13912345678" and out.caller_name == "张三"


def test_every_problem_is_reported_at_once_beside_its_field() -> None:
    bad = replace(GOOD, content="", caller_phone="123", category="", address=Address())
    assert fields_of(bad) == {
        "content": "required",
        "caller_phone": "invalid",
        "category": "required",
        "address": "required",
    }


def test_messages_are_chinese_and_say_what_to_do() -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_intake(replace(GOOD, caller_phone="12"))
    (e,) = err.value.errors
    assert "区号" in e.message and e.message_en


def test_content_length_limits() -> None:
    assert fields_of(replace(GOOD, content="太吵"))["content"] == "too_short"
    assert fields_of(replace(GOOD, content="吵" * (CONTENT_MAX + 1)))["content"] == "too_long"
    validate_intake(replace(GOOD, content="吵" * CONTENT_MAX))


def test_phone_is_required_unless_anonymous() -> None:
    assert fields_of(replace(GOOD, caller_phone="")) == {"caller_phone": "required"}
    validate_intake(replace(GOOD, caller_phone="", anonymous=True))


def test_anonymous_rules() -> None:
    assert fields_of(replace(GOOD, anonymous=True, confidential=True))["anonymous"] == "conflict"
    assert fields_of(replace(GOOD, anonymous=True, caller_name="李四")) == {
        "caller_name": "anonymous"
    }
    help_case = replace(GOOD, appeal_type=AppealType.HELP, anonymous=True)
    assert fields_of(help_case)["anonymous"] == "needs_contact"


def test_confidential_keeps_the_identity() -> None:
    out = validate_intake(replace(GOOD, confidential=True, caller_name="王五"))
    assert out.confidential and out.caller_name == "王五"


@pytest.mark.parametrize("appeal", [AppealType.COMPLAINT, AppealType.REPORT, AppealType.HELP])
def test_matters_with_a_place_need_the_address(appeal: AppealType) -> None:
    assert fields_of(replace(GOOD, appeal_type=appeal, address=Address())) == {
        "address": "required"
    }


def test_an_inquiry_needs_no_address_and_other_needs_no_category() -> None:
    validate_intake(replace(GOOD, appeal_type=AppealType.INQUIRY, address=Address()))
    validate_intake(replace(GOOD, appeal_type=AppealType.OTHER, category="", address=Address()))


def test_unknown_category_is_named() -> None:
    with pytest.raises(ValidationFailed, match="9999"):
        validate_intake(replace(GOOD, category="9999"), known_categories=frozenset({"0201"}))


def test_labels_parse_both_ways() -> None:
    assert AppealType.parse("投诉") is AppealType.COMPLAINT
    assert AppealType.parse("complaint") is AppealType.COMPLAINT
    with pytest.raises(ValueError):
        AppealType.parse("抱怨")
