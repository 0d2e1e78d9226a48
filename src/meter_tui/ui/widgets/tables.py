"""Tables that a telegram a second refills: only the cells that changed are rewritten."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable


def show_rows(table: DataTable, rows: Sequence[Sequence[RenderableType]]) -> None:
    """Show `rows`, keyed by their first cell. While the keys stay the same (a meter sends the same objects and
    phases every second) only changed cells are updated: clearing and refilling costs several times more. When
    they change, the table is rebuilt and keeps its cursor row."""
    keys = [table.get_cell_at(Coordinate(index, 0)) for index in range(table.row_count)]
    if keys != [row[0] for row in rows]:
        cursor = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(*row)
        if 0 <= cursor < table.row_count:
            table.move_cursor(row=cursor)
        return
    for index, row in enumerate(rows):
        for column, value in enumerate(row):
            if not _same(table.get_cell_at(Coordinate(index, column)), value):
                table.update_cell_at(Coordinate(index, column), value)


def _same(shown: object, value: object) -> bool:
    """rich's Text compares text and spans but not its own style: a value turning red must count as a change."""
    if isinstance(shown, Text) and isinstance(value, Text):
        return (shown.plain, shown.style, shown.spans) == (value.plain, value.style, value.spans)
    return shown == value
