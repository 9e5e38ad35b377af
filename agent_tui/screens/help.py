"""F1 help, built from the bindings that are active now (never a hand-written key table)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agent_tui.i18n import t
from agent_tui.keys import KeyRow, format_key, group_rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "关闭帮助", id="help.close")]

    def __init__(self, rows: list[KeyRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        parts = [t("[b]按键帮助[/b]（Esc 关闭）")]
        for group, rows in group_rows(self.rows).items():
            parts.append(f"\n[b]{t(group)}[/b]")
            for row in rows:
                parts.append(f"  {format_key(row.key):<14}{row.description}  [dim]{row.tooltip}[/]")
        with VerticalScroll(id="help"):
            yield Static("\n".join(parts), id="help-text")
