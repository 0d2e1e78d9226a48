"""Telegram: the latest telegram object by object, with the registry's names and descriptions, and what needs
attention highlighted; `r` shows the raw bytes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from meter_tui.p1.obis import describe
from meter_tui.p1.telegram import Telegram, values_of
from meter_tui.p1.values import decode_octets
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.widgets.readout import Readout
from meter_tui.ui.widgets.tables import show_rows


def attention(code: str, values: tuple[str, ...]) -> bool:
    """Objects a person should look at: a breaker or valve not on, a phase without voltage, a message."""
    first = values[0] if values else ""
    if (code.endswith(":96.3.10") and code.startswith("0-0")) or code.endswith(":24.4.0"):
        return first not in ("1", "")
    if code in ("1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0"):
        return first.startswith("000.0")
    return code == "0-0:96.13.0" and first != ""


def shown_value(code: str, values: tuple[str, ...]) -> str:
    if code in ("0-0:96.1.1", "0-0:96.1.2", "0-0:96.13.0") or code.endswith((":96.1.1", ":96.1.2")):
        return decode_octets(values[0]) if values else ""
    return " ".join(values)


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
        telegram = self.meter.session.latest
        if telegram is None:
            return
        stamp = telegram.timestamp.strftime("%Y-%m-%d %H:%M:%S") if telegram.timestamp else "no time"
        self.query_one("#telegram-title", Readout).show(
            f"/{telegram.header}  ·  {stamp}  ·  CRC {telegram.crc_status}"
            + (f" {telegram.crc:04X}" if telegram.crc is not None else "")
            + f"  ·  {len(telegram.objects)} objects"
        )
        if self.query_one("#raw").display:
            self.query_one("#raw", Static).update(telegram.raw.decode("latin-1").replace("\r", ""))
        else:
            self._table(telegram)

    def _table(self, telegram: Telegram) -> None:
        rows = []
        for code, sent in telegram.objects:
            values = values_of(sent)
            info = describe(code)
            style = "bold red" if attention(code, values) else ""
            # The value before the long description, so that it stays in view on an 80-column terminal.
            rows.append((code, info.name, Text(shown_value(code, values), style=style), info.description))
        show_rows(self.query_one("#objects", DataTable), rows)

    def action_toggle_raw(self) -> None:
        raw = self.query_one("#raw")
        raw.display = not raw.display
        self.query_one("#objects").display = not raw.display
        self.redraw()
