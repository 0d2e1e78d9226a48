"""Quarter peak: the running quarter and its forecast, the headroom before a new month peak, today's quarters, the
13 months of peaks and what the capacity tariff costs."""

from __future__ import annotations

from datetime import timedelta

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, ProgressBar, Static
from textual_plotext import PlotextPlot

from meter_tui.energy.capacity import MINIMUM_PEAK_KW
from meter_tui.services.views import PeakRequest, PeakView
from meter_tui.ui.screens.base import MeterScreen


class PeakScreen(MeterScreen):
    def compose(self) -> ComposeResult:
        yield from self.header()
        yield Static("", id="quarter-title")
        yield ProgressBar(total=900, show_eta=False, id="quarter")
        yield Static("", id="quarter-figures")
        yield Static("", id="peak-warning")
        with Horizontal(id="peak-body"):
            yield PlotextPlot(id="today-plot")
            yield DataTable(id="months", cursor_type="none", zebra_stripes=True)
        yield Static("", id="capacity")
        yield from self.footer()

    def on_mount(self) -> None:
        self.query_one("#months", DataTable).add_columns("Month", "Peak at", "kW", "Billed")
        self._months_shown: tuple = ()
        self._quarters_shown: tuple = ()
        super().on_mount()

    def redraw(self) -> None:
        super().redraw()
        self.compute()

    @work(exclusive=True, group="peak")
    async def compute(self) -> None:
        view = await self.fetch(PeakRequest())
        if isinstance(view, PeakView):
            self.show(view)

    def show(self, view: PeakView) -> None:
        status = view.forecast
        if status is not None:
            end = status.start + timedelta(minutes=15)
            minutes, seconds = divmod(status.seconds_left, 60)
            self.query_one("#quarter-title", Static).update(
                f"Quarter {status.start:%H:%M}-{end:%H:%M}  ·  {minutes} min {seconds:02d} s left"
            )
            self.query_one("#quarter", ProgressBar).update(progress=status.seconds_in)
            self.query_one("#quarter-figures", Static).update(
                f"Average so far [b]{status.average_kw:.3f} kW[/b]   Forecast [b]{status.projected_kw:.3f} kW[/b]   "
                f"Power now {status.power_kw:.3f} kW\n"
                f"Month peak [b]{view.month_peak_kw or 0:.3f} kW[/b]"
                + (f" ({view.month_peak_time:%d %b %H:%M})" if view.month_peak_time else "")
                + f"   Headroom [b]{status.headroom_kw:.2f} kW[/b] on average for the rest of the quarter"
            )
            warning = self.query_one("#peak-warning", Static)
            if status.new_peak_certain:
                warning.update(f" NEW MONTH PEAK: this quarter is already above {status.threshold_kw:.3f} kW ")
            elif status.new_peak_likely:
                warning.update(f" WARNING: at this power the quarter ends at {status.projected_kw:.3f} kW, "
                               f"above the month peak {status.threshold_kw:.3f} kW ")  # fmt: skip
            else:
                warning.update("")
            warning.set_class(status.new_peak_likely, "alarm")
        else:
            self.query_one("#quarter-title", Static).update("This meter sends no quarter average (1-0:1.4.0)")
        self._plot(view)
        self._months(view)
        capacity = view.capacity
        self.query_one("#capacity", Static).update(
            f"12-month average {capacity.average_kw:.3f} kW (each month at least {MINIMUM_PEAK_KW} kW) · "
            f"capacity tariff {capacity.yearly_cost:.2f} EUR/year, {capacity.monthly_cost:.2f} EUR/month "
            f"at {capacity.price_kw_year:.2f} EUR/kW/year"
        )

    def _plot(self, view: PeakView) -> None:
        quarters = tuple((q.start.hour + q.start.minute / 60, q.average_kw or 0.0) for q in view.today)
        key = (quarters, view.month_peak_kw)
        if key == self._quarters_shown:
            return  # the chart changes once a quarter: no redraw in between
        self._quarters_shown = key
        widget = self.query_one("#today-plot", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Today's quarters (kW)")
        if quarters:
            plt.bar([x for x, _ in quarters], [y for _, y in quarters], width=0.2)
        if view.month_peak_kw:
            plt.hline(view.month_peak_kw, "red")
        plt.xlim(0, 24)
        plt.xticks([0, 6, 12, 18, 24])
        widget.refresh()

    def _months(self, view: PeakView) -> None:
        if view.months == self._months_shown:
            return
        self._months_shown = view.months
        table = self.query_one("#months", DataTable)
        table.clear()
        for peak in reversed(view.months):
            table.add_row(
                peak.month.strftime("%Y-%m"),
                peak.time.strftime("%d %H:%M") if peak.time else "-",
                f"{peak.kw:.3f}",
                f"{peak.billed_kw:.3f}",
            )
