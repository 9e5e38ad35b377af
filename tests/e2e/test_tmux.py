"""The real program in a real terminal: tmux runs ``agent-tui``; send-keys types, capture-pane
reads the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

AGENT_TUI = Path(sys.executable).with_name("agent-tui")


class Tmux:
    def __init__(self, session: str, env: dict[str, str]) -> None:
        self.session = session
        self.env = env

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", *args], check=True, capture_output=True, text=True, env=self.env
        )
        return out.stdout

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-t", self.session, "-p")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; screen was:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "has-session", "-t", self.session], capture_output=True, env=self.env
            ).returncode
            == 0
        )


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    env = {
        **os.environ,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "TMUX_TMPDIR": str(tmp_path),  # a private tmux server, never the developer's
    }
    env.pop("TMUX", None)
    session = f"agent-tui-{uuid.uuid4().hex[:8]}"
    t = Tmux(session, env)
    command = f"{AGENT_TUI}; sleep 30"  # keep the pane after exit so a crash can be read
    t.run("new-session", "-d", "-s", session, "-x", "120", "-y", "36", command)
    try:
        yield t
    finally:
        subprocess.run(["tmux", "kill-server"], capture_output=True, env=env)


def test_type_pinyin_initials_in_a_real_terminal(tmux: Tmux) -> None:
    tmux.wait_for("资料查询")
    tmux.send("j", "s", "l")
    screen = tmux.wait_for("金山路与骏达路交叉口")
    assert "金山路" in screen
    # One burst, as a fast agent types: the mode switch must land before the letters.
    tmux.send("F3", "z", "d", "j", "y", "Enter")
    tmux.wait_for("默认主办")
    # Ctrl+L selects the query, so typing replaces it, even when keys arrive in one burst.
    tmux.send("C-l", "g", "j", "j")
    screen = tmux.wait_for("gjj")
    assert "zdjygjj" not in screen
    tmux.send("F1")
    tmux.wait_for("按键帮助")
    tmux.send("Escape")
    tmux.send("C-q")
    deadline = time.monotonic() + 10
    while "资料查询" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "资料查询" not in tmux.screen()
    assert "Traceback" not in tmux.screen()
