"""The change feed: ``GET /changes?after=SEQ`` pages, their shared cache and the feed's head.

Every committed write appends a change row with the next change number (a case's, or a
reference set's new version). A page lists the changes after a position that the viewer may
see, each case once at its last change, as the case is now — or, to a reader that saw it
before a change and does not after it, a "withdrawn" change (drop it). Seats polling at the same
position share one page, computed once per (viewer scope, after, limit, head) and kept as
JSON; the head (the last change row) is read at most every 0.25 s per process, and at once
after a local write (``Feed`` listens to the store's commits).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui import wire as S
from agent_tui.server.codec import to_public
from agent_tui.server.context import StoreContext
from agent_tui.server.models import ChangeRow
from agent_tui.server.tables import CASES, CHANGES
from agent_tui.server.visibility import Actor, can_see, scope, scope_key


class Feed:
    """The feed's pages and head for this process."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        self._head, self._head_at = 0, 0.0
        self._pages: dict[tuple[Any, ...], tuple[bytes, S.ChangesPage]] = {}
        ctx.listeners.append(self._forget_head)

    def _forget_head(self) -> None:
        self._head_at = 0.0

    def changes(self, viewer: Actor, after: int, limit: int = 500) -> S.ChangesPage:
        """The feed after ``after``. Every seat polling at the same position gets the same
        page: it is computed once per (scope, after, head of the feed) and shared."""
        return self.changes_json(viewer, after, limit)[1]

    def cached_changes(
        self, viewer: Actor, after: int, limit: int = 500
    ) -> tuple[bytes, S.ChangesPage] | None:
        """The shared page if some seat already asked for it (no database, no thread): None
        when it was not, or when the head must be read again first."""
        head = self.fresh_head()
        return None if head is None else self._pages.get((scope(viewer), after, limit, head))

    def fresh_head(self, max_age: float = 0.25) -> int | None:
        """The head as this process last read it, if that is recent enough (no database);
        None when it must be read again (``head``, off the event loop)."""
        return self._head if time.monotonic() - self._head_at <= max_age else None

    def changes_json(
        self, viewer: Actor, after: int, limit: int = 500
    ) -> tuple[bytes, S.ChangesPage]:
        """The page and its JSON, serialised once for every seat at the same position."""
        head = self.head()
        key = (scope(viewer), after, limit, head)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        page = self._changes(viewer, after, limit)
        answer = (page.model_dump_json().encode(), page)
        if page.last_seq <= head:  # a page computed against a newer head is not cached
            if len(self._pages) > 256:
                self._pages.clear()
            self._pages[key] = answer
        return answer

    def head(self, max_age: float = 0.25) -> int:
        """The last change number, read from the database at most every ``max_age`` seconds
        per process (local writes refresh it at once): idle long-polls cost no queries."""
        at = time.monotonic()
        if at - self._head_at > max_age:
            self._head = self.last_seq()
            self._head_at = at
        return self._head

    def _changes(self, viewer: Actor, after: int, limit: int) -> S.ChangesPage:
        now = self.ctx.now()
        with Session(self.ctx.engine) as session:
            rows = session.exec(
                select(ChangeRow)
                .where(col(ChangeRow.seq) > after)
                .order_by(col(ChangeRow.seq))
                .limit(limit)
            ).all()
            if not rows:
                return S.ChangesPage(changes=[], last_seq=after)
            case_ids = {r.case_id for r in rows if r.kind == "case" and r.case_id is not None}
            cases: dict[int, Any] = {}
            if case_ids:
                for found in session.execute(
                    sa.select(CASES).where(CASES.c.id.in_(case_ids))
                ).all():
                    cases[found.id] = found
        out: list[S.Change] = []
        emitted: set[int] = set()
        # The cases this reader lost sight of in this batch (they are told to drop them).
        me = scope_key(viewer)
        lost = {r.case_id for r in rows if r.withdrawn_from and me in r.withdrawn_from.split(";")}
        # Newest first so each case appears once, at its last change in this batch.
        for r in reversed(rows):
            if r.kind == "case":
                c = cases.get(r.case_id or -1)
                if c is None or r.case_id in emitted:
                    continue
                if can_see(viewer, c):
                    emitted.add(r.case_id or -1)
                    out.append(S.Change(seq=r.seq, kind="case", case=to_public(c, viewer, now)))
                elif r.case_id in lost:
                    emitted.add(r.case_id or -1)
                    out.append(S.Change(seq=r.seq, kind="withdrawn", name=c.uuid))
            else:
                out.append(S.Change(seq=r.seq, kind=r.kind, name=r.name, version=r.version))
        out.reverse()
        return S.ChangesPage(changes=out, last_seq=rows[-1].seq)

    def last_seq(self) -> int:
        """The feed's head: the last change row's number. (Not the counter: a PostgreSQL step
        that lost its race leaves a number unused, see ``cases.postgres._step_sql``.)"""
        with self.ctx.engine.connect() as connection:
            value = connection.execute(_LAST_CHANGE).scalar()
            return int(value or 0)


_LAST_CHANGE = sa.select(sa.func.max(CHANGES.c.seq))
