"""The English catalogue: every UI string has an entry, no entry is dead, t() formats and falls
back. The sources are read with ast: ``t("…")`` and ``N_("…")`` literals, plus the bindings'
descriptions and tooltips and the domain enums' labels."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.binding import Binding

import agent_tui
from agent_tui import i18n
from agent_tui.i18n import CONTEXT, N_, catalogue, either, pt, set_language, t

SOURCES = Path(agent_tui.__file__).parent
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
#: Modules whose Chinese literals are UI text: each one must go through t() / N_() / Binding.
UI_MODULES = [
    "app.py",
    "keys.py",
    "client/api.py",
    "client/session.py",
    "client/sync.py",
    *(f"screens/{p.name}" for p in sorted((SOURCES / "screens").glob("*.py"))),
    *(f"widgets/{p.name}" for p in sorted((SOURCES / "widgets").glob("*.py"))),
]


@pytest.fixture(autouse=True)
def _chinese_after() -> Iterator[None]:
    yield
    set_language("zh")


def _calls(tree: ast.AST, *names: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            yield node


def marked_literals() -> dict[str, str]:
    """Every ``t("…")`` / ``N_("…")`` literal in the package → where it is."""
    found: dict[str, str] = {}
    for path in sorted(SOURCES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree, "t", "N_"):
            if not call.args:
                continue
            arg = call.args[0]
            where = f"{path.relative_to(SOURCES)}:{call.lineno}"
            assert not isinstance(arg, ast.JoinedStr), f"{where}: t(f'…'): use a template"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, where)
    return found


def binding_texts() -> set[str]:
    from agent_tui.app import _import_screens

    _import_screens()  # every screen and widget, whatever ran before
    from agent_tui.keys import source_bindings

    texts = set()
    for bindings in source_bindings().values():
        for b in bindings:
            if isinstance(b, Binding):
                texts |= {b.description, b.tooltip} - {""}
    return texts


def enum_labels() -> set[str]:
    from agent_tui.domain.address import AddressLevel
    from agent_tui.domain.case import LabelledEnum, SupervisionLevel
    from agent_tui.domain.lifecycle import Step

    enums: list[type] = [*LabelledEnum.__subclasses__(), Step, AddressLevel, SupervisionLevel]
    return {m.label for e in enums for m in e}  # type: ignore[attr-defined]


def test_every_ui_string_has_an_english_entry() -> None:
    en = catalogue("en")
    needed = {**dict.fromkeys(binding_texts() | enum_labels(), "bindings/enums")}
    needed.update(marked_literals())
    missing = sorted(f"{where}: {text!r}" for text, where in needed.items() if text not in en)
    assert not missing, "no English for:\n" + "\n".join(missing)


def test_no_catalogue_entry_is_unused() -> None:
    bindings = binding_texts()
    used = set(marked_literals()) | bindings | enum_labels()
    used |= {f"binding{CONTEXT}{text}" for text in bindings}
    assert sorted(set(catalogue("en")) - used) == []


def test_entries_keep_the_fields_of_their_source() -> None:
    field = re.compile(r"\{(\w*)\}")
    for zh, en in catalogue("en").items():
        assert set(field.findall(zh)) == set(field.findall(en)), zh
        # Chinese may stay only where the source shows data as an example (jsl → 金山路).
        assert en.strip() and all(run in zh for run in re.findall(f"{CJK.pattern}+", en)), en


def test_no_bare_chinese_in_ui_modules() -> None:
    """Chinese text in the UI reaches the screen through t(), N_() or a Binding (translated
    by ``localize_bindings``); docstrings are not UI."""
    bare = []
    for name in UI_MODULES:
        tree = ast.parse((SOURCES / name).read_text(encoding="utf-8"))
        allowed: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                allowed.add(id(body[0].value))  # a docstring
        for call in _calls(tree, "t", "N_", "Binding"):
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                allowed |= {id(n) for n in ast.walk(arg) if isinstance(n, ast.Constant)}
        bare += [
            f"{name}:{n.lineno}: {n.value!r}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and CJK.search(n.value)
            and id(n) not in allowed
        ]
    assert not bare, "wrap in t():\n" + "\n".join(bare)


def test_t_formats_fields_and_falls_back() -> None:
    set_language("zh")
    assert t("默认主办：{name}", name="城管局") == "默认主办：城管局"
    assert t("没有这条译文 {n}", n=3) == "没有这条译文 3"
    assert t("{不是字段}") == "{不是字段}"  # no fields: no format, braces stay
    set_language("en")
    assert i18n.language() == "en"
    assert t("默认主办：{name}", name="城管局") == "Department: 城管局"
    assert t("来电号码") == "Caller phone"
    assert t("没有这条译文 {n}", n=3) == "没有这条译文 3"  # no entry: the Chinese
    assert N_("来电号码") == "来电号码"
    assert t("直接办结") == "Resolved on call"  # the status
    assert pt("binding", "直接办结") == "Resolve"  # the key
    assert pt("binding", "保存") == "Save"  # no [binding] entry: the plain one


def test_either_picks_the_message_of_the_language() -> None:
    set_language("zh")
    assert either("请填写诉求内容", "Content is required") == "请填写诉求内容"
    set_language("en")
    assert either("请填写诉求内容", "Content is required") == "Content is required"
    assert either("请填写诉求内容", "") == "请填写诉求内容"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        set_language("fr")  # type: ignore[arg-type]


def test_bindings_follow_the_language_and_come_back() -> None:
    from agent_tui.app import AgentTUI
    from agent_tui.keys import localize_bindings
    from agent_tui.screens.entry import CaseEntryScreen

    def description(cls: type, binding_id: str) -> str:
        merged = cls._merged_bindings  # type: ignore[attr-defined]
        return next(
            b.description
            for bs in merged.key_to_bindings.values()
            for b in bs
            if b.id == binding_id
        )

    set_language("en")
    localize_bindings()
    assert description(CaseEntryScreen, "entry.save") == "Save"
    assert description(AgentTUI, "app.quit") == "Quit"
    set_language("zh")
    localize_bindings()
    assert description(CaseEntryScreen, "entry.save") == "保存"
    assert description(AgentTUI, "app.quit") == "退出"


def test_key_table_in_english() -> None:
    from agent_tui.app import key_rows
    from agent_tui.keys import localize_bindings, markdown_table

    set_language("en")
    localize_bindings()
    table = markdown_table(key_rows())
    set_language("zh")
    localize_bindings()
    assert "| Key | Action | Notes | id |" in table
    assert "**Intake**" in table and "**General**" in table
    assert not CJK.search(table)
