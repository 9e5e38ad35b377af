"""Cases: the write path and the case queries.

- ``common``: ``Writer``, what every write shares (checks, idempotency, versions, the
  domain step, the rows a write appends);
- ``sqlite``: ``SqliteWriter``, Core statements in a transaction holding the change number;
- ``postgres``: ``PostgresWriter``, each write one hand-written statement;
- ``reads``: ``CaseReads`` and ``CaseFilter``, one case, the queues, a caller's history.

``writer_for`` picks the writer for the engine's dialect.
"""

from __future__ import annotations

from agent_tui.server.cases.common import Writer
from agent_tui.server.cases.postgres import PostgresWriter
from agent_tui.server.cases.sqlite import SqliteWriter
from agent_tui.server.context import StoreContext


def writer_for(ctx: StoreContext) -> Writer:
    """PostgreSQL writes in one statement each; every other dialect (SQLite) in Core."""
    if ctx.engine.dialect.name == "postgresql":
        return PostgresWriter(ctx)
    return SqliteWriter(ctx)
