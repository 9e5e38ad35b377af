"""Run the central store for the benchmark: one uvicorn worker, uvloop + httptools.

    python bench/server_launch.py --db-url URL --data-dir DIR --port PORT [--http h11]
                                  [--workers N]

With ``--workers N`` (PostgreSQL) uvicorn runs N worker processes of
``agent_tui.server.asgi:app``, which reads the same settings from the environment.

Settings come from the arguments (clock jobs off); migrations are not run (the bench did).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn

from agent_tui.config import Settings
from agent_tui.server.app import create_app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--db-url", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--http", default="httptools", choices=["httptools", "h11"])
    p.add_argument("--loop", default="uvloop", choices=["uvloop", "asyncio"])
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    app: Any
    if args.workers > 1:  # each worker imports the app, its settings from the environment
        os.environ.update(
            AGENT_TUI_DB_URL=args.db_url,
            AGENT_TUI_DATA_DIR=args.data_dir,
            AGENT_TUI_CLOCK_INTERVAL_SECONDS="0",
        )
        app = "agent_tui.server.asgi:app"
    else:
        settings = Settings(
            data_dir=Path(args.data_dir), db_url=args.db_url, clock_interval_seconds=0
        )
        app = create_app(settings, run_migrations=False, run_clock_jobs=False)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        http=args.http,
        loop=args.loop,
        log_level="warning",
        access_log=False,
        workers=args.workers,
    )


if __name__ == "__main__":
    main()
