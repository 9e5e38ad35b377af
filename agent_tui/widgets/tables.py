"""Filling a DataTable with columns measured in terminal cells (汉字 count two), so that CJK
text lines up whatever the table would guess."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(Text.from_markup(cell).plain)


def fill_table(
    table: DataTable[Cell],
    titles: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    keys: Sequence[str] | None = None,
) -> None:
    """Replace the table's columns and rows; each column as wide as its widest cell."""
    cursor = table.cursor_coordinate
    table.clear(columns=True)
    for i, title in enumerate(titles):
        width = max([cell_len(title), *(_width(r[i]) for r in rows if i < len(r))])
        table.add_column(title, key=str(i), width=width)
    for n, row in enumerate(rows):
        table.add_row(*row, key=keys[n] if keys else None)
    if rows:
        table.cursor_coordinate = table.validate_cursor_coordinate(cursor)
