"""Benchmark the seat terminal: cold start, keystroke latency, keys per case, memory.

    python bench/bench_seat_ui.py           # full: 100,000-entry address book, 7 cold starts
    python bench/bench_seat_ui.py --quick   # 20,000 entries, 3 cold starts, fewer keys

Everything runs against a real central store (``agent-tui serve``, SQLite, in a child process)
with the agent ``agent01`` seeded, on a deterministic synthetic address book written as a CSV
(the generator of ``bench_address_search.py``) and read through ``Settings(address_book=...)``.

1. *Cold start*: a fresh process in a pseudo-terminal (120×36), real Linux driver. Two probes:
   ``agent-tui seat --server URL --user agent01`` (password from ``AGENT_TUI_PASSWORD``) as a
   black box, timed from just before the spawn to the first bytes on the terminal that carry
   its first screen (the login form's title 坐席登录, or the entry form's first label 来电号码),
   and, from the login form, Enter to the entry form; and ``bench/seat_ui_child.py``, which
   runs ``make_app(settings, seat).run()`` (a seat given: no login form) and stamps each stage
   up to the first frame written with the entry screen current and ``#caller_phone`` focused.
   Both with the packaged data only and with the address book.
2. *Memory*: VmRSS (and VmHWM, the peak) of the instrumented child at that first frame.
3. *Keystroke latency*: in this process, ``app.run_test(size=(120, 36))`` with the address book;
   Pilot presses the keys of realistic queries in ``#address-input`` and ``#category-input``
   (汉字 one character at a time, pinyin initials, then backspaces back to empty). Pilot's own
   waits are not measured: the latency is from the key event being sent to the app to the end of
   the first frame rendered after the pick-list got its new options (``OptionList.set_options``
   wrapped to stamp the time, ``App._display`` wrapped to stamp each frame). Headless Textual
   skips turning a frame into terminal bytes, so the wrapper does that too
   (``CompositorUpdate.render_segments``) and the cost is included.
4. *Keys per case*: a Pilot script enters and dispatches a typical complaint (as
   ``tests/pilot/test_entry.py``), counting every key that is not content, and checks the case
   reached the central store, dispatched.

Writes ``bench/results/seat_ui.json`` and prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import json
import os
import pickle
import platform
import pty
import random
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_address_search import synthetic_book
from percentiles import percentile

from agent_tui.data.addresses import load_gazetteer, write_address_csv
from agent_tui.domain.address import AddressLevel

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "seat_ui.json"
CHILD = HERE / "seat_ui_child.py"
SEED = 20261127
USER, LEAD, PASSWORD = "agent01", "lead01", "bench1234"
SIZE = (120, 36)


# -- the central store ----------------------------------------------------------------------------


def start_central(workdir: Path) -> Any:
    """Seed the reference data and two users, then ``agent-tui serve`` in a child process."""
    from sqlmodel import Session

    from agent_tui.config import Settings
    from agent_tui.domain.case import Role
    from agent_tui.server.auth import hash_password
    from agent_tui.server.db import make_engine
    from agent_tui.server.embedded import ServerProcess
    from agent_tui.server.models import UserRow
    from agent_tui.server.seed import seed_database

    data = workdir / "central"
    data.mkdir(parents=True)
    settings = Settings(data_dir=data, clock_interval_seconds=0)
    seed_database(settings, demo=False)
    engine = make_engine(settings.database_url())
    h = hash_password(PASSWORD)
    with Session(engine) as session, session.begin():
        for user_id, role in ((USER, Role.AGENT), (LEAD, Role.LEAD)):
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    password_hash=h,
                    created_at=datetime.now(UTC),
                )
            )
    engine.dispose()
    server = ServerProcess(settings.database_url(), data)
    server.start()
    return server


def write_book(path: Path, size: int) -> list[str]:
    """Write the synthetic book as the centre's CSV; returns the names in it."""
    gazetteer = load_gazetteer()
    counties = sorted({e.county for e in gazetteer})
    villages = [e.name for e in gazetteer if e.level is AddressLevel.VILLAGE]
    book = synthetic_book(size, counties, villages)
    write_address_csv(book, path)
    return [e.name for e in book]


