"""Quarter peak: the running quarter and its forecast, what may still be drawn before a new month peak, today's
quarters against the month peak, the 13 months of peaks and what the capacity tariff costs."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, Static

from meter_tui.energy.capacity import MINIMUM_PEAK_KW
from meter_tui.services.views import PeakRequest, PeakView
from meter_tui.ui.palette import colours, styled
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.widgets.quarter import QuarterChart, months_rows, quarter_lines
from meter_tui.ui.widgets.tables import show_rows

NARROW = 110  # columns below which the quarter and the capacity panels are stacked


class PeakScreen(MeterScreen):
    def compose(self) -> ComposeResult:
        yield from self.header()
        with Horizontal(id="peak-top"):
            with Vertical(id="quarter-panel", classes="panel"):
                yield ProgressBar(total=900, show_eta=False, id="quarter")
                yield Static("", id="quarter-text")
            with Vertical(id="capacity-panel", classes="panel"):
                yield Static("", id="capacity")
        yield Static("", id="peak-warning")
        with Horizontal(id="peak-body"):
            with Vertical(id="today-panel-peak", classes="panel"):
                yield QuarterChart(id="today-plot")
            with Vertical(id="months-panel", classes="panel"):
                yield DataTable(id="months", cursor_type="none", zebra_stripes=True)
        yield from self.footer()

    def on_mount(self) -> None:
        for selector, title in (("#quarter-panel", "Running quarter"), ("#capacity-panel", "Capacity tariff"),
                                ("#today-panel-peak", "Today's quarters, kW"),
                                ("#months-panel", "Month peaks, 13 months")):  # fmt: skip
            self.query_one(selector).border_title = title
        self.query_one("#months-panel").border_subtitle = f"billed: at least {MINIMUM_PEAK_KW} kW"
        months = self.query_one("#months", DataTable)
        months.add_column("Month")
        for label in ("Peak at", "kW", "Billed"):
            months.add_column(styled(label, None, True))
        self.set_class(self.app.size.width < NARROW, "narrow")  # from the first layout on, not after a resize
        super().on_mount()

    def forget_drawn(self) -> None:
        self.query_one("#today-plot", QuarterChart).forget()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "narrow")

    def redraw(self) -> None:
        super().redraw()
        self.compute()

    @work(exclusive=True, group="peak")
    async def compute(self) -> None:
        view = await self.fetch(PeakRequest())
        if isinstance(view, PeakView):
            self.show(view)

    def show(self, view: PeakView) -> None:
        dark = self.meter.dark
        c = colours(dark)
        status = view.forecast
        if status is not None:
            self.query_one("#quarter", ProgressBar).update(progress=status.seconds_in)
        self.query_one("#quarter-text", Static).update(quarter_lines(view, dark))
        warning = self.query_one("#peak-warning", Static)
        alarm = status is not None and status.new_peak_likely
        if alarm and status is not None:
            word = "NEW MONTH PEAK" if status.new_peak_certain else "NEW MONTH PEAK LIKELY"
            warning.update(
                f" {word}: the quarter heads for {status.projected_kw:.3f} kW, above {status.threshold_kw:.3f} kW:"
                f" +{view.forecast_extra_eur:.2f} EUR over 12 months "
            )
        warning.display = alarm
        warning.set_class(alarm, "alarm-banner")
        self.query_one("#quarter-panel").set_class(alarm, "alarm-panel")
        capacity = view.capacity
        peak = f"{view.month_peak_kw:.3f} kW" if view.month_peak_kw is not None else "none yet"
        lines = Text.assemble(
            "12-month average ", (f"{capacity.average_kw:.3f} kW", "bold"),
            f" over {len(capacity.months)} month{'s' if len(capacity.months) != 1 else ''}\n",
            "Capacity tariff ", (f"{capacity.yearly_cost:.2f}", f"bold {c['cost']}"), " EUR/year, ",
            (f"{capacity.monthly_cost:.2f}", c["cost"]), " EUR/month ",
            (f"({capacity.price_kw_year:.2f}/kW)", c["muted"]), "\n",
            "Month peak ", (peak, "bold"), ": ",
            (f"{view.month_peak_cost_eur:.2f}", f"bold {c['cost']}"), " EUR over 12 months\n",
        )  # fmt: skip
        if status is not None:
            lines.append_text(Text.assemble(
                "The forecast quarter would add ",
                (f"{view.forecast_extra_eur:.2f}", f"bold {c['alarm'] if view.forecast_extra_eur else c['cost']}"),
                " EUR",
            ))  # fmt: skip
        if view.price_note:
            lines.append_text(Text(f"\n{view.price_note}", c["muted"]))
        self.query_one("#capacity", Static).update(lines)
        self.query_one("#today-plot", QuarterChart).show(view, dark)
        show_rows(self.query_one("#months", DataTable), months_rows(view, dark, billed=True))
