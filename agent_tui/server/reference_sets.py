"""Reference sets: the named JSON documents the seats cache (departments, categories, the
address book, the calendar …), each with a version and an ETag. Replacing one is a write:
it takes a change number, so the seats learn of the new version through the change feed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from agent_tui import wire as S
from agent_tui.data.reference import check_county_routing, county_rules_from_json
from agent_tui.domain.errors import ValidationFailed
from agent_tui.server.context import StoreContext
from agent_tui.server.errors import NotFound
from agent_tui.server.models import ChangeRow, ReferenceSetRow


class ReferenceSets:
    """List, read and replace the reference sets."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def reference_sets(self) -> list[S.ReferenceInfo]:
        with Session(self.ctx.engine) as session:
            rows = session.exec(select(ReferenceSetRow).order_by(col(ReferenceSetRow.name))).all()
            return [S.ReferenceInfo(name=r.name, version=r.version, etag=r.etag) for r in rows]

    def reference_set(self, name: str) -> ReferenceSetRow:
        with Session(self.ctx.engine) as session:
            row = session.get(ReferenceSetRow, name)
            if row is None:
                raise NotFound(f"没有名为 {name} 的参考数据", f"No reference set {name}")
            session.expunge(row)
            return row

    def check(self, name: str, body: Any) -> None:
        """``ValidationFailed`` (422) for a set the seats act on that would not work: the
        county routing table must name known counties, categories and units."""
        if name == "county_routing":
            errors = check_county_routing(county_rules_from_json(body), self.ctx.reference)
            if errors:
                raise ValidationFailed(errors)

    def put_reference_set(self, name: str, body: Any) -> S.ReferenceInfo:
        """Replace a reference set; seats learn of it through the change feed."""
        import hashlib

        self.check(name, body)
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, allow_nan=False)
        etag = hashlib.sha256(text.encode()).hexdigest()[:32]
        now = self.ctx.now()
        with self.ctx.write() as (session, seq):
            found = session.get(ReferenceSetRow, name)
            if found is None:
                row = ReferenceSetRow(name=name, version=1, etag=etag, body=text, updated_at=now)
            elif found.etag == etag:
                row = found
                unchanged = S.ReferenceInfo(name=name, version=row.version, etag=etag)
                session.rollback()
                return unchanged
            else:
                row = found
                row.version, row.etag, row.body, row.updated_at = row.version + 1, etag, text, now
            session.add(row)
            session.add(
                ChangeRow(seq=seq, kind="reference", name=name, version=row.version, at=now)
            )
            return S.ReferenceInfo(name=name, version=row.version, etag=etag)