# -- cold start in a pseudo-terminal --------------------------------------------------------------


#: What each screen shows first: its title or first field label (only that screen has it).
LOGIN_MARKER = "坐席登录".encode()
ENTRY_MARKER = "来电号码".encode()


def run_in_pty(
    argv: Sequence[str],
    env: dict[str, str],
    script: Sequence[tuple[Sequence[bytes], bytes]] = (),
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Spawn ``argv`` on a fresh 120×36 pty and follow ``script``.

    Each step waits for any of its markers in the output written since the previous step, notes
    the time (seconds from just before the spawn) and which marker, then sends its keys. After
    the last step the process is expected to exit (the last keys are ctrl+q); without a script
    it runs until it exits by itself.
    """
    master, slave = pty.openpty()
    rows, cols = SIZE[1], SIZE[0]
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**env, "BENCH_T0": repr(time.time())}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    out = bytearray()
    seen: list[tuple[float, bytes]] = []
    since = 0  # output offset where the current step starts looking
    deadline = t0 + timeout
    try:
        while time.perf_counter() < deadline:
            r, _, _ = select.select([master], [], [], 0.02)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if len(seen) < len(script):
                markers, keys = script[len(seen)]
                found = next((m for m in markers if m in out[since:]), None)
                if found is not None:
                    seen.append((time.perf_counter() - t0, found))
                    time.sleep(0.2)  # let the screen settle, as a person would
                    since = len(out)
                    os.write(master, keys)
            if proc.poll() is not None:
                with contextlib.suppress(OSError):
                    while select.select([master], [], [], 0.05)[0]:
                        chunk = os.read(master, 65536)
                        if not chunk:
                            break
                        out += chunk
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        os.close(master)
    return {"seen": seen, "rc": proc.returncode, "out": bytes(out)}


def cli_start(url: str, env: dict[str, str]) -> dict[str, Any]:
    """``agent-tui seat``: to the first screen (login or entry); if login, Enter, to entry."""
    exe = Path(sys.executable).with_name("agent-tui")
    first = (LOGIN_MARKER, ENTRY_MARKER)
    r = run_in_pty(
        [str(exe), "seat", "--server", url, "--user", USER],
        env,
        [(first, b"\r"), ((ENTRY_MARKER,), b"\x11")],  # Enter logs in with the filled form
    )
    seen = r["seen"]
    if not seen:
        raise RuntimeError(f"agent-tui seat showed no screen: {r['out'][-300:]!r}")
    out: dict[str, Any] = {"first_screen_s": seen[0][0]}
    out["first_screen"] = "entry" if seen[0][1] == ENTRY_MARKER else "login"
    if out["first_screen"] == "entry":
        out["entry_s"] = seen[0][0]
    elif len(seen) > 1:
        out["entry_s"] = seen[1][0]
        # the 0.2 s pause before Enter is not the program's
        out["login_to_entry_s"] = seen[1][0] - seen[0][0] - 0.2
    return out


def cold_starts(
    url: str, workdir: Path, runs: int, book: Path | None, label: str
) -> dict[str, Any]:
    """Alternate the black-box CLI and the instrumented child, ``runs`` of each."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENT_TUI_", "TEXTUAL")) and k != "NO_COLOR"
    }
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        LANG="C.UTF-8",
        AGENT_TUI_CONFIG=str(workdir / "no-config.toml"),
        AGENT_TUI_PASSWORD=PASSWORD,
    )
    cli: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    for i in range(runs):
        data = workdir / f"seat-{label}-{i}"
        data.mkdir()
        cli_env = {**env, "AGENT_TUI_DATA_DIR": str(data / "cli")}
        if book is not None:
            cli_env["AGENT_TUI_ADDRESS_BOOK"] = str(book)
        cli.append(cli_start(url, cli_env))
        out = data / "child.json"
        argv = [sys.executable, str(CHILD), str(out), url, USER, PASSWORD, str(data / "child")]
        if book is not None:
            argv.append(str(book))
        r = run_in_pty(argv, env)
        if not out.exists():
            raise RuntimeError(f"seat_ui_child.py failed: {r['out'][-500:]!r}")
        stages.append(json.loads(out.read_text(encoding="utf-8")))
        print(
            f"  cold start {label} #{i + 1}: cli {cli[-1]}, "
            f"child entry_ready {stages[-1]['entry_ready']:.3f} s",
            flush=True,
        )
    return {"cli": cli, "child": stages}


