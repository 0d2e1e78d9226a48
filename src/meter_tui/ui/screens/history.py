"""History: the original's usage/cost table (Day-3 .. Year) and charts of any period and commodity."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from meter_tui.energy.costs import Cost, Usage, day_cost
from meter_tui.session import Column
from meter_tui.ui.screens.base import MeterScreen

VIEWS = ("day", "week", "month", "year")
COMMODITIES = ("import", "export", "gas", "water", "cost")


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


def commodity_value(commodity: str, usage: Usage, cost: Cost) -> float:
    return {
        "import": usage.import_kwh,
        "export": usage.export_kwh,
        "gas": usage.gas_m3,
        "water": usage.water_m3,
        "cost": cost.total,
    }[commodity]


class HistoryScreen(MeterScreen):
    BINDINGS = [
        Binding("left_square_bracket", "move(-1)", "Earlier"),
        Binding("right_square_bracket", "move(1)", "Later"),
        Binding("v", "next_view", "Period"),
        Binding("c", "next_commodity", "What"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="history-body"):
            yield DataTable(id="usage", cursor_type="none", zebra_stripes=True)
            yield Static("", id="chart-title")
            yield PlotextPlot(id="chart")
        yield from self.footer()

    def on_mount(self) -> None:
        self.view_index = 2
        self.commodity_index = 0
        self.period_offset = 0
        self._drawn: tuple[object, ...] = ()
        super().on_mount()

    def redraw(self) -> None:
        super().redraw()
        now = self.meter.session.now
        if now is None:
            return
        # Sums over days and months move little in a second: the screen follows the meter's minute, and redraws
        # at once when the period, the commodity or the prices change.
        key = (now.replace(second=0, microsecond=0), self.view_index, self.commodity_index, self.period_offset,
               self.meter.rates_version)  # fmt: skip
        if key != self._drawn:
            self._drawn = key
            self.compute(now.date())

    @work(exclusive=True, group="history")
    async def compute(self, today: date) -> None:
        session = self.meter.session
        first, last, label = self._period(today)
        columns = await self.meter.in_store(session.columns, today)
        if VIEWS[self.view_index] == "day":
            series, quarters = [], await self.meter.in_store(session.quarters_of, last)
        else:
            series, quarters = await self.meter.in_store(session.day_series, first, last), []
        self._show(columns, series, quarters, label)

    def _period(self, today: date) -> tuple[date, date, str]:
        view = VIEWS[self.view_index]
        if view == "day":
            day = today + timedelta(days=self.period_offset)
            return day, day, f"{day:%A %d %B %Y}, per quarter-hour"
        if view == "week":
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=self.period_offset)
            return monday, monday + timedelta(days=6), f"week of {monday:%d %B %Y}, per day"
        if view == "month":
            month = _add_months(today.replace(day=1), self.period_offset)
            return month, _add_months(month, 1) - timedelta(days=1), f"{month:%B %Y}, per day"
        year = date(today.year + self.period_offset, 1, 1)
        return year, date(year.year, 12, 31), f"{year.year}, per month"

    def _show(self, columns: list[Column], series: list, quarters: list, label: str) -> None:
        table = self.query_one("#usage", DataTable)
        table.clear(columns=True)
        table.add_columns("Usage/Cost", *(c.name for c in columns))
        rates = self.meter.session.book.current
        for name, values in table_rows(columns, rates.gas_kwh_per_m3):
            table.add_row(name, *values)
        commodity = COMMODITIES[self.commodity_index]
        unit = {"import": "kWh", "export": "kWh", "gas": "m3", "water": "m3", "cost": "EUR"}[commodity]
        self.query_one("#chart-title", Static).update(
            f"[b]{commodity.title()}[/b] ({unit}) · {label}   [dim]\\[ ] earlier/later · v period · c what[/dim]"
        )
        widget = self.query_one("#chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        if VIEWS[self.view_index] == "day":
            xs = [q.start.hour + q.start.minute / 60 for q in quarters]
            ys = [commodity_value(commodity, q.usage, _quarter_cost(q.usage, self, q.start.date())) for q in quarters]
            plt.xlim(0, 24)
        elif VIEWS[self.view_index] == "year":
            months: dict[int, float] = {}
            for day, usage, cost in series:
                months[day.month] = months.get(day.month, 0.0) + commodity_value(commodity, usage, cost)
            xs, ys = list(months), list(months.values())
        else:
            xs = [day.day for day, _, _ in series]
            ys = [commodity_value(commodity, usage, cost) for _, usage, cost in series]
        if xs:
            plt.bar(xs, ys, width=0.6 if VIEWS[self.view_index] != "day" else 0.2)
        widget.refresh()

    def action_move(self, step: int) -> None:
        self.period_offset += step
        self.redraw()

    def action_next_view(self) -> None:
        self.view_index = (self.view_index + 1) % len(VIEWS)
        self.period_offset = 0
        self.redraw()

    def action_next_commodity(self) -> None:
        self.commodity_index = (self.commodity_index + 1) % len(COMMODITIES)
        self.redraw()


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _quarter_cost(usage: Usage, screen: HistoryScreen, day: date) -> Cost:
    """A quarter's energy cost: the day's prices, without the monthly fixed share."""
    return replace(day_cost(day, usage, screen.meter.session.book.on(day)), fixed=0.0)
