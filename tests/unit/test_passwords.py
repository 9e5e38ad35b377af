"""New passwords: the rules, the shipped common list, the centre's minimum, the CLI's refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent_tui.cli import cli
from agent_tui.server.passwords import common_passwords, password_problems

runner = CliRunner()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("12345678", "too_short"),  # issue 14: it was accepted
        ("1234567890", "sequence"),
        ("0987654321", "sequence"),
        ("abcdefghijk", "sequence"),
        ("qwertyuiop", "sequence"),
        ("1qaz2wsx3edc", "sequence"),
        ("aaaaaaaaaaaa", "repetitive"),
        ("ab12ab12ab12", "repetitive"),
        ("woainiwoaini", "repetitive"),
        ("1122112211221", "repetitive"),
        ("19861010", "too_short"),
        ("1986101012", "digits_only"),
        ("13912345678", "digits_only"),
        ("zhangsan-2026", "personal"),
        ("nasgnahz-2026", "personal"),
        ("woaini1314", "common"),
        ("password123", "common"),
        ("P@ssw0rd2024", "common"),
        ("iloveyou!!", "common"),
        ("qq123456789", "common"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, code: str) -> None:
    problems = password_problems(password, user_id="zhangsan", min_length=10)
    assert [p.code for p in problems] == [code]
    assert problems[0].field == "password" and problems[0].message and problems[0].message_en


@pytest.mark.parametrize(
    "password", ["Tianzhong-Shan-2026", "zmd 12345 热线 坐席", "x7#Lm2qP9v", "驿城区金山路骏达路"]
)
def test_good_passwords_pass(password: str) -> None:
    assert password_problems(password, user_id="zhangsan", min_length=8) == []


def test_the_centre_sets_the_minimum_length() -> None:
    assert password_problems("Huaihe-R-7", min_length=10) == []
    assert [p.code for p in password_problems("Huaihe-R-7", min_length=12)] == ["too_short"]
    assert "12" in password_problems("Huaihe-R-7", min_length=12)[0].message


def test_the_common_list_is_shipped_lower_case_and_long_enough() -> None:
    common = common_passwords()
    assert len(common) > 40_000
    assert {"12345678", "woaini1314", "1qaz2wsx", "password"} <= common
    assert all(len(p) >= 8 and p == p.lower() for p in common)


def test_user_add_refuses_a_weak_password_clearly(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    args = ["user", "add", "zhangsan", "--role", "agent", "--db", db, "--password"]
    result = runner.invoke(cli, [*args, "12345678"])
    assert result.exit_code == 2, result.output
    assert "密码至少 10 位" in result.output
    result = runner.invoke(cli, [*args, "woaini1314520"])
    assert result.exit_code == 2 and "常见密码" in result.output
    result = runner.invoke(cli, [*args, "Tianzhong-Shan-2026"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli, ["user", "passwd", "zhangsan", "--db", db, "--password", "zhangsan99"]
    )
    assert result.exit_code == 2 and "用户名" in result.output


def test_the_minimum_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_TUI_PASSWORD_MIN_LENGTH", "16")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    args = ["user", "add", "lisi", "--role", "agent", "--db", db, "--password"]
    result = runner.invoke(cli, [*args, "Tianzhong-2026"])
    assert result.exit_code == 2 and "密码至少 16 位" in result.output
    assert runner.invoke(cli, [*args, "Tianzhong-Shan-2026"]).exit_code == 0