# -- keystroke latency (in process, Pilot) --------------------------------------------------------


class FrameClock:
    """Stamps every frame and every ``set_options`` of the pick-lists."""

    def __init__(self) -> None:
        self.frames: list[float] = []  # end of each frame written
        self.frame_starts: list[float] = []  # start of the screen update that wrote it
        self.tick_start = 0.0
        self.render_ms: list[float] = []
        self.last_options = 0.0
        self.search_ms: list[float] = []
        self.gc: list[tuple[int, float, float]] = []  # (generation, start, end)
        self._gc_start = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc.append((info["generation"], self._gc_start, time.perf_counter()))

    def gc_in(self, start: float, end: float) -> tuple[float, int]:
        """Milliseconds of garbage collection within [start, end], and its oldest generation."""
        hits = [(g, a, b) for g, a, b in self.gc if a < end and b > start]
        return sum(b - a for _, a, b in hits) * 1000, max((g for g, _, _ in hits), default=-1)

    def install(self) -> None:
        gc.callbacks.append(self._on_gc)
        from textual.app import App
        from textual.screen import Screen

        display = App._display
        on_timer_update = Screen._on_timer_update
        self._originals = (display, on_timer_update)
        clock = self

        def timed_timer_update(screen: Screen[Any]) -> None:
            clock.tick_start = time.perf_counter()
            try:
                on_timer_update(screen)
            finally:
                clock.tick_start = 0.0

        def timed_display(app: App[Any], screen: Any, renderable: Any) -> None:
            t = time.perf_counter()
            display(app, screen, renderable)
            if renderable is None or app._batch_count:
                return
            if app.is_headless and hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)  # the bytes a terminal would get
            now = time.perf_counter()
            clock.render_ms.append((now - t) * 1000)
            clock.frames.append(now)
            clock.frame_starts.append(clock.tick_start or t)

        App._display = timed_display  # type: ignore[method-assign]
        Screen._on_timer_update = timed_timer_update  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from textual.app import App
        from textual.screen import Screen

        App._display, Screen._on_timer_update = self._originals  # type: ignore[method-assign]
        gc.callbacks.remove(self._on_gc)

    def watch(self, picker: Any) -> None:
        from textual.widgets import OptionList

        options = picker.query_one(OptionList)
        set_options = options.set_options
        clock = self

        def timed_set_options(items: Any) -> Any:
            result = set_options(items)
            clock.last_options = time.perf_counter()
            return result

        options.set_options = timed_set_options
        searcher = getattr(picker, "_searcher", None)
        if callable(searcher):  # the search alone, for the breakdown

            def timed_search(query: str) -> Any:
                t = time.perf_counter()
                hits = searcher(query)
                clock.search_ms.append((time.perf_counter() - t) * 1000)
                return hits

            picker._searcher = timed_search


