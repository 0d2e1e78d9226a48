"""Events: what happened, newest first, with the meter's time: history errors, rejected telegrams, prices saved,
workers restarted. The same events that came up as notifications, kept for whoever was away."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from meter_tui.ui.palette import colours
from meter_tui.ui.screens.base import MeterScreen

_MEANINGS = {"error": "alarm", "warning": "import"}


class EventsScreen(MeterScreen):
    SHOWS_EVENTS = True

    def compose(self) -> ComposeResult:
        yield from self.header()
        with Vertical(id="events-panel", classes="panel"):
            yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield from self.footer()

    def on_mount(self) -> None:
        self.query_one("#events-panel").border_title = "Events, newest first, at the meter's time"
        self.query_one("#events", DataTable).add_columns("Time", "", "What happened")
        self._shown = -1
        super().on_mount()

    def forget_drawn(self) -> None:
        self._shown = -1

    def redraw(self) -> None:
        super().redraw()
        log = self.meter.event_log
        if log.count == self._shown:
            return
        self._shown = log.count
        table = self.query_one("#events", DataTable)
        table.clear()
        for event in log.newest_first():
            meaning = _MEANINGS.get(event.severity)
            style = colours(self.meter.dark)[meaning] if meaning else ""
            table.add_row(f"{event.time:%d %b %H:%M:%S}", Text(event.severity[:4], style=style),
                          Text(event.text, style=style))  # fmt: skip
        if not log.count:
            table.add_row("", "", "Nothing has happened yet.")
