"""KPI replays in a process of their own.

A replay reads every event of every case active in the period and runs the domain's formulas
over them in Python: seconds for a month at 1,000,000 cases (docs/benchmarks.md). In the server
process that holds the interpreter lock for as long, and every request waits behind it; in a
process of its own (``Settings.kpi_processes``) the server keeps answering while it runs. The
process opens its own engine on the same database and answers ``reports.replay.replay`` calls
(``reports.kpis`` starts it; this module imports nothing of the store but the replay).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime

from sqlalchemy.engine import Engine

from agent_tui.domain.kpi import GroupBy, KpiReport
from agent_tui.server.db import make_engine
from agent_tui.server.reports.replay import CaseIds, replay_period
from agent_tui.server.visibility import Actor

_engine: Engine | None = None


def start(db_url: str, server: int) -> None:
    """The process's initializer: its own engine on the server's database, and a watch on the
    server: a server killed outright (SIGKILL, a crash) takes this process with it."""
    global _engine
    _engine = make_engine(db_url)
    # ``server`` is the pid that made this process: one killed while this process was still
    # starting has already handed it to another parent.
    threading.Thread(target=_follow, args=(server,), daemon=True).start()


def _follow(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)  # the server is gone: nobody will ask for a replay again


def replay(
    viewer: Actor, start: datetime, end: datetime, group_by: GroupBy, now: datetime
) -> tuple[KpiReport, CaseIds]:
    if _engine is None:
        raise RuntimeError("kpi_worker.start was not run in this process")
    return replay_period(_engine, viewer, start, end, group_by, now)