def typing_plan(names: Sequence[str], count: int, rng: random.Random) -> list[list[str]]:
    """Per query the keys typed: 2–4 汉字 or pinyin initials, then backspace to empty."""
    from agent_tui.domain.search import text_pinyin

    plans: list[list[str]] = []
    while len(plans) < count:
        name = rng.choice(names)
        size = rng.randint(2, 4)
        if rng.random() < 0.5:
            keys = list(name[:size])
            if len(keys) < 2 or not all("\u4e00" <= c <= "\u9fff" for c in keys):
                continue
        else:
            initials = text_pinyin(name)[1][:size]
            if len(initials) < 2 or not initials.isalpha():
                continue
            keys = list(initials)
        plans.append(keys + ["backspace"] * len(keys))
    return plans


async def type_and_time(
    pilot: Any, clock: FrameClock, field: str, plans: list[list[str]]
) -> list[dict[str, Any]]:
    from textual.widgets import Input

    app = pilot.app
    app.screen.query_one(f"#{field}-input", Input).focus()
    await pilot.pause()
    rows: list[dict[str, Any]] = []
    for plan in plans:
        for key in plan:
            frames_before = len(clock.frames)
            searches_before = len(clock.search_ms)
            clock.last_options = 0.0
            t0 = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            harness_ms = (time.perf_counter() - t0) * 1000
            # Wait (outside the measured span) for the frame that shows the new options.
            deadline = time.perf_counter() + 2.0
            while time.perf_counter() < deadline:
                done = clock.last_options and any(
                    f >= clock.last_options for f in clock.frames[frames_before:]
                )
                if done:
                    break
                await asyncio.sleep(0.01)
            if not clock.last_options:
                raise RuntimeError(f"{field}: key {key!r} did not update the pick-list")
            i = next(
                i
                for i in range(frames_before, len(clock.frames))
                if clock.frames[i] >= clock.last_options
            )
            shown, frame_start = clock.frames[i], clock.frame_starts[i]
            rows.append(
                {
                    "key": key,
                    "kind": "backspace"
                    if key == "backspace"
                    else ("hanzi" if "\u4e00" <= key <= "\u9fff" else "initial"),
                    "latency_ms": (shown - t0) * 1000,
                    "options_ms": (clock.last_options - t0) * 1000,
                    "search_ms": sum(clock.search_ms[searches_before:]),
                    # waiting for the screen's next update tick (60 fps cap) and other messages
                    "wait_ms": max(0.0, frame_start - clock.last_options) * 1000,
                    # layout, compositor and terminal bytes of that frame
                    "frame_ms": (shown - max(frame_start, clock.last_options)) * 1000,
                    "render_ms": clock.render_ms[i],
                    "gc_ms": clock.gc_in(t0, shown)[0],
                    "gc_generation": clock.gc_in(t0, shown)[1],
                    "harness_ms": harness_ms,
                }
            )
    return rows


def latency_stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


# -- keys per case --------------------------------------------------------------------------------


async def enter_a_case(pilot: Any, central_db: str) -> dict[str, Any]:
    """Phone, complaint, category by initials, address by initials, content, F9 — counted."""
    from textual.widgets import Input

    app = pilot.app
    screen = app.screen
    screen.action_clear()  # the latency runs left the form dirty: start as after a save
    await pilot.pause()
    seat = app.seat
    outbox_before = seat.store.outbox_length()
    log: list[tuple[str, bool]] = []  # (key, is content)

    async def content(text: str) -> None:
        log.extend((c, True) for c in text)
        await pilot.press(*text)

    async def key(*keys: str) -> None:
        log.extend((k, False) for k in keys)
        await pilot.press(*keys)

    async def pick(query: str, field: str, want: str) -> None:
        """Type the query, then arrow down to ``want`` if it is not the top hit (counted)."""
        await content(query)
        await pilot.pause()
        picker = screen.query_one(f"#{field}")
        hits = [h.label for h in getattr(picker, "_hits", ())]
        if want in hits:
            for _ in range(hits.index(want)):
                await key("down")
        await key("enter")
        await pilot.pause()
        got = screen.query_one(f"#{field}-input", Input).value
        if got != want:
            raise RuntimeError(f"{field}: {query!r} picked {got!r}, wanted {want!r}")

    phone = "13912345678"
    text = "北侧人行道有商户摆摊"
    await content(phone)
    await key("enter")  # → 诉求类型
    await key("3")  # 投诉 (moves on)
    await key("enter")  # 紧急程度: 一般 (moves on)
    await pick("zdjy", "category", "占道经营")
    await pick("jsl", "address", "金山路")
    await key("enter")  # 详细位置: none
    await content(text)
    await key("tab")  # → 主办单位, already routed from the category
    await pilot.pause()
    await key("f9")  # dispatch
    await pilot.pause()
    deadline = time.monotonic() + 20
    while seat.store.outbox_length() > outbox_before and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the feed
    reached = await asyncio.to_thread(find_case, central_db, phone, text)
    non_content = [k for k, is_content in log if not is_content]
    return {
        "non_content_keys": len(non_content),
        "non_content": non_content,
        "content_keys": sum(1 for _, c in log if c),
        "outbox_left": seat.store.outbox_length() - outbox_before,
        "case": reached,
    }


