"""The seat terminal as a fresh process, instrumented: run by ``bench_seat_ui.py`` in a pty.

    python bench/seat_ui_child.py OUT.json SERVER_URL USER PASSWORD DATA_DIR [ADDRESS_BOOK]

Runs the real seat terminal (``make_app(settings, seat).run()``, the real Linux driver on the
pty it is given) and writes to ``OUT.json`` when each stage ended, as seconds since the parent's
``time.time()`` just before it spawned this process (env ``BENCH_T0``): this script's first line
(interpreter start, site, venv), the imports, the app built (settings, seat store, API client),
``AgentTUI.on_mount`` (reference data and indexes, the address book if any), and the first frame
written to the terminal with the case-entry screen current and ``#caller_phone`` focused. Then it
reads VmRSS/VmHWM and quits. Nothing of the app is changed: ``on_mount`` and ``App._display`` are
wrapped to take the timestamps.
"""

import time

T_MAIN = time.time()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def proc_status() -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of this process in KiB."""
    out: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1])
    return out


def main() -> int:
    out_path, url, user, password, data_dir = sys.argv[1:6]
    book = sys.argv[6] if len(sys.argv) > 6 else ""
    t0 = float(os.environ.get("BENCH_T0", T_MAIN))
    marks: dict[str, Any] = {"main": T_MAIN - t0}

    from textual.app import App

    from agent_tui.app import AgentTUI, make_app
    from agent_tui.client.seat import Seat
    from agent_tui.config import Settings
    from agent_tui.screens.entry import CaseEntryScreen

    marks["imported"] = time.time() - t0
    marks["modules"] = len(sys.modules)

    settings = Settings(data_dir=Path(data_dir), address_book=Path(book) if book else None)
    seat = Seat(url, user, password, Path(data_dir))
    app = make_app(settings, seat)
    marks["app_built"] = time.time() - t0

    on_mount = AgentTUI.on_mount

    def timed_on_mount(self: AgentTUI) -> None:
        marks["mount_start"] = time.time() - t0
        on_mount(self)
        marks["mount_end"] = time.time() - t0

    display = App._display

    def timed_display(self: App[Any], screen: Any, renderable: Any) -> None:
        display(self, screen, renderable)
        if "first_frame" not in marks and renderable is not None:
            marks["first_frame"] = time.time() - t0
        if "entry_ready" in marks or renderable is None:
            return
        focused = self.screen.focused
        if isinstance(self.screen, CaseEntryScreen) and focused and focused.id == "caller_phone":
            marks["entry_ready"] = time.time() - t0
            marks["status_kib"] = proc_status()
            self.call_later(self.exit)

    AgentTUI.on_mount = timed_on_mount  # type: ignore[method-assign]
    App._display = timed_display  # type: ignore[method-assign]
    app.run()
    marks["exited"] = time.time() - t0
    Path(out_path).write_text(json.dumps(marks), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
