"""Related cases (关联工单): one matter reported by several callers.

When a new case has the same category at the same village or road as an open case registered
within a window (``RELATED_WINDOW``, configurable on the server), the agent is offered to link
it. Linked cases form a group named by its first case (``group_of``): the new case's
``related_to`` is the group of the case it was linked to, so a group never chains. A group is
shown together and a step taken on one case can be taken on its linked cases in the same state.

Same place means the same county, and either the same village (in the same township) or the
same road or crossing; a case with only a county or a township is never related by place (a
whole township is too wide to call one matter).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_tui.domain.case import OPEN_STATUSES, Address, Status

RELATED_WINDOW = timedelta(days=7)


def same_place(a: Address, b: Address) -> bool:
    if not a.county or a.county != b.county:
        return False
    if a.village and a.village == b.village and a.township == b.township:
        return True
    return bool(a.road) and a.road == b.road


def is_candidate(
    category: str,
    address: Address,
    other_category: str,
    other_address: Address,
    other_status: Status,
    other_registered_at: datetime,
    now: datetime,
    window: timedelta = RELATED_WINDOW,
) -> bool:
    """Whether an existing case is offered for linking to the new one."""
    return (
        bool(category)
        and category == other_category
        and other_status in OPEN_STATUSES
        and now - window <= other_registered_at <= now + timedelta(minutes=5)
        and same_place(address, other_address)
    )


def group_of(case_uuid: str, related_to: str) -> str:
    """The group a case belongs to: its first case's uuid (its own when it is the first)."""
    return related_to or case_uuid