def find_case(db_url: str, phone: str, text: str) -> dict[str, Any] | None:
    from agent_tui.config import Settings
    from agent_tui.domain.case import Role
    from agent_tui.server.cases.reads import CaseFilter
    from agent_tui.server.db import make_engine
    from agent_tui.server.store import Store
    from agent_tui.server.visibility import Actor

    engine = make_engine(db_url)
    try:
        store = Store(engine, Settings(data_dir=Path(tempfile.gettempdir())))
        page = store.list_cases(Actor(LEAD, Role.LEAD), CaseFilter())
        for case in page.items:
            if case.content == text:
                return {
                    "number": case.number,
                    "status": str(case.status),
                    "department": case.department,
                    "category": case.category,
                    "road": case.address.road,
                    "caller_phone": case.caller_phone,
                }
        return None
    finally:
        engine.dispose()


async def ui_session(
    url: str,
    workdir: Path,
    book: Path,
    plans: dict[str, list[list[str]]],
    central_db: str,
    freeze_gc: bool = False,
) -> dict[str, Any]:
    """The entry screen under Pilot: typing latency in both searches, then one case.

    ``freeze_gc`` is an experiment, not the app: ``gc.freeze()`` once the indexes are built, so
    the collector stops walking the millions of index objects.
    """
    from agent_tui.app import make_app
    from agent_tui.client.seat import Seat
    from agent_tui.config import Settings
    from agent_tui.screens.entry import CaseEntryScreen

    gc.collect()  # start clean: what an earlier session left is not this one's garbage
    clock = FrameClock()
    clock.install()
    data = workdir / "seat-ui"
    settings = Settings(data_dir=data, address_book=book)
    seat = Seat(url, USER, PASSWORD, data)
    app = make_app(settings, seat)
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        out["start_in_process_s"] = time.perf_counter() - t0
        screen = app.screen
        if not isinstance(screen, CaseEntryScreen):
            raise RuntimeError(f"expected the entry screen, got {screen!r}")
        for field in ("address", "category"):
            clock.watch(screen.query_one(f"#{field}"))
        gc.collect()
        out["objects_tracked"] = len(gc.get_objects())
        if freeze_gc:
            gc.freeze()
        clock.gc.clear()  # only what happens while typing
        for field in ("category", "address"):  # warm-up: first paint of each list, caches
            await type_and_time(pilot, clock, field, plans[field][:2])
        out["latency"] = {}
        for field in ("address", "category"):
            out["latency"][field] = await type_and_time(pilot, clock, field, plans[field][2:])
            print(f"  typed {len(out['latency'][field])} keys in #{field}-input", flush=True)
        out["case"] = await enter_a_case(pilot, central_db)
        if not freeze_gc:
            out["index_pickle"] = pickle_experiment(getattr(screen, "ctx", None))
        out["gc"] = {
            "collections": [len([c for c in clock.gc if c[0] == g]) for g in (0, 1, 2)],
            "gen2_ms": [round((b - a) * 1000, 1) for g, a, b in clock.gc if g == 2],
        }
    if freeze_gc:
        gc.unfreeze()
    clock.uninstall()
    return out


