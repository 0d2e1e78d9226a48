"""Live: power in and out, large; per phase; tariff; what it costs now and today; gas and water; the last ten
minutes. From 140 columns on, an overview beside it holds what the original program showed on one screen: the
prices and the tariff schedule, the running quarter with its headroom, and the month peaks."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Digits, ProgressBar, Static
from textual_plotext import PlotextPlot

from meter_tui.energy.costs import money
from meter_tui.p1.quantities import phase_rows
from meter_tui.p1.telegram import Tariff, Telegram
from meter_tui.services.views import HistoryRequest, HistoryView, LiveView, PeakRequest, PeakView, telegram_view
from meter_tui.ui.palette import colours, rgb, styled
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.screens.history import usage_table
from meter_tui.ui.widgets.axes import zero_ticks
from meter_tui.ui.widgets.quarter import QuarterChart, months_rows, quarter_lines, rates_text
from meter_tui.ui.widgets.readout import Readout
from meter_tui.ui.widgets.tables import show_rows

WIDE = 140  # columns from which the overview is shown beside the live panels
GLANCE = 200  # columns from which the usage/cost table and the telegram join them: the original's one glance
NAME_SHOWN = 13  # characters of an object's name in the one glance's telegram
CHART_EVERY = 5  # seconds of meter time between two redraws of the ten-minute chart
PHASE_MEANING = {"import_kw": "import", "export_kw": "export"}


class LiveScreen(MeterScreen):
    def compose(self) -> ComposeResult:
        yield from self.header()
        with Horizontal(id="live-body"):
            with Vertical(id="live-main"):
                with Horizontal(id="power-row"):
                    with Vertical(id="import-panel", classes="panel power"):
                        yield Digits("-.---", id="import")
                    with Vertical(id="export-panel", classes="panel power"):
                        yield Digits("-.---", id="export")
                    with Vertical(id="now-panel", classes="panel"):
                        yield Readout("", id="tariff")
                        yield Readout("", id="cost-now")
                        yield Readout("", id="cost-today")
                with Vertical(id="phases-panel", classes="panel"):
                    yield Readout("", id="phases")
                with Vertical(id="today-panel", classes="panel"):
                    yield Readout("", id="today-energy")
                    yield Readout("", id="today-utilities")
                with Vertical(id="live-usage-panel", classes="panel"):
                    yield Static("", id="live-usage")
                with Vertical(id="minutes-panel", classes="panel"):
                    yield PlotextPlot(id="minutes")
            with Vertical(id="overview"):
                with Vertical(id="rates-panel", classes="panel"):
                    yield Static("", id="rates")
                with Vertical(id="live-quarter-panel", classes="panel"):
                    yield ProgressBar(total=900, show_eta=False, show_percentage=True, id="live-quarter")
                    yield Static("", id="live-quarter-text")
                with Vertical(id="live-months-panel", classes="panel"):
                    yield DataTable(id="live-months", cursor_type="none", zebra_stripes=True)
                with Vertical(id="live-quarters-panel", classes="panel"):
                    yield QuarterChart(id="live-quarters")
            with Vertical(id="live-telegram-panel", classes="panel"):
                yield Vertical(id="live-telegram")
        yield from self.footer()

    def on_mount(self) -> None:
        titles = {
            "#import-panel": "Import kW",
            "#export-panel": "Export kW",
            "#now-panel": "Now",
            "#phases-panel": "Phases",
            "#today-panel": "Today",
            "#minutes-panel": "Last 10 minutes, kW: import up, export down",
            "#rates-panel": "Prices",
            "#live-quarter-panel": "Quarter-hour peak",
            "#live-months-panel": "Month peaks",
            "#live-quarters-panel": "Today's quarters, kW",
            "#live-usage-panel": "Usage and cost",
            "#live-telegram-panel": "Telegram",
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        months = self.query_one("#live-months", DataTable)
        for label in ("Month", "Peak at", "kW"):
            months.add_column(label if label == "Month" else styled(label, None, True))
        self._night: bool | None = None
        self._chart_drawn: object = None
        self._phases_shown: object = None
        self._wide = False
        self._glance = False
        self._usage_drawn: object = None
        self._rates_drawn: object = None
        self._quarter_lines = -1
        self._overview_stale = True
        self._telegram_shown: list[object] = []
        super().on_mount()

    def forget_drawn(self) -> None:
        self._night = self._phases_shown = self._rates_drawn = self._usage_drawn = None
        self._overview_stale = True
        self._telegram_shown = [None] * len(self._telegram_shown)
        self._chart_drawn = None
        self.query_one("#live-quarters", QuarterChart).forget()

    def on_resize(self) -> None:
        wide, glance = self.size.width >= WIDE, self.size.width >= GLANCE
        if (wide, glance) != (self._wide, self._glance):
            self._wide, self._glance = wide, glance
            self.set_class(wide, "wide")
            self.set_class(glance, "glance")
            self._usage_drawn = None
            self._overview_stale = True
            if wide:
                self.redraw()

    def on_screen_resume(self) -> None:
        self._overview_stale = True  # the overviews that came while another screen was shown were not drawn
        super().on_screen_resume()

    def redraw(self) -> None:
        super().redraw()
        view = self.meter.live
        if view is None:
            return
        dark = self.meter.dark
        telegram = view.telegram
        for name, kw in (("import", telegram.power_import_kw), ("export", telegram.power_export_kw)):
            digits = self.query_one(f"#{name}", Digits)
            if digits.value != (text := f"{kw or 0.0:.3f}"):
                digits.update(text)
        night = telegram.tariff is Tariff.NIGHT
        if self._night is not night:
            self._night = night
            tariff = self.query_one("#tariff", Readout)
            tariff.show(" NIGHT tariff " if night else " DAY tariff ")
            tariff.set_class(night, "night")
        cost = colours(dark)["cost"]
        if (per_hour := view.values.cost_per_hour_eur) is not None:
            self.query_one("#cost-now", Readout).show(f"[{cost}]{money(per_hour, sign=True)}[/] EUR/h now")
        if view.today is not None:
            self.query_one("#cost-today", Readout).show(f"[{cost}]{money(view.today.cost.total)}[/] EUR today")
        self._phases(telegram, view.warnings, dark)
        self._today(view, dark)
        self._chart(view, dark)
        if self._wide:
            # Static.update lays the whole screen out again: the prices only when what they show changes.
            key = (telegram.timestamp.date() if telegram.timestamp else None, night, dark, self.meter.rates_version)
            if key != self._rates_drawn:
                self._rates_drawn = key
                self.query_one("#rates", Static).update(rates_text(self.meter.prices, telegram, dark))
            # The overview (the running quarter, the month peaks, today's quarters) comes with the live view every
            # few seconds of meter time: redrawn each second it cost a whole percent of a core at 160 columns. After
            # a resize, a resume or a theme change it is asked for at once.
            if view.peak is not None:
                self._overview_stale = False
                self._overview(view.peak)
            elif self._overview_stale:
                self._overview_stale = False
                self.compute_overview()
        if self._glance:
            self._glance_panels(view, dark)

    def _phases(self, telegram: Telegram, warnings: tuple[str, ...], dark: bool) -> None:
        rows = phase_rows()

        def cell(value: float | None, precision: int, field: str) -> Text:
            return styled(f"{value:.{precision}f}" if value is not None else "-", PHASE_MEANING.get(field), dark)

        cells = [
            (f"L{phase.phase}", *(cell(getattr(phase, row.field), row.precision, row.field) for row in rows))
            for phase in telegram.phases
        ]
        key = (dark, tuple((text.plain if isinstance(text, Text) else text for text in row) for row in cells))
        if key == self._phases_shown:
            return
        self._phases_shown = key
        # A rich table in a fixed-height readout, not a DataTable: it changes every second, and a DataTable keeps
        # every version of its cells in render caches (thousands of lines held over a day of telegrams).
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=False)
        table.add_column("Phase")
        for row in rows:
            table.add_column(f"{row.heading} {row.unit}", justify="right")
        for row in cells:
            table.add_row(*row)
        self.query_one("#phases", Readout).show(table)
        panel = self.query_one("#phases-panel")
        alarm = colours(dark)["alarm"]
        subtitle = "  ".join(f"[b {alarm}]! {w}[/]" for w in warnings)
        if panel.border_subtitle != subtitle:
            panel.border_subtitle = subtitle

    def _today(self, view: LiveView, dark: bool) -> None:
        c = colours(dark)
        telegram = view.telegram
        if (column := view.today) is not None:
            usage = column.usage
            self.query_one("#today-energy", Readout).show(
                f"Electricity in [{c['import']}]{usage.import_kwh:.2f}[/] kWh · "
                f"out [{c['export']}]{usage.export_kwh:.2f}[/] kWh "
                f"= [{c['cost']}]{money(column.cost.electricity)}[/] EUR · "
                f"all-in [{c['cost']}]{money(column.cost.total)}[/] EUR"
            )
        parts = []
        for kind, device, unit in (("gas", telegram.gas, "m3"), ("water", telegram.water, "l")):
            if device is None or device.reading is None:
                parts.append(f"{kind.title()}: no meter")
                continue
            used = 0.0 if view.today is None else getattr(view.today.usage, f"{kind}_m3")
            amount = f"{used:.3f}" if unit == "m3" else f"{used * 1000:.0f}"
            parts.append(f"{kind.title()} [{c[kind]}]{amount}[/] {unit} · meter {device.reading.value:.3f} m3")
        self.query_one("#today-utilities", Readout).show("   ".join(parts))
        panel = self.query_one("#today-panel")
        subtitle = f"history since {view.since:%d %b %Y}" if view.since else "no history yet"
        if panel.border_subtitle != subtitle:
            panel.border_subtitle = subtitle
        title = f"Today · {view.always_on.words()}" if view.always_on else "Today"
        if panel.border_title != title:
            panel.border_title = title

    def _chart(self, view: LiveView, dark: bool) -> None:
        """Import above the zero line, export below it; redrawn every few seconds of meter time."""
        stamp = view.telegram.timestamp
        tick = int(stamp.timestamp()) // CHART_EVERY if stamp is not None else None
        key = (tick, dark, self.size)
        if key == self._chart_drawn:
            return
        self._chart_drawn = key
        powers = view.powers_kw
        xs = list(range(1 - len(powers), 1))
        widget = self.query_one("#minutes", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        if powers:
            plt.plot(xs, [max(p, 0.0) for p in powers], fillx=True, marker="braille", color=rgb("import", dark))
            plt.plot(xs, [min(p, 0.0) for p in powers], fillx=True, marker="braille", color=rgb("export", dark))
        plt.hline(0.0, rgb("muted", dark))
        # The zero line in sight and labelled; a tick every other row at most: plotext drops labels that collide, in
        # an order that changes from one process to the next.
        rows = max(widget.size.height - 3, 2)  # the plot's rows: the box and the x axis's labels take three
        ticks = zero_ticks(min((*powers, 0.0)), max((*powers, 0.1)), count=max(rows // 2 - 1, 1))
        plt.yticks(ticks, [f"{tick:g}" for tick in ticks])
        plt.ylim(ticks[0], ticks[-1])
        plt.xlim(-600, 0)
        plt.xticks([-600, -480, -360, -240, -120, 0], ["-10 min", "-8", "-6", "-4", "-2", "now"])
        widget.refresh()

    def _glance_panels(self, view: LiveView, dark: bool) -> None:
        """From GLANCE columns, the original's one glance: the usage/cost table (once a meter minute) and the
        whole telegram, value by value (from the live view itself: no query a second)."""
        stamp = view.telegram.timestamp
        key = (stamp.replace(second=0, microsecond=0) if stamp else None, dark, self.meter.rates_version)
        if key != self._usage_drawn:
            self._usage_drawn = key
            self.compute_usage()
        self._telegram_lines(telegram_lines(view.telegram, dark))
        panel = self.query_one("#live-telegram-panel")
        title = f"Telegram /{view.telegram.header}"
        if panel.border_title != title:
            panel.border_title = title

    def _telegram_lines(self, lines: list[Text]) -> None:
        """One readout a line, repainted only when its line changed: a second's telegram changes a third of its
        objects (the time, the powers, the voltages), and a whole panel repainted each second cost 1% of a core."""
        box = self.query_one("#live-telegram", Vertical)
        if len(box.children) != len(lines):
            box.remove_children()
            box.mount_all(Readout("") for _ in lines)
            self._telegram_shown = [None] * len(lines)
        for index, (readout, line) in enumerate(zip(box.children, lines, strict=True)):
            key = (line.plain, line.spans)
            if key != self._telegram_shown[index]:
                self._telegram_shown[index] = key
                readout.show(line)  # type: ignore[attr-defined]

    @work(exclusive=True, group="live-usage")
    async def compute_usage(self) -> None:
        view = await self.fetch(HistoryRequest())
        if isinstance(view, HistoryView):
            self.query_one("#live-usage", Static).update(usage_table(view, self.meter.dark))

    @work(exclusive=True, group="live-overview")
    async def compute_overview(self) -> None:
        view = await self.fetch(PeakRequest())
        if isinstance(view, PeakView):
            self._overview(view)

    def _overview(self, view: PeakView) -> None:
        dark = self.meter.dark
        if view.forecast is not None:
            self.query_one("#live-quarter", ProgressBar).update(progress=view.forecast.seconds_in)
        text = quarter_lines(view, dark)
        box = self.query_one("#live-quarter-text", Static)
        # Rows as wrapped at the panel's width, not newlines: a sentence that grows past the edge (the connection
        # named) needs a new layout, or its end is cut; the same rows (the seconds left change) need none.
        lines = len(text.wrap(self.app.console, max(1, box.content_size.width)))
        box.update(text, layout=lines != self._quarter_lines)
        self._quarter_lines = lines
        show_rows(self.query_one("#live-months", DataTable), months_rows(view, dark, billed=False))
        self.query_one("#live-quarters", QuarterChart).show(view, dark)


def telegram_lines(telegram: Telegram, dark: bool) -> list[Text]:
    """The telegram object by object, code, name and value (what needs attention in red), a line each. The
    Telegram screen has the descriptions and the detail."""
    alarm = colours(dark)["alarm"]
    lines = []
    for row in telegram_view(telegram).rows:
        label = row.label if len(row.label) <= NAME_SHOWN else row.label[: NAME_SHOWN - 1] + "…"
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{row.code:<12}", style="dim")
        line.append(f"{label:<{NAME_SHOWN + 1}}")
        line.append(row.value, style=f"bold {alarm}" if row.attention else "")
        lines.append(line)
    return lines
