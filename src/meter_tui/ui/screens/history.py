"""History: the original's usage/cost table (Day-3 .. Year) and charts of any period and commodity."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static, Tab, Tabs
from textual_plotext import PlotextPlot

from meter_tui.services.views import COMMODITIES, VIEWS, BillRequest, BillView, Column, HistoryRequest, HistoryView
from meter_tui.ui.palette import rgb, styled
from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.widgets.axes import y_axis
from meter_tui.ui.widgets.bill import bill_text


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
    ]
    if any(c.cost.import_spot or c.cost.export_spot for c in columns):  # a dynamic contract's quarters
        rows += [("+€ Spot", eur(lambda c: c.import_spot)), ("-€ Spot", eur(lambda c: c.export_spot))]
    rows += [
        ("Σ € kWh", eur(lambda c: c.electricity)),
        ("Peak kW", [f"{c.peak_kw:.3f}" if c.peak_kw is not None else "-" for c in columns]),
        ("¼ @", [_when(c, i < 4) for i, c in enumerate(columns)]),
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


def _axis(plt: Any, period: str, view: HistoryView) -> None:
    """Fixed x ticks for each period (set after the bars, which set their own), so that the axis never depends on
    plotext's guesses: hours 0-24 for a day (to 24 h even when the data stops), weekday and date for a week."""
    if period == "day":
        plt.xlim(0, 24)
        plt.xticks(list(range(0, 25, 3)), ["0h", "3", "6", "9", "12", "15", "18", "21", "24h"])
    elif period == "year":
        plt.xlim(0.5, 12.5)
        plt.xticks(list(range(1, 13)), ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
    elif period == "week":
        plt.xlim(-0.5, 6.5)
        days = [view.first + timedelta(days=n) for n in range(7)] if view.first else []
        plt.xticks(list(range(len(days))), [f"{day:%a} {day.day}" for day in days])
    else:
        last = view.last.day if view.last else 31
        plt.xlim(0.5, last + 0.5)
        plt.xticks([d for d in (1, 5, 10, 15, 20, 25, 30) if d <= last])


def usage_table(view: HistoryView, dark: bool) -> Table:
    """The usage/cost table as a rich table, for the Live screen's one glance (the History screen scrolls its own)."""
    # One cell between columns and no indent: the whole table in the 82 columns that Live leaves it at 200.
    table = Table(box=None, padding=(0, 0, 0, 1), show_edge=False, header_style="bold", expand=False)
    table.add_column("", no_wrap=True)
    for column in view.columns:
        table.add_column(column.name, justify="right", no_wrap=True)
    for name, values in table_rows(list(view.columns), view.gas_kwh_per_m3):
        if name in SECTIONS:
            table.add_row(styled(SECTIONS[name], "muted", dark, bold=True, right=False))
        meaning = MEANINGS.get(name) or ("cost" if "€" in name else None)
        table.add_row(name, *(styled(v, meaning, dark, bold=name.startswith("Σ")) for v in values))
    return table


def _when(column: Column, one_day: bool) -> str:
    """When the peak quarter started: its time on a day's column, its day and time on a week, month or year."""
    if column.peak_time is None:
        return "-"
    return f"{column.peak_time:%H:%M}" if one_day else f"{column.peak_time:%d %H:%M}"


def _amount(value: float) -> str:
    """Two decimals, and never "-0.00": an injection price times nothing is zero, not a credit."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


# The table's sections: a heading row before the first row of each, and what colours its numbers.
SECTIONS = {"+Day kWh": "Electricity kWh", "+€ Day": "Electricity EUR", "Peak kW": "Peak quarter",
            "m3 Gas": "Gas", "m3 Water": "Water", "€ Capacity+fixed": "Totals"}  # fmt: skip
MEANINGS = {"+Day kWh": "import", "+Night kWh": "import", "-Day kWh": "export", "-Night kWh": "export",
            "Peak kW": "import", "m3 Gas": "gas", "kWh Gas": "gas", "m3 Water": "water"}  # fmt: skip
TABLE_KEYS = "←→ columns · ↑↓ rows"
TALL = 40  # rows from which the table and the chart are shown together; below, tabs switch between them
CHART_X = {"day": "hour", "week": "day", "month": "day of month", "year": "month"}


class HistoryScreen(MeterScreen):
    # Said on the chart's title line rather than in the footer, which keeps 80 columns for the screen keys.
    BINDINGS = [
        Binding("left_square_bracket", "move(-1)", "Earlier", show=False),
        Binding("right_square_bracket", "move(1)", "Later", show=False),
        Binding("v", "next_view", "Period", show=False),
        Binding("c", "next_commodity", "What", show=False),
        Binding("g", "switch_tab", "Table/chart", show=False),
        Binding("b", "bill", "Bill", show=False),
        # The table is wider and longer than 80x24: these scroll it wherever the focus is, and `?` names them.
        *(Binding(key, f"table('{action}')", "columns", show=False)
          for key, action in (("left", "cursor_left"), ("right", "cursor_right"), ("home", "scroll_home"),
                              ("end", "scroll_end"))),
        *(Binding(key, f"table('{action}')", "rows", show=False)
          for key, action in (("up", "cursor_up"), ("down", "cursor_down"), ("pageup", "page_up"),
                              ("pagedown", "page_down"))),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        yield from self.header()
        yield Tabs(Tab("Table", id="tab-table"), Tab("Chart", id="tab-chart"), id="history-tabs")
        with Vertical(id="history-body"):
            with Vertical(id="usage-panel", classes="panel"):
                yield DataTable(id="usage", cursor_type="none", zebra_stripes=True, fixed_columns=1)
            with Vertical(id="chart-panel", classes="panel"):
                yield PlotextPlot(id="chart")
            with VerticalScroll(id="bill-panel", classes="panel"):
                yield Static(id="bill")
        yield from self.footer()

    def on_mount(self) -> None:
        self.request = HistoryRequest()
        self.bill: BillRequest | None = None  # the bill is shown instead of the table and the chart
        self._drawn: tuple[object, ...] = ()
        self._tall: bool | None = None
        self.query_one("#usage-panel").border_title = "Usage and cost"
        self.query_one("#usage-panel").border_subtitle = TABLE_KEYS + " · g chart · b bill"
        self.query_one("#bill-panel").display = False
        # Nothing here takes the arrows for itself: they scroll the table (the tabs switch with g).
        self.query_one("#history-tabs").can_focus = False
        self.query_one("#usage").can_focus = False
        super().on_mount()

    def forget_drawn(self) -> None:
        self._drawn = ()

    def on_resize(self) -> None:
        tall = self.size.height >= TALL
        if tall != self._tall:
            self._tall = tall
            self.set_class(tall, "tall")
            self.query_one("#history-tabs").display = not tall
            keys = "b bill" if tall else "g chart · b bill"
            self.query_one("#usage-panel").border_subtitle = f"{TABLE_KEYS} · {keys}"
            self._show_tab("tab-table")

    def _show_tab(self, tab: str) -> None:
        tall, bill = bool(self._tall), self.bill is not None
        self.query_one("#history-tabs").display = not tall and not bill
        self.query_one("#usage-panel").display = not bill and (tall or tab == "tab-table")
        self.query_one("#chart-panel").display = not bill and (tall or tab == "tab-chart")
        self.query_one("#bill-panel").display = bill

    def action_bill(self) -> None:
        """The month as the invoice splits it, and the contracts compared; b again goes back."""
        self.bill = BillRequest() if self.bill is None else None
        self._show_tab(self.query_one("#history-tabs", Tabs).active or "tab-table")
        self._drawn = ()
        self.redraw()

    def action_table(self, action: str) -> None:
        """Scroll the usage table (its own cursor-less actions: the arrows scroll it)."""
        table = self.query_one("#usage", DataTable)
        if table.display and self.query_one("#usage-panel").display:
            getattr(table, f"action_{action}")()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id:
            self._show_tab(event.tab.id)

    def action_switch_tab(self) -> None:
        tabs = self.query_one("#history-tabs", Tabs)
        tabs.active = "tab-chart" if tabs.active == "tab-table" else "tab-table"

    def redraw(self) -> None:
        super().redraw()
        live = self.meter.live
        if live is None or live.telegram.timestamp is None:
            return
        # Sums over days and months move little in a second: the screen follows the meter's minute, and redraws
        # at once when the period, the commodity or the prices change.
        request = self.bill or self.request
        key = (live.telegram.timestamp.replace(second=0, microsecond=0), request, self.meter.rates_version)
        if key != self._drawn:
            self._drawn = key
            self.compute(request)

    @work(exclusive=True, group="history")
    async def compute(self, request: HistoryRequest | BillRequest) -> None:
        view = await self.fetch(request)
        if isinstance(view, HistoryView):
            self._show(view)
        elif isinstance(view, BillView):
            panel = self.query_one("#bill-panel")
            panel.border_title = f"{view.month:%B %Y}, as the invoice splits it · the last 12 months compared"
            panel.border_subtitle = "[ ] earlier/later · b back"
            self.query_one("#bill", Static).update(bill_text(view, self.meter.dark))

    def _show(self, view: HistoryView) -> None:
        dark = self.meter.dark
        table = self.query_one("#usage", DataTable)
        table.clear(columns=True)
        table.add_column("")
        for column in view.columns:
            table.add_column(styled(column.name, None, dark, bold=True), key=column.name)
        blank = [""] * len(view.columns)
        for name, values in table_rows(list(view.columns), view.gas_kwh_per_m3):
            if name in SECTIONS:
                table.add_row(styled(SECTIONS[name], "muted", dark, bold=True, right=False), *blank)
            meaning = MEANINGS.get(name) or ("cost" if "€" in name else None)
            total = name.startswith("Σ")
            table.add_row(f"  {name}", *(styled(v, meaning, dark, bold=total) for v in values))
        live = self.meter.live
        always_on = live.always_on if live is not None else None
        title = "Usage and cost" + (f" · {always_on.words()}" if always_on else "")
        self.query_one("#usage-panel").border_title = title
        request = view.request
        words = view.beyond_data or view.label
        panel = self.query_one("#chart-panel")
        panel.border_title = f"{request.commodity.title()} ({view.unit}) · {words}"
        panel.border_subtitle = "[ ] earlier/later · v period · c what" + ("" if self._tall else " · g table")
        widget = self.query_one("#chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        meaning = {"import": "import", "export": "export", "gas": "gas", "water": "water"}.get(request.commodity,
                                                                                              "cost")  # fmt: skip
        # No legend (plotext draws it over the bars): the panel's title says what and in which unit.
        if view.points:
            shift = 0.125 if request.view == "day" else 0.0  # a quarter's bar in the middle of its quarter
            plt.bar([x + shift for x, _ in view.points], [y for _, y in view.points],
                    width=0.4 if request.view != "day" else 0.2, color=rgb(meaning, dark))  # fmt: skip
        _axis(plt, request.view, view)
        y_axis(plt, [y for _, y in view.points], rgb("muted", dark))
        plt.xlabel(CHART_X[request.view])
        widget.refresh()

    def action_move(self, step: int) -> None:
        if self.bill is not None:
            self.bill = replace(self.bill, offset=self.bill.offset + step)
        else:
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