def pickle_experiment(ctx: Any) -> dict[str, Any]:
    """What keeping the built address index on disk would cost to load (pickle, in memory)."""
    index = getattr(ctx, "addresses", None)
    if index is None:
        return {"error": "no address index found on the entry screen"}
    try:
        t = time.perf_counter()
        blob = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
        dump_s = time.perf_counter() - t
        loads = []
        for _ in range(3):
            gc.collect()
            t = time.perf_counter()
            pickle.loads(blob)
            loads.append(time.perf_counter() - t)
    except Exception as exc:  # an index that does not pickle is a finding, not a crash
        return {"error": repr(exc)}
    return {"mib": len(blob) / 2**20, "dump_s": dump_s, "load_s": loads}


# -- report ---------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "textual": version("textual"),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def cold_table(cold: dict[str, Any]) -> None:
    print("\nCold start, seconds from spawn (median (min–max) over runs)")
    print("\n`agent-tui seat --server URL --user agent01` on a pty (black box)")
    print("| data | runs | first screen | first screen on the pty | Enter → entry screen |")
    print("|---|---|---|---|---|")
    for label, cs in cold.items():
        cli = cs["cli"]
        kinds = "/".join(sorted({c["first_screen"] for c in cli}))
        logins = [c["login_to_entry_s"] for c in cli if "login_to_entry_s" in c]
        print(
            f"| {label} | {len(cli)} | {kinds} | {spread([c['first_screen_s'] for c in cli])} | "
            f"{spread(logins) if logins else '—'} |"
        )
    print("\n`make_app(settings, seat).run()` on a pty (bench/seat_ui_child.py), stage ends")
    print(
        "| data | runs | interpreter | imports | app built | on_mount | "
        "entry screen frame | VmRSS MiB | VmHWM MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, cs in cold.items():
        ch = cs["child"]

        def col(key: str, ch: list[dict[str, Any]] = ch) -> str:
            return spread([c[key] for c in ch])

        rss = [c["status_kib"]["VmRSS"] / 1024 for c in ch]
        hwm = [c["status_kib"]["VmHWM"] / 1024 for c in ch]
        print(
            f"| {label} | {len(ch)} | {col('main')} | {col('imported')} | {col('app_built')} | "
            f"{col('mount_end')} | {col('entry_ready')} | {statistics.median(rss):.0f} "
            f"({min(rss):.0f}–{max(rss):.0f}) | {statistics.median(hwm):.0f} |"
        )


def latency_table(name: str, ui: dict[str, Any]) -> None:
    print(f"\nKeystroke → frame with the new pick-list options, ms ({name})")
    print(
        "| search | keys | p50 | p95 | p99 | max | p50: key → options set (search) | "
        "wait for tick | frame | Pilot press+pause p50 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for field, rows in ui["latency"].items():
        for kind in ("all", "hanzi", "initial", "backspace"):
            sel = [r for r in rows if kind == "all" or r["kind"] == kind]
            if not sel:
                continue
            s = latency_stats([r["latency_ms"] for r in sel])

            def med(key: str, sel: list[dict[str, Any]] = sel) -> float:
                return statistics.median(r[key] for r in sel)

            print(
                f"| {field} ({kind}) | {s['n']} | {s['p50']:.1f} | {s['p95']:.1f} | "
                f"{s['p99']:.1f} | {s['max']:.1f} | {med('options_ms'):.1f} "
                f"({med('search_ms'):.2f}) | {med('wait_ms'):.1f} | {med('frame_ms'):.1f} | "
                f"{med('harness_ms'):.0f} |"
            )
    g = ui["gc"]
    print(
        f"GC collections gen0/1/2: {g['collections']}; gen2 pauses ms: {g['gen2_ms']}; "
        f"objects tracked after start: {ui['objects_tracked']:,}"
    )


def report(result: dict[str, Any]) -> None:
    print(f"\nmachine: {result['machine']}")
    print(f"TEXTUAL_FPS in the UI session: {result['fps']}")
    if result.get("cold"):
        cold_table(result["cold"])
    for name, ui in (("as is", result["ui"]), ("gc.freeze()", result.get("ui_gc_freeze"))):
        if ui is not None:
            latency_table(name, ui)
    print(f"\naddress index pickled: {result['ui'].get('index_pickle')}")
    case = result["ui"]["case"]
    print(
        f"\nKeys per case: {case['non_content_keys']} non-content "
        f"({' '.join(case['non_content'])}), {case['content_keys']} content; "
        f"reached the store: {case['case']}"
    )


def _write(out: Path, result: dict[str, Any]) -> bool:
    result["machine"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    if result.get("cold"):
        cold_table(result["cold"])
    print(f"\nwrote {out}")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k entries, 3 starts, fewer keys")
    parser.add_argument("--runs", type=int, help="cold starts per variant")
    parser.add_argument("--queries", type=int, help="typed queries per search field")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold starts")
    parser.add_argument("--cold-only", action="store_true", help="only the cold starts")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="also type with gc.freeze() after start (an experiment, side by side)",
    )
    parser.add_argument(
        "--fps", type=int, help="TEXTUAL_FPS for the UI session (Textual's default: 60)"
    )
    args = parser.parse_args(argv)
    if "textual" in sys.modules:
        raise RuntimeError("textual imported too early: TEXTUAL_FPS would not apply")
    if args.fps:
        os.environ["TEXTUAL_FPS"] = str(args.fps)
    size, runs, queries, book_runs = (20_000, 3, 8, 2) if args.quick else (100_000, 7, 60, 3)
    runs = args.runs or runs
    queries = args.queries or queries

    result: dict[str, Any] = {
        "machine": machine(),
        "book_entries": size,
        "fps": os.environ.get("TEXTUAL_FPS", "60 (default)"),
    }
    workdir = Path(tempfile.mkdtemp(prefix="bench-seat-ui-"))
    server = None
    try:
        book = workdir / "address_book.csv"
        t = time.perf_counter()
        book_names = write_book(book, size)
        result["book_entries"] = len(book_names)
        print(f"address book: {result['book_entries']} entries in {time.perf_counter() - t:.1f} s")
        server = start_central(workdir)
        central_db = f"sqlite:///{workdir / 'central' / 'central.db'}"
        result["cold"] = {}
        if not args.no_cold:
            result["cold"] = {
                "packaged data": cold_starts(server.url, workdir, runs, None, "packaged"),
                f"+ {size:,}-entry address book": cold_starts(
                    server.url, workdir, book_runs, book, "book"
                ),
            }

        if args.cold_only:
            return 0 if _write(args.out, result) else 1

        from agent_tui.data.indexes import default_reference
        from agent_tui.data.reference import ReferenceData

        rng = random.Random(SEED)
        ref: ReferenceData = default_reference()
        address_names = [e.name for e in load_gazetteer()] + book_names
        plans = {
            "address": typing_plan(address_names, queries + 2, rng),
            "category": typing_plan([c.name for c in ref.leaves()], queries + 2, rng),
        }
        result["ui"] = asyncio.run(ui_session(server.url, workdir, book, plans, central_db))
        if args.gc_freeze:
            result["ui_gc_freeze"] = asyncio.run(
                ui_session(server.url, workdir / "frozen", book, plans, central_db, True)
            )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["machine"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    report(result)
    case = result["ui"]["case"]
    print(f"\nwrote {args.out}")
    if case["case"] is None or case["outbox_left"]:
        print("the case did not reach the central store", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
