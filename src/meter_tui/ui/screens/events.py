"""Events: what happened, newest first, with the meter's time: history errors, rejected telegrams, prices saved,
workers restarted. The same events that came up as notifications, kept for whoever was away; the selected one
whole in a panel below (a CRC mismatch's message is longer than any terminal's row)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from meter_tui.services.events import LoggedEvent
from meter_tui.ui.palette import colours
from meter_tui.ui.screens.base import MeterScreen

_MEANINGS = {"error": "alarm", "warning": "import"}


class EventsScreen(MeterScreen):
    SHOWS_EVENTS = True

    def compose(self) -> ComposeResult:
        yield from self.header()
        with Vertical(id="events-panel", classes="panel"):
            yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        with Vertical(id="event-panel", classes="panel"):
            yield Static("", id="event", markup=False)
        yield from self.footer()

    def on_mount(self) -> None:
        self.query_one("#events-panel").border_title = "Events, newest first, at the meter's time"
        self.query_one("#events-panel").border_subtitle = "↑↓ select"
        self.query_one("#event-panel").border_title = "Selected event"
        self.query_one("#events", DataTable).add_columns("Time", "", "What happened")
        self._shown = -1
        self._events: tuple[LoggedEvent, ...] = ()
        super().on_mount()

    def forget_drawn(self) -> None:
        self._shown = -1

    def redraw(self) -> None:
        super().redraw()
        log = self.meter.event_log
        if log.count == self._shown:
            return
        added, self._shown = log.count - max(self._shown, 0), log.count
        table = self.query_one("#events", DataTable)
        # The newest is on top: an event that was selected (below the top row) stays selected as new ones come.
        selected = table.cursor_row + added if table.cursor_row > 0 else 0
        table.clear()
        self._events = log.newest_first()
        for event in self._events:
            meaning = _MEANINGS.get(event.severity)
            style = colours(self.meter.dark)[meaning] if meaning else ""
            table.add_row(f"{event.time:%d %b %H:%M:%S}", Text(event.severity[:4], style=style),
                          Text(event.text, style=style))  # fmt: skip
        if not log.count:
            table.add_row("", "", "Nothing has happened yet.")
        if 0 < selected < table.row_count:
            table.move_cursor(row=selected)
        self._detail(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    def _detail(self, index: int) -> None:
        """The selected event whole: its time, its severity and all of its text, wrapped."""
        detail = self.query_one("#event", Static)
        if not 0 <= index < len(self._events):
            detail.update("Nothing has happened yet.")
            return
        event = self._events[index]
        detail.update(f"{event.time:%A %d %B %Y %H:%M:%S} · {event.severity}\n{event.text}")
