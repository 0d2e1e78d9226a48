"""Live: power in and out, large; per phase; tariff; what it costs now and today; gas and water; the last minutes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Digits, Label, Sparkline, Static

from meter_tui.p1.quantities import phase_rows
from meter_tui.p1.telegram import Tariff, Telegram
from meter_tui.services.views import Column
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.widgets.readout import Readout
from meter_tui.ui.widgets.tables import show_rows


class LiveScreen(MeterScreen):
    def compose(self) -> ComposeResult:
        yield from self.header()
        with Horizontal(id="power"):
            with Vertical(classes="power-box"):
                yield Label("Import kW", classes="power-label")
                yield Digits("-.---", id="import")
            with Vertical(classes="power-box"):
                yield Label("Export kW", classes="power-label")
                yield Digits("-.---", id="export")
            with Vertical(id="now"):
                yield Static("", id="tariff")
                yield Readout("", id="cost-now")
                yield Readout("", id="today")
        table: DataTable[str] = DataTable(id="phases", cursor_type="none", zebra_stripes=True)
        yield table
        yield Readout("", id="warnings")
        with Horizontal(id="utilities"):
            yield Readout("", id="gas")
            yield Readout("", id="water")
        yield Label("Import (up) and export (down), last 10 minutes", id="spark-label")
        yield Sparkline([], id="spark")
        yield from self.footer()

    def on_mount(self) -> None:
        table = self.query_one("#phases", DataTable)
        table.add_columns("Phase", *(f"{row.heading} {row.unit}" for row in phase_rows()))
        self._night: bool | None = None
        super().on_mount()

    def redraw(self) -> None:
        super().redraw()
        view = self.meter.live
        if view is None:
            return
        telegram = view.telegram
        for name, kw in (("import", telegram.power_import_kw), ("export", telegram.power_export_kw)):
            digits = self.query_one(f"#{name}", Digits)
            if digits.value != (text := f"{kw or 0.0:.3f}"):
                digits.update(text)
        night = telegram.tariff is Tariff.NIGHT
        if self._night is not night:
            self._night = night
            tariff = self.query_one("#tariff", Static)
            tariff.update(" NIGHT tariff " if night else " DAY tariff ")
            tariff.set_class(night, "night")
        cost = view.values.cost_per_hour_eur
        if cost is not None:
            self.query_one("#cost-now", Readout).show(f"Now {cost:+.2f} EUR/h")
        self._phases(telegram)
        warnings = view.warnings
        self.query_one("#warnings", Readout).show("  ".join(f"! {w}" for w in warnings))
        self.query_one("#warnings", Readout).set_class(bool(warnings), "alarm")
        self._utilities(telegram)
        self.query_one("#spark", Sparkline).data = list(view.powers_kw) or [0.0]
        self._today(view.today)

    def _phases(self, telegram: Telegram) -> None:
        show_rows(
            self.query_one("#phases", DataTable),
            [
                (
                    f"L{phase.phase}",
                    *(
                        f"{value:.{row.precision}f}" if (value := getattr(phase, row.field)) is not None else "-"
                        for row in phase_rows()
                    ),
                )
                for phase in telegram.phases
            ],
        )

    def _utilities(self, telegram: Telegram) -> None:
        for kind, device in (("gas", telegram.gas), ("water", telegram.water)):
            widget = self.query_one(f"#{kind}", Readout)
            if device is None or device.reading is None:
                widget.show(f"{kind.title()}: no meter")
                continue
            when = device.reading.time.strftime("%H:%M") if device.reading.time else "?"
            widget.show(f"{kind.title()} {device.reading.value:.3f} {device.reading.unit} at {when}")

    def _today(self, column: Column | None) -> None:
        if column is None:
            return
        usage, cost = column.usage, column.cost
        text = f"Today +{usage.import_kwh:.2f} / -{usage.export_kwh:.2f} kWh  {cost.total:.2f} EUR"
        if usage.gas_m3 or usage.water_m3:
            text += f"\nGas {usage.gas_m3:.3f} m3  Water {usage.water_m3 * 1000:.0f} l"
        self.query_one("#today", Readout).show(text)
