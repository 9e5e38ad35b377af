"""``agent_tui.server.asgi:app`` for multi-worker uvicorn: settings from the environment.

Each worker answers 503 "starting" at once while it makes its store (``boot.Booting``); the
migrations ran once in the parent (``agent-tui serve``), not in every worker.
"""

from __future__ import annotations

from typing import Any

from agent_tui.server.boot import Booting


def _make() -> Any:
    from agent_tui.config import Settings
    from agent_tui.server.app import create_app

    return create_app(Settings(), run_migrations=False)


app = Booting(_make)
