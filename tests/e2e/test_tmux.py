"""The real program in a real terminal: tmux runs ``agent-tui``; send-keys types, capture-pane
reads the screen."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_tui.server.embedded import free_port

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
    # A small demo store keeps the first-run seed short.
    yield from _session(tmp_path, f"{AGENT_TUI} demo --cases 300")


@pytest.fixture
def lead_tmux(tmp_path: Path) -> Iterator[Tmux]:
    yield from _session(tmp_path, f"{AGENT_TUI} lead --demo --cases 300")


def _session(tmp_path: Path, program: str) -> Iterator[Tmux]:
    env = {
        **os.environ,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "TMUX_TMPDIR": str(tmp_path),  # a private tmux server, never the developer's
        "AGENT_TUI_DATA_DIR": str(tmp_path / "home"),
        # The demo's store on a port of its own, never a developer's demo on 8346.
        "AGENT_TUI_DEMO_PORT": str(free_port()),
    }
    env.pop("TMUX", None)
    session = f"agent-tui-{uuid.uuid4().hex[:8]}"
    t = Tmux(session, env)
    command = f"{program}; sleep 30"  # the pane outlives the program: a crash can be read
    t.run("new-session", "-d", "-s", session, "-x", "120", "-y", "36", command)
    try:
        yield t
    finally:
        subprocess.run(["tmux", "kill-server"], capture_output=True, env=env)


def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def cases_with(db: Path, content: str) -> list[tuple[str, str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT number, status, department FROM cases WHERE content = ?", (content,)
        ).fetchall()


def test_a_case_typed_in_the_demo_reaches_the_central_store(tmux: Tmux, tmp_path: Path) -> None:
    """``agent-tui`` (the demo) in tmux: log in, type a complaint with pinyin initials, dispatch it
    with F9, and find it dispatched in the central store's database."""
    tmux.wait_for("坐席登录", timeout=90)  # first run seeds the demo store
    tmux.wait_for("agent01")
    tmux.send("Enter")  # the demo fills in its account: Enter logs in over HTTP
    tmux.wait_for("来电号码")
    tmux.wait_for("在线")
    # At a person's pace: each field change lands before the next keys (a burst typed across a
    # field change can outrun Textual's focus change; see docs/benchmarks.md, key latency).
    tmux.send("-l", "13912345678")
    tmux.wait_for("首次来电")
    for keys in (["Enter"], ["3"], ["Enter"]):  # next field, 投诉, 一般
        tmux.send(*keys)
        time.sleep(0.3)
    tmux.send("-l", "zdjy")
    tmux.wait_for("占道经营")
    tmux.send("Enter")
    time.sleep(0.3)
    tmux.send("-l", "jsl")
    tmux.wait_for("金山路")
    for keys in (["Enter"], ["Enter"]):  # pick 金山路, no detail
        tmux.send(*keys)
        time.sleep(0.3)
    content = "北侧人行道有商户占道摆摊，影响通行"
    tmux.send("-l", content)
    time.sleep(0.3)
    tmux.send("Tab")
    tmux.wait_for("中心城区由市级单位办理")
    tmux.send("F9")
    db = Path(tmux.env["AGENT_TUI_DATA_DIR"]) / "demo" / "central.db"
    # The create and then the dispatch travel through the outbox, in that order.
    wait_until(lambda: [c[1] for c in cases_with(db, content)] == ["dispatched"])
    ((number, status, department),) = cases_with(db, content)
    assert number.startswith("ZMD-") and status == "dispatched" and department
    # F3: the queues; today's own cases list it with its number.
    tmux.send("F3")
    tmux.wait_for("今日我的")
    tmux.wait_for(number)
    # F4: the reference lookup, in the same terminal.
    tmux.send("F4")
    tmux.wait_for("资料查询")
    tmux.send("F1")
    tmux.wait_for("按键帮助")
    tmux.send("Escape", "C-q")
    wait_until(lambda: "资料查询" not in tmux.screen(), timeout=15)
    assert "Traceback" not in tmux.screen()


def test_the_lead_board_on_the_demo_store(lead_tmux: Tmux) -> None:
    """``agent-tui lead --demo`` in tmux: log in as the demo lead, the board's KPI tiles arrive
    from the replay process, the department pane and the demo's hot spot are there, and the
    KPI drill-down lists cases."""
    lead_tmux.wait_for("坐席登录", timeout=90)
    lead_tmux.send("Enter")
    lead_tmux.wait_for("班长看板", timeout=30)
    screen = lead_tmux.wait_for("按时办结率", timeout=30)
    assert "超期" in screen and "坐席在线" in screen
    deadline = time.monotonic() + 60
    while "计算中" in (screen := lead_tmux.screen()) or "%" not in screen:
        assert time.monotonic() < deadline, f"the tiles never came:\n{screen}"
        time.sleep(0.5)
    lead_tmux.send("k")  # the board opens on the overdue list; k moves to the KPI tiles
    lead_tmux.send("Enter")  # on the tiles: 按时办结率 today, the cases behind it
    lead_tmux.wait_for("Tab 切换")
    lead_tmux.send("Escape")
    lead_tmux.wait_for("坐席在线")  # the board again (a key sent at once would read as Alt+key)
    lead_tmux.send("2")
    lead_tmux.wait_for("承办单位")
    lead_tmux.send("7")
    lead_tmux.wait_for("24小时内")  # the demo's hot spot, with its rule


