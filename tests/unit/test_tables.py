"""fill_table: CJK-measured columns; a refresh of the same shape updates cells in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from agent_tui.widgets.tables import fill_table


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def test_columns_fit_cjk_and_same_shape_updates_only_changed_cells() -> None:
    app = _TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        fill_table(table, ["单位", "件数"], [["市城管局", "3"], ["市住建局", "12"]], ["CGJ", "ZJJ"])
        assert [c.width for c in table.columns.values()] == [8, 4]  # 4 汉字 = 8 cells
        first_column = next(iter(table.columns.values()))

        updated: list[tuple[object, object]] = []
        original = table.update_cell
        table.update_cell = lambda r, c, v, **kw: (updated.append((r, c)), original(r, c, v, **kw))  # type: ignore[method-assign]
        fill_table(table, ["单位", "件数"], [["市城管局", "4"], ["市住建局", "12"]], ["CGJ", "ZJJ"])
        assert updated == [("CGJ", "1")]  # only the cell that changed
        assert next(iter(table.columns.values())) is first_column  # not rebuilt
        assert table.get_cell("CGJ", "1") == "4"

        # Another shape (a wider cell, a new row): rebuilt, cursor kept in range.
        table.cursor_coordinate = table.validate_cursor_coordinate((1, 0))
        fill_table(table, ["单位", "件数"], [[Text("驿城区政府", style="red"), "1"]], ["YCQ"])
        assert [c.width for c in table.columns.values()] == [10, 4]
        assert table.row_count == 1 and table.cursor_coordinate.row == 0


async def test_a_rebuild_keeps_the_cursor_on_its_row() -> None:
    app = _TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        table.cursor_type = "row"
        fill_table(table, ["号"], [["A"], ["B"], ["C"]], ["a", "b", "c"])
        table.cursor_coordinate = table.validate_cursor_coordinate((1, 0))  # on B
        fill_table(table, ["号"], [["新"], ["A"], ["B"], ["C"]], ["n", "a", "b", "c"])
        assert table.cursor_coordinate.row == 2  # still on B
        fill_table(table, ["号"], [["A"]], ["a"])
        assert table.cursor_coordinate.row == 0  # B is gone: clamped
