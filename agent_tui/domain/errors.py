"""Domain errors: each says, in words an agent understands, what was wrong."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every rule violation. ``message`` is Chinese (the UI's language)."""

    code = "domain_error"

    def __init__(self, message: str, message_en: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, shown beside that field."""

    field: str
    code: str
    message: str
    message_en: str = ""


class ValidationFailed(DomainError):
    code = "validation_failed"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__(
            "；".join(f"{e.field}: {e.message}" for e in self.errors),
            "; ".join(f"{e.field}: {e.message_en or e.message}" for e in self.errors),
        )

    def for_field(self, name: str) -> list[FieldError]:
        return [e for e in self.errors if e.field == name]


class IllegalStep(DomainError):
    """A step the state machine does not allow from this state, or not to this role."""

    code = "illegal_step"

    def __init__(self, *, state: str, step: str, role: str, why: str, why_en: str) -> None:
        self.state = state
        self.step = step
        self.role = role
        super().__init__(
            f"不能执行“{step}”：工单状态为“{state}”，角色为“{role}”——{why}",
            f"Cannot {step}: case is {state}, role is {role}: {why_en}",
        )


class StepForbidden(IllegalStep):
    """The step exists in this state, but this role may not take it (HTTP 403)."""

    code = "forbidden"


class OutsideCalendar(DomainError):
    """A date in a year that neither chinese-calendar nor the centre's overrides cover."""

    code = "outside_calendar"

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year} 年的节假日安排尚未载入，无法按工作日计算期限",
            f"The {year} holiday schedule is not loaded: working days cannot be computed",
        )
