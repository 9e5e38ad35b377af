"""The command line: real commands, sealed config."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agent_tui.app import key_rows
from agent_tui.cli import cli, readme_with_keys
from agent_tui.keys import markdown_table

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_readme_key_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == readme_with_keys(readme, markdown_table(key_rows())), (
        "README key table is stale: run `make readme`"
    )


def test_every_binding_has_an_id_and_a_chinese_description() -> None:
    for row in key_rows():
        assert row.id and "." in row.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in row.description)


def test_search_command_finds_by_initials() -> None:
    result = runner.invoke(cli, ["search", "byx", "-n", "3"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split("\t")[1] == "泌阳县"


def test_search_command_knows_county_plus_name() -> None:
    result = runner.invoke(cli, ["search", "泌阳 王庄", "-n", "5"])
    assert result.exit_code == 0
    paths = [line.split("\t")[1] for line in result.stdout.splitlines()]
    assert "泌阳县 › 官庄镇 › 王庄村" in paths
    assert all(p.startswith("泌阳县") for p in paths)


def test_search_command_says_when_nothing_matches() -> None:
    result = runner.invoke(cli, ["search", "泌阳 qqqqxx"])
    assert result.exit_code == 1
    assert result.stdout == "" and "无匹配地址" in result.output


def test_search_with_unknown_county_is_a_clear_error() -> None:
    result = runner.invoke(cli, ["search", "金山路", "--county", "火星县"])
    assert result.exit_code == 2
    assert "火星县" in result.output


def test_locate_config_follows_the_environment(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["locate", "config"])
    assert result.stdout.strip() == str(tmp_path / "config.toml")


def test_import_addresses_writes_the_address_book(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "level,county,township,village,name,aliases,source\nroad,驿城区,,,天中山大道,,centre\n",
        encoding="utf-8",
    )
    out = tmp_path / "book.csv"
    result = runner.invoke(cli, ["import-addresses", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "天中山大道" in out.read_text(encoding="utf-8")


def test_import_addresses_reports_a_bad_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "level,county,township,village,name,aliases,source\nplanet,驿城区,,,火星路,,x\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["import-addresses", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "导入失败" in result.output and "2" in result.output
