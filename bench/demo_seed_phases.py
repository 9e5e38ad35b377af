"""Where the demo's first seed spends its time (CPU seconds, 3 runs): generating 3,000 cases,
replaying them through the lifecycle, one argon2 hash, and ``seed_demo`` with its bulk inserts
through the ORM's bulk path (``session.execute(insert(Model), rows)``, as before issue 15)
against SQLAlchemy Core (``connection.execute(table.insert(), rows)``), and with the indexes
dropped during the inserts and built afterwards. docs/benchmarks.md ("The demo's first run").

    .venv/bin/python bench/demo_seed_phases.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

import agent_tui.server.seed as seed_module
from agent_tui.config import Settings
from agent_tui.demo import demo_users, generate_demo, replay
from agent_tui.server.auth import hash_password
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.models import CaseRow, ChangeRow, EventRow
from agent_tui.server.store import Store

MODELS = {"cases": CaseRow, "case_events": EventRow, "changes": ChangeRow}
INDEXED = "('cases', 'case_events', 'changes')"


class OrmBulkSession(Session):
    """``seed_demo`` as it was: each Core insert sent through the ORM's bulk path."""

    def connection(self, *args: Any, **kw: Any) -> Any:
        session = self

        class Orm:
            def execute(self, statement: Any, rows: Any) -> Any:
                return session.execute(sa.insert(MODELS[statement.table.name]), rows)

        return Orm()


def fresh_store() -> Store:
    d = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=d, db_url=f"sqlite:///{d / 'central.db'}")
    migrate(settings.database_url())
    store = Store(make_engine(settings.database_url()), settings)
    seed_module.seed_reference(store)
    return store


def cpu(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    now = datetime.now(UTC)
    found: dict[str, list[float]] = {}
    for _ in range(3):
        demo: list[Any] = []
        found.setdefault("generate_demo", []).append(
            cpu(lambda: demo.extend(generate_demo(now, count=3000)))  # noqa: B023
        )
        found.setdefault("replay", []).append(cpu(lambda: [replay(c) for c in demo]))  # noqa: B023
        found.setdefault("argon2, one hash", []).append(cpu(lambda: hash_password("demo1234")))
        store = fresh_store()
        seed_module.Session = OrmBulkSession  # type: ignore[misc]
        try:
            found.setdefault("seed_demo, ORM bulk", []).append(
                cpu(lambda: seed_module.seed_demo(store, 3000, now))  # noqa: B023
            )
        finally:
            seed_module.Session = Session  # type: ignore[misc]
        store = fresh_store()
        found.setdefault("seed_demo, Core", []).append(
            cpu(lambda: seed_module.seed_demo(store, 3000, now))  # noqa: B023
        )
        store = fresh_store()
        with store.engine.begin() as conn:
            indexes = conn.execute(
                sa.text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
                    f"NULL AND tbl_name IN {INDEXED}"
                )
            ).all()
            for name, _ in indexes:
                conn.execute(sa.text(f"DROP INDEX {name}"))
        found.setdefault("seed_demo, Core, no indexes", []).append(
            cpu(lambda: seed_module.seed_demo(store, 3000, now))  # noqa: B023
        )

        def build(store: Store = store, indexes: Any = indexes) -> None:
            with store.engine.begin() as conn:
                for _, sql in indexes:
                    conn.execute(sa.text(sql))

        found.setdefault("build those indexes after", []).append(cpu(build))
    print(f"demo accounts: {len(demo_users())} (one argon2 hash for all: one password)")
    for name, runs in found.items():
        listed = ", ".join(f"{r:.2f}" for r in runs)
        print(f"{name:30s} median {statistics.median(runs):.2f} s CPU  ({listed})")


if __name__ == "__main__":
    main()
