"""History: the original's usage/cost table (Day-3 .. Year) and charts of any period and commodity."""

from __future__ import annotations

from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from meter_tui.services.views import COMMODITIES, VIEWS, Column, HistoryRequest, HistoryView
from meter_tui.ui.screens.base import MeterScreen


def table_rows(columns: list[Column], kwh_per_m3: float | None) -> list[tuple[str, list[str]]]:
    """The original program's rows, for the given columns."""

    def kwh(pick: object) -> list[str]:
        return [_amount(pick(c.usage)) for c in columns]  # type: ignore[operator]

    def eur(pick: object) -> list[str]:
        return [_amount(pick(c.cost)) for c in columns]  # type: ignore[operator]

    rows = [
        ("+Day kWh", kwh(lambda u: u.import_day_kwh)),
        ("-Day kWh", kwh(lambda u: u.export_day_kwh)),
        ("+Night kWh", kwh(lambda u: u.import_night_kwh)),
        ("-Night kWh", kwh(lambda u: u.export_night_kwh)),
        ("Σ kWh", kwh(lambda u: u.import_kwh - u.export_kwh)),
        ("+€ Day", eur(lambda c: c.import_day)),
        ("-€ Day", eur(lambda c: c.export_day)),
        ("+€ Night", eur(lambda c: c.import_night)),
        ("-€ Night", eur(lambda c: c.export_night)),
        ("Σ € kWh", eur(lambda c: c.electricity)),
        ("Peak kW", [f"{c.peak_kw:.3f}" if c.peak_kw is not None else "-" for c in columns]),
        ("¼ @ hh:mm", [c.peak_time.strftime("%H:%M") if c.peak_time and i < 4 else "-" for i, c in enumerate(columns)]),
        ("m3 Gas", [f"{c.usage.gas_m3:.2f}" for c in columns]),
    ]
    if kwh_per_m3:
        rows.append(("kWh Gas", [f"{c.usage.gas_m3 * kwh_per_m3:.2f}" for c in columns]))
    rows += [
        ("Σ € Gas", eur(lambda c: c.gas)),
        ("m3 Water", [f"{c.usage.water_m3:.3f}" for c in columns]),
        ("Σ € Water", eur(lambda c: c.water)),
        ("€ Capacity+fixed", eur(lambda c: c.capacity + c.fixed)),
        ("Σ € Utilities", eur(lambda c: c.total)),
    ]
    return rows


def _amount(value: float) -> str:
    """Two decimals, and never "-0.00": an injection price times nothing is zero, not a credit."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


class HistoryScreen(MeterScreen):
    # Said on the chart's title line rather than in the footer, which keeps 80 columns for the screen keys.
    BINDINGS = [
        Binding("left_square_bracket", "move(-1)", "Earlier", show=False),
        Binding("right_square_bracket", "move(1)", "Later", show=False),
        Binding("v", "next_view", "Period", show=False),
        Binding("c", "next_commodity", "What", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="history-body"):
            yield DataTable(id="usage", cursor_type="none", zebra_stripes=True)
            yield Static("", id="chart-title")
            yield PlotextPlot(id="chart")
        yield from self.footer()

    def on_mount(self) -> None:
        self.request = HistoryRequest()
        self._drawn: tuple[object, ...] = ()
        super().on_mount()

    def redraw(self) -> None:
        super().redraw()
        live = self.meter.live
        if live is None or live.telegram.timestamp is None:
            return
        # Sums over days and months move little in a second: the screen follows the meter's minute, and redraws
        # at once when the period, the commodity or the prices change.
        key = (live.telegram.timestamp.replace(second=0, microsecond=0), self.request, self.meter.rates_version)
        if key != self._drawn:
            self._drawn = key
            self.compute(self.request)

    @work(exclusive=True, group="history")
    async def compute(self, request: HistoryRequest) -> None:
        view = await self.fetch(request)
        if isinstance(view, HistoryView):
            self._show(view)

    def _show(self, view: HistoryView) -> None:
        table = self.query_one("#usage", DataTable)
        table.clear(columns=True)
        table.add_columns("Usage/Cost", *(c.name for c in view.columns))
        for name, values in table_rows(list(view.columns), view.gas_kwh_per_m3):
            table.add_row(name, *values)
        request = view.request
        self.query_one("#chart-title", Static).update(
            f"[b]{request.commodity.title()}[/b] ({view.unit}) · {view.label}   "
            "[dim]\\[ ] earlier/later · v period · c what[/dim]"
        )
        widget = self.query_one("#chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        if request.view == "day":
            plt.xlim(0, 24)
        if view.points:
            plt.bar([x for x, _ in view.points], [y for _, y in view.points],
                    width=0.6 if request.view != "day" else 0.2)  # fmt: skip
        widget.refresh()

    def action_move(self, step: int) -> None:
        self.request = replace(self.request, offset=self.request.offset + step)
        self.redraw()

    def action_next_view(self) -> None:
        view = VIEWS[(VIEWS.index(self.request.view) + 1) % len(VIEWS)]
        self.request = replace(self.request, view=view, offset=0)
        self.redraw()

    def action_next_commodity(self) -> None:
        commodity = COMMODITIES[(COMMODITIES.index(self.request.commodity) + 1) % len(COMMODITIES)]
        self.request = replace(self.request, commodity=commodity)
        self.redraw()
