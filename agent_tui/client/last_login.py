"""What the login form starts with, and the last server and user that logged in here.

Kept apart from ``session`` (which needs httpx and the wire models) so that the login form can
paint before those are imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LoginForm:
    """What the form starts with (the CLI fills it; empty fields take the remembered login)."""

    server_url: str = ""
    user_id: str = ""
    password: str = ""
    store_key: str = ""
    hint: str = ""


def _last_login_path(data_dir: Path) -> Path:
    return data_dir / "last_login.json"


def remember_login(data_dir: Path, server_url: str, user_id: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    _last_login_path(data_dir).write_text(
        json.dumps({"server": server_url, "user": user_id}), encoding="utf-8"
    )


def remembered_login(data_dir: Path) -> tuple[str, str]:
    """The server and user of the last successful login (empty strings if none)."""
    try:
        raw = json.loads(_last_login_path(data_dir).read_text(encoding="utf-8"))
        return str(raw.get("server", "")), str(raw.get("user", ""))
    except (OSError, ValueError, AttributeError):
        return "", ""