@pytest.fixture
def demo_tmux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tmux]:
    # The KPI tiles afresh on each request: the sign counts at once, not after the cache's 60 s.
    monkeypatch.setenv("AGENT_TUI_KPI_CACHE_SECONDS", "0")
    yield from _session(tmp_path, f"{AGENT_TUI} demo --cases 300")


def test_three_roles_in_three_terminals_on_one_demo_store(demo_tmux: Tmux) -> None:
    """The README's "three roles in three terminals": ``agent-tui demo`` (the store and an
    agent's seat), ``agent-tui seat --demo --user cgj`` (城管局's liaison) and ``agent-tui lead
    --demo`` join one store on the demo port. A case typed at the agent's seat is signed at the
    department's and counts on the lead's board (timely signing, today: the case is listed)."""
    agent = demo_tmux
    env = agent.env
    try:
        department = Tmux(f"{agent.session}-cgj", env)
        lead = Tmux(f"{agent.session}-lead", env)
        agent.wait_for("坐席登录", timeout=90)
        for t, program in (
            (department, f"{AGENT_TUI} seat --demo --user cgj"),
            (lead, f"{AGENT_TUI} lead --demo"),
        ):
            size = ("-x", "120", "-y", "36")
            t.run("new-session", "-d", "-s", t.session, *size, f"{program}; sleep 30")
        for t in (department, lead):
            t.wait_for("坐席登录", timeout=60)
            t.wait_for("cgj" if t is department else "lead01")
            t.send("Enter")
        agent.send("Enter")
        agent.wait_for("来电号码", timeout=60)
        agent.wait_for("在线")
        agent.send("-l", "13912345678")
        agent.wait_for("首次来电")
        # At a person's pace, slower than the first test's: three programs share two cores
        # here, and a key typed before the focus moved lands in the previous field.
        for keys in (["Enter"], ["3"], ["Enter"]):
            agent.send(*keys)
            time.sleep(0.8)
        agent.send("-l", "zdjy")
        agent.wait_for("占道经营")
        agent.send("Enter")
        time.sleep(0.8)
        agent.send("-l", "jsl")
        agent.wait_for("金山路")
        for keys in (["Enter"], ["Enter"]):
            agent.send(*keys)
            time.sleep(0.8)
        content = "三个终端：金山路北侧人行道有商户占道摆摊"
        agent.send("-l", content)
        time.sleep(0.8)
        agent.send("Tab")
        agent.wait_for("中心城区由市级单位办理")
        agent.send("F9")
        db = Path(env["AGENT_TUI_DATA_DIR"]) / "demo" / "central.db"
        wait_until(lambda: [c[1] for c in cases_with(db, content)] == ["dispatched"])
        ((number, _, dept),) = cases_with(db, content)
        assert dept == "CGJ"

        # The liaison's desk opens on 待签收: the case arrives through the feed.
        screen = department.wait_for(number, timeout=30)
        assert "待签收" in screen
        department.send("-l", number[-4:])  # typing filters the queue to the case
        time.sleep(0.5)
        department.send("Enter")
        department.wait_for("签收")
        department.send("1")  # step 1: sign
        wait_until(lambda: [c[1] for c in cases_with(db, content)] == ["in_progress"])

        # The agent's seat hears of it (a toast: 已派单 → 办理中).
        agent.wait_for("已派单 → 办理中")
        # The lead's board: three seats online, and today's timely-signing tile lists the case
        # among those that met it.
        lead.wait_for("坐席在线 3/3", timeout=60)
        lead.send("k")  # to the KPI tiles: 按时办结率, 回访率, 满意率, 解决率, 及时签收率
        time.sleep(0.5)
        for _ in range(4):
            lead.send("Down")
            time.sleep(0.2)
        lead.send("Enter")
        lead.wait_for("及时签收率 · 今日")
        lead.send("Tab")  # 未达标 → 达标
        lead.wait_for(number)
        assert "Traceback" not in agent.screen() + department.screen() + lead.screen()
    finally:
        for t in (agent, department, lead):
            with contextlib.suppress(subprocess.CalledProcessError):
                print(t.screen())
