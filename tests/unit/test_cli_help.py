"""``agent-tui … --help``: every command's help rendered at 100 columns, in Chinese (the
default) and in English (the language setting): each line fits, no word is broken across
lines, no RST or Markdown markup, and every command and parameter has its help in the
language asked for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from rich.cells import cell_len
from typer.testing import CliRunner

from agent_tui.cli import command
from agent_tui.cli_help import HELP, help_text
from agent_tui.i18n import set_language, t

WIDTH = 100
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Words of the help that must stay whole on one line: options, settings, URLs, file names.
OPENS, CLOSES = re.compile(r"<[\w|]"), re.compile(r"[\w|\]]>(?!=)")
WORD = re.compile(r"[A-Za-z0-9_.:/@+<>-]{4,}")


def commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from commands(sub, (*path, name))


@pytest.fixture(params=["zh", "en"])
def language(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AGENT_TUI_LANGUAGE", request.param)
    yield request.param
    set_language("zh")


def invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    """``agent-tui ARGS`` as ``main`` runs it: the localized click command (typer's runner
    wants the Typer app and would build it afresh, without the translations)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda built: built)
        return CliRunner().invoke(command(), args, env=env, prog_name="agent-tui")


def render(args: list[str]) -> str:
    env = {"COLUMNS": str(WIDTH), "TERMINAL_WIDTH": str(WIDTH), "NO_COLOR": "1"}
    result = invoke([*args, "--help"], env)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_its_help_in_the_table() -> None:
    missing = []
    for path, cmd in commands(command()):
        where = " ".join(path)
        if help_text(where) is None:
            missing.append(f"{where or 'agent-tui'}: the command")
        for param in cmd.params:
            if help_text(where, param.name) is None:
                missing.append(f"{where}: {param.name}")
    assert not missing, "no help in agent_tui/cli_help.py for:\n" + "\n".join(missing)
    known = {" ".join(path) for path, _ in commands(command())}
    assert {path for path, _ in HELP} <= known, "help for a command that does not exist"


def test_every_help_fits_100_columns_unbroken_and_in_the_language(language: str) -> None:
    set_language(language)  # for t() below; command() sets it from the environment too
    for path, cmd in commands(command()):
        screen = render(list(path))
        lines = screen.splitlines()
        where = " ".join(path) or "agent-tui"
        too_wide = [line for line in lines if cell_len(line) > WIDTH]
        assert not too_wide, f"{where}: wider than {WIDTH}:\n" + "\n".join(too_wide)
        assert "``" not in screen and "`" not in screen, f"{where}: RST/Markdown markup"
        assert "…" not in screen, f"{where}: a help cut short:\n{screen}"
        # A metavar such as <address|category|department|knowledge> closes on its line.
        split = [line for line in lines if len(OPENS.findall(line)) != len(CLOSES.findall(line))]
        assert not split, f"{where}: a metavar broken across lines:\n" + "\n".join(split)
        texts = [help_text(" ".join(path))]
        texts += [help_text(" ".join(path), p.name or "") for p in cmd.params]
        for text in filter(None, texts):
            shown = t(text)
            if language == "en":
                assert not CJK.search(shown), f"{where}: Chinese in the English help: {shown}"
            else:
                assert CJK.search(shown), f"{where}: no Chinese in: {shown}"
            # Each word stays whole on one line (rich wraps between words, by display width).
            for word in WORD.findall(shown):
                assert any(word in line for line in lines), f"{where}: {word!r} broken:\n{screen}"
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert any(opt in line for line in lines), f"{where}: {opt} broken"
        title = "选项" if language == "zh" else "Options"
        assert title in screen or not cmd.params, f"{where}: panel title not in {language}"


def test_seed_prints_the_chinese_state_names(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    result = invoke(["seed", "--db", db, "--demo", "--cases", "100"])
    assert result.exit_code == 0, result.output
    counts = next(line for line in result.output.splitlines() if line.startswith("演示工单"))
    assert "已归档" in counts
    assert not re.search(r"[a-z_]{4,} \d", counts), counts  # no archived 78, in_progress 20
