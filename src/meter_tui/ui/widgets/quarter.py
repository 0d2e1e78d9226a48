"""The words and rows of the quarter-peak and price panels, shared by the Peak screen and the Live overview.

Only wording and colour: every figure comes ready from the views (services) and the prices in force.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual_plotext import PlotextPlot

from meter_tui.p1.telegram import Tariff, Telegram
from meter_tui.services.prices import PricesView
from meter_tui.services.views import PeakView
from meter_tui.ui.palette import colours, rgb, styled

# Flanders' usual schedule (P1-BELGIUM.md); the meter's tariff flag, not this text, decides what is billed.
SCHEDULE = "night: 22:00-07:00 on weekdays, all weekend (the meter decides)"


def left_in_words(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def quarter_lines(view: PeakView, dark: bool) -> Text:
    """The running quarter in sentences: what it is so far, where it heads, and what may still be drawn."""
    c = colours(dark)
    status = view.forecast
    if status is None:
        return Text("This meter sends no quarter average (1-0:1.4.0).")
    end = status.start + timedelta(minutes=15)
    left = left_in_words(status.seconds_left)
    peak = f"{view.month_peak_kw:.3f} kW" if view.month_peak_kw is not None else "none yet"
    when = f" ({view.month_peak_time:%d %b %H:%M})" if view.month_peak_time else ""
    text = Text.assemble(
        (f"Quarter {status.start:%H:%M}-{end:%H:%M}", "bold"), f", {left} left\n",
        "Energy so far as kW ", (f"{status.average_kw:.3f}", f"bold {c['import']}"),
        " · forecast ", (f"{status.projected_kw:.3f} kW", f"bold {c['import']}"), "\n",
        "Month peak ", (peak, "bold"), when, "\n",
    )  # fmt: skip
    if status.new_peak_certain:
        text.append(f"NEW MONTH PEAK: this quarter is already above {status.threshold_kw:.3f} kW",
                    f"bold {c['alarm']}")  # fmt: skip
    elif status.new_peak_likely:
        text.append(f"WARNING: at this power the quarter ends above {status.threshold_kw:.3f} kW",
                    f"bold {c['alarm']}")  # fmt: skip
    else:
        text.append("You may draw up to ")
        text.append(f"{status.allowed_kw:.2f} kW", f"bold {c['export']}")
        text.append(f" for the remaining {left}")
        if status.limited and status.connection is not None:
            text.append(f" (all the connection carries: {status.connection.known_from})")
    return text


def draw_quarters(plt: Any, view: PeakView, dark: bool, width: int) -> None:
    """Today's quarter averages as bars, the month peak as a labelled line, on a plotext figure `width` columns
    wide. Few enough hour ticks that no two labels collide: plotext drops colliding ones in an order that changes
    from one process to the next."""
    quarters = [(q.start.hour + q.start.minute / 60, q.average_kw or 0.0) for q in view.today]
    plt.clear_data()
    plt.clear_figure()
    if quarters:  # no legend: plotext draws it over the bars, and the panel's title says what they are
        plt.bar([x for x, _ in quarters], [y for _, y in quarters], width=0.2, color=rgb("import", dark))
    if view.month_peak_kw:
        plt.hline(view.month_peak_kw, rgb("alarm", dark))
        plt.text(f"month peak {view.month_peak_kw:.2f} kW", 0.3, view.month_peak_kw, color=rgb("alarm", dark),
                 alignment="left")  # fmt: skip
        plt.ylim(0, max([view.month_peak_kw, *(y for _, y in quarters)]) * 1.15)
    plt.xlim(0, 24)
    hours = [0, 3, 6, 9, 12, 15, 18, 21, 24] if width >= 60 else [0, 6, 12, 18, 24]
    plt.xticks(hours, [f"{h}h" if h in (0, 24) else str(h) for h in hours])


class QuarterChart(PlotextPlot):
    """Today's quarters against the month peak, drawn again only when they change (once a quarter), the theme
    changes or the chart is resized."""

    _drawn: object = None

    def show(self, view: PeakView, dark: bool) -> None:
        key = (view.today, view.month_peak_kw, dark, self.size)
        if key != self._drawn:
            self._drawn = key
            draw_quarters(self.plt, view, dark, self.size.width)
            self.refresh()

    def forget(self) -> None:
        self._drawn = None


def months_rows(view: PeakView, dark: bool, *, billed: bool) -> list[tuple[RenderableType, ...]]:
    """The month peaks, newest first: month, when, kW (and the kW billed, at least 2.5)."""
    rows: list[tuple[RenderableType, ...]] = []
    for peak in reversed(view.months):
        row: tuple[RenderableType, ...] = (
            peak.month.strftime("%Y-%m"),
            styled(peak.time.strftime("%d %a %H:%M") if peak.time else "-", None, dark),
            styled(f"{peak.kw:.3f}", "import", dark),
        )
        if billed:
            row = (*row, styled(f"{peak.billed_kw:.3f}", "cost", dark))
        rows.append(row)
    return rows


def rates_text(prices: PricesView | None, telegram: Telegram, dark: bool) -> RenderableType:
    """The prices in force on the meter's day, bought and injected, day and night, and the tariff now."""
    if prices is None or telegram.timestamp is None:
        return ""
    c = colours(dark)
    day = telegram.timestamp.date()
    rates = prices.book.on(day)
    night = telegram.tariff is Tariff.NIGHT
    table = Table.grid(padding=(0, 2))
    table.add_column()
    for _ in range(2):
        table.add_column(justify="right")
    now = "bold underline"
    table.add_row("EUR/kWh", Text("day", now if not night else ""), Text("night", now if night else ""))
    for name, day_price, night_price, spot, meaning in (
        ("bought", rates.import_day, rates.import_night, rates.import_spot, "import"),
        ("injected", rates.export_day, rates.export_night, rates.export_spot, "export"),
    ):
        if spot is not None:  # a dynamic contract: the formula, over both columns
            formula = f"{spot.factor:.3g} x day-ahead + {spot.add:.3f}"
            table.add_row(name, Text(formula, c[meaning]), "")
        else:
            table.add_row(name, Text(f"{day_price:.3f}", c[meaning]), Text(f"{night_price:.3f}", c[meaning]))
    gas = (rates.gas_kwh, "kWh") if rates.gas_kwh is not None else (rates.gas_m3, "m3")
    year_note = "" if rates.capacity_area is None or rates.capacity_words(day).endswith("+ VAT") else (
        f" ({rates.capacity_words(day).split('(')[-1].rstrip(')')})")  # fmt: skip
    lines = Text.assemble(
        "gas ", (f"{gas[0]:.3f}", c["gas"]), f" EUR/{gas[1]} · water ", (f"{rates.water_m3:.3f}", c["water"]),
        " EUR/m3\ncapacity ", (f"{rates.capacity_price(day):.2f}", c["cost"]), " EUR/kW/year · fixed ",
        (f"{rates.fixed_month:.2f}", c["cost"]), " EUR/month", (year_note, c["muted"]), "\n", (SCHEDULE, c["muted"]),
    )  # fmt: skip
    grid = Table.grid()
    grid.add_row(table)
    grid.add_row(lines)
    return grid
