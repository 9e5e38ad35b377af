"""``agent_tui.server.asgi:app`` for multi-worker uvicorn: settings from the environment."""

from __future__ import annotations

from agent_tui.config import Settings
from agent_tui.server.app import create_app

# Migrations ran once in the parent (``agent-tui serve``), not in every worker.
app = create_app(Settings(), run_migrations=False)
