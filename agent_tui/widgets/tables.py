"""Filling a DataTable with columns measured in terminal cells (汉字 count two), so that CJK
text lines up whatever the table would guess.

A table refreshed with the same shape (titles, widths, row keys) has only its changed cells
updated: the DataTable keeps its rendered lines for the rest (a rebuild renders every cell
through Rich again: ≈ 60 ms a board refresh, measured in docs/benchmarks.md).
"""

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
    """Show ``rows`` under ``titles``; each column as wide as its widest cell."""
    row_keys = list(keys) if keys is not None else [str(n) for n in range(len(rows))]
    widths = [
        max([cell_len(title), *(_width(r[i]) for r in rows if i < len(r))])
        for i, title in enumerate(titles)
    ]
    columns = list(table.columns.values())
    same_shape = (
        [str(c.label) for c in columns] == list(titles)
        and [c.width for c in columns] == widths
        and [k.value for k in table.rows] == row_keys
    )
    if same_shape:
        for key, row in zip(row_keys, rows, strict=True):
            for i, cell in enumerate(row):
                if table.get_cell(key, str(i)) != cell:
                    table.update_cell(key, str(i), cell)
        return
    cursor = table.cursor_coordinate
    at = None  # the row under the cursor stays under it, wherever it moved to
    if table.row_count and cursor.row < table.row_count:
        at = table.coordinate_to_cell_key(cursor).row_key.value
    table.clear(columns=True)
    for i, title in enumerate(titles):
        table.add_column(title, key=str(i), width=widths[i])
    for key, row in zip(row_keys, rows, strict=True):
        table.add_row(*row, key=key)
    if rows:
        index = row_keys.index(at) if at in row_keys else cursor.row
        table.cursor_coordinate = table.validate_cursor_coordinate(cursor._replace(row=index))
