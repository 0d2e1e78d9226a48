"""Telegram: the latest telegram object by object, with the registry's names and descriptions, and what needs
attention highlighted; `r` shows the raw bytes."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from meter_tui.services.views import TelegramRequest, TelegramView
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.widgets.readout import Readout
from meter_tui.ui.widgets.tables import show_rows


class TelegramScreen(MeterScreen):
    BINDINGS = [Binding("r", "toggle_raw", "Raw")]

    def compose(self) -> ComposeResult:
        yield from self.header()
        yield Readout("", id="telegram-title")
        yield DataTable(id="objects", cursor_type="row", zebra_stripes=True)
        yield Static("", id="raw", markup=False)
        yield from self.footer()

    def on_mount(self) -> None:
        self.query_one("#objects", DataTable).add_columns("OBIS", "Name", "Value", "Description")
        self.query_one("#raw").display = False
        super().on_mount()

    def redraw(self) -> None:
        super().redraw()
        self.compute()

    @work(exclusive=True, group="telegram")
    async def compute(self) -> None:
        view = await self.fetch(TelegramRequest())
        if isinstance(view, TelegramView):
            self.show(view)

    def show(self, view: TelegramView) -> None:
        telegram = view.telegram
        stamp = telegram.timestamp.strftime("%Y-%m-%d %H:%M:%S") if telegram.timestamp else "no time"
        self.query_one("#telegram-title", Readout).show(
            f"/{telegram.header}  ·  {stamp}  ·  CRC {telegram.crc_status}"
            + (f" {telegram.crc:04X}" if telegram.crc is not None else "")
            + f"  ·  {len(telegram.objects)} objects"
        )
        if self.query_one("#raw").display:
            self.query_one("#raw", Static).update(telegram.raw.decode("latin-1").replace("\r", ""))
        else:
            # The value before the long description, so that it stays in view on an 80-column terminal.
            rows = [(row.code, row.label, Text(row.value, style="bold red" if row.attention else ""), row.description)
                    for row in view.rows]  # fmt: skip
            show_rows(self.query_one("#objects", DataTable), rows)

    def action_toggle_raw(self) -> None:
        raw = self.query_one("#raw")
        raw.display = not raw.display
        self.query_one("#objects").display = not raw.display
        self.redraw()
