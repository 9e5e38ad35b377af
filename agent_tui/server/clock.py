"""The clock jobs: supervision steps the store takes by itself as deadlines near and pass
(remind, notice, public notice; the rule is ``domain.deadlines.supervision_due``), written
through the same write path as a person's step, as the system actor.
"""

from __future__ import annotations

import uuid as uuid_mod
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from agent_tui import wire as S
from agent_tui.domain.calendar import Deadline, DeadlineUnit
from agent_tui.domain.case import OPEN_STATUSES, SupervisionLevel
from agent_tui.domain.deadlines import supervision_due
from agent_tui.domain.errors import DomainError
from agent_tui.domain.lifecycle import Step
from agent_tui.server.cases.common import Writer
from agent_tui.server.context import StoreContext
from agent_tui.server.errors import VersionConflict
from agent_tui.server.models import CaseRow
from agent_tui.server.tables import status_in
from agent_tui.server.visibility import SYSTEM


class ClockJobs:
    """``run_clock``: what the clock loop (``app``) and ``agent-tui clock`` run."""

    def __init__(self, ctx: StoreContext, writer: Writer) -> None:
        self.ctx = ctx
        self.writer = writer

    def run_clock(self, now: datetime | None = None) -> int:
        """Raise supervision on cases near or past their deadline; returns the steps taken.

        Safe with several workers: each step's command id is derived from the case, the level
        and the deadline, so a second worker doing the same finds it done (idempotency).
        """
        now = now or self.ctx.now()
        horizon = now + timedelta(days=3)  # no reminder is due further ahead than this
        with Session(self.ctx.engine) as session:
            candidates = session.exec(
                select(CaseRow).where(
                    status_in(OPEN_STATUSES),
                    col(CaseRow.handling_deadline) <= horizon,
                    col(CaseRow.replied_at).is_(None),
                    col(CaseRow.supervision) < int(SupervisionLevel.PUBLIC_NOTICE),
                )
            ).all()
        taken = 0
        steps = {
            SupervisionLevel.REMINDED: Step.REMIND,
            SupervisionLevel.NOTICE: Step.NOTICE,
            SupervisionLevel.PUBLIC_NOTICE: Step.PUBLIC_NOTICE,
        }
        for row in candidates:
            assert row.handling_deadline is not None
            deadline = Deadline(
                at=row.handling_deadline,
                start=row.deadline_start or row.dispatched_at or row.handling_deadline,
                amount=row.deadline_amount,
                unit=DeadlineUnit(row.deadline_unit) if row.deadline_unit else DeadlineUnit.FIXED,
                provisional=row.deadline_provisional,
            )
            due = supervision_due(now, deadline, self.ctx.calendar, self.ctx.policy)
            if due <= SupervisionLevel(row.supervision) or due not in steps:
                continue
            key = uuid_mod.uuid5(
                uuid_mod.NAMESPACE_URL,
                f"clock:{row.uuid}:{int(due)}:{row.handling_deadline.isoformat()}",
            )
            try:
                self.writer.apply_step(
                    SYSTEM, row.uuid, steps[due], S.StepBody(command_id=key, version=row.version)
                )
                taken += 1
            except (VersionConflict, DomainError):
                continue  # changed meanwhile: the next run looks again
        return taken
