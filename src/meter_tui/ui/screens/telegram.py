"""Telegram: the latest telegram object by object (OBIS code, name, description, value with its unit), what needs
attention in red, the selected object whole in a detail panel; `r` shows the raw bytes."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from meter_tui.services.views import ObjectRow, TelegramRequest, TelegramView
from meter_tui.ui.palette import colours
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.widgets.tables import show_rows

CODE = 11  # column widths; the value as wide as the widest value (within VALUE), the description what is left
NARROW = 100
NAME = {True: 15, False: 24}  # narrow (under NARROW columns) or not
VALUE = (12, 40)
CHROME = 2 * 4 + 3  # cell padding of the four columns, the panel's border and the scroll bar (one cell)


class TelegramScreen(MeterScreen):
    BINDINGS = [Binding("r", "toggle_raw", "Raw")]

    def compose(self) -> ComposeResult:
        yield from self.header()
        with Vertical(id="objects-panel", classes="panel"):
            yield DataTable(id="objects", cursor_type="row", zebra_stripes=True)
            yield Static("", id="raw", markup=False)
        with Vertical(id="detail-panel", classes="panel"):
            yield Static("", id="detail", markup=False)
        yield from self.footer()

    def on_mount(self) -> None:
        self.query_one("#objects-panel").border_title = "Telegram"
        self.query_one("#detail-panel").border_title = "Selected object"
        self.query_one("#raw").display = False
        self._rows: tuple[ObjectRow, ...] = ()
        self._widths = (0, 0)
        super().on_mount()

    def on_resize(self) -> None:
        self._columns()
        if self._rows:
            self._show_rows()

    def _columns(self) -> None:
        """Value before description, in order and in room: the value (what matters) as wide as the widest one,
        the description gets what is left (whole in the detail panel)."""
        name = NAME[self.size.width < NARROW]
        widest = max((len(row.value) for row in self._rows), default=VALUE[0])
        value = min(max(widest, VALUE[0]), VALUE[1], max(self.size.width - CODE - name - CHROME - 6, VALUE[0]))
        description = max(self.size.width - CODE - name - value - CHROME, 6)
        if (value, description) != self._widths:
            self._widths = (value, description)
            table = self.query_one("#objects", DataTable)
            table.clear(columns=True)
            table.add_column("OBIS", width=CODE)
            table.add_column("Name", width=name)
            table.add_column("Value", width=value)
            table.add_column("Description", width=description)

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
        panel = self.query_one("#objects-panel")
        crc = f"CRC {telegram.crc_status}" + (f" {telegram.crc:04X}" if telegram.crc is not None else "")
        panel.border_title = f"Telegram /{telegram.header}"
        panel.border_subtitle = f"{stamp} · {crc} · {len(telegram.objects)} objects · r raw"
        if self.query_one("#raw").display:
            self.query_one("#raw", Static).update(telegram.raw.decode("latin-1").replace("\r", ""))
            return
        self._rows = view.rows
        self._columns()
        self._show_rows()

    def _show_rows(self) -> None:
        alarm = colours(self.meter.dark)["alarm"]
        rows = [
            (row.code, row.label, Text(row.value, style=f"bold {alarm}" if row.attention else ""), row.description)
            for row in self._rows
        ]
        table = self.query_one("#objects", DataTable)
        show_rows(table, rows)
        self._detail(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    def _detail(self, index: int) -> None:
        if not 0 <= index < len(self._rows):
            return
        row = self._rows[index]
        self.query_one("#detail-panel").border_title = f"{row.code} {row.label}"
        self.query_one("#detail", Static).update(f"{row.description}\n{row.detail}")

    def action_toggle_raw(self) -> None:
        raw = self.query_one("#raw")
        raw.display = not raw.display
        self.query_one("#objects").display = not raw.display
        self.redraw()
