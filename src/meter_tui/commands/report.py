"""The terminal side of `meter-tui report`, `meter-tui compare` and `meter-tui export`."""

from __future__ import annotations

import calendar
import csv
import json
import sqlite3
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from rich import box
from rich.console import Console
from rich.table import Table

from meter_tui.energy.costs import money
from meter_tui.energy.rates import load_rates, user_rates
from meter_tui.services.compare import compare, comparison_json
from meter_tui.services.report import DayReport, Report, build_report, report_to_json
from meter_tui.store.database import StoreError, open_database
from meter_tui.store.localtime import local_time
from meter_tui.store.queries import Completeness, data_range, quarter_table

T = TypeVar("T")


def _over_history(
    db: Path,
    first: date | None,
    last: date | None,
    work: Callable[[sqlite3.Connection, tuple[date, date] | None], T],
    *,
    whole_months: bool = False,
) -> T:
    """Open the history once, read-only, and run `work` on it with the days asked for (by default the history's
    first and last, or with `whole_months` the first and last day of their months: a bill covers whole months),
    None when it holds no day yet."""
    if not db.exists():
        raise StoreError(f"{db}: no history yet (record or import first)")
    connection = open_database(db, readonly=True)
    try:
        known = data_range(connection)
        if known is not None and whole_months:
            known = (known[0].replace(day=1), month_span(f"{known[1]:%Y-%m}")[1])
        return work(connection, (first or known[0], last or known[1]) if known is not None else None)
    finally:
        connection.close()


def month_span(month: str) -> tuple[date, date]:
    """'2026-10' -> its first and last day; ValueError with what was expected."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError:
        raise ValueError(f"--month: expected YYYY-MM, got {month!r}") from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def run_report(
    db: Path, rates: Path, first: date | None, last: date | None, *, as_json: bool, month: str | None = None
) -> int:
    if month is not None:
        first, last = month_span(month)
    book = user_rates(rates)
    report = _over_history(db, first, last, lambda c, span: build_report(c, book, *span) if span else None,
                           whole_months=True)  # fmt: skip
    if as_json:
        empty = {"days": [], "months": [], "capacity": {"average_12_months_kw": None, "yearly_cost_eur": None}}
        print(json.dumps(report_to_json(report) if report else empty, indent=2))
    elif month is not None:
        _print_invoices(report, month)
    else:
        _print_tables(report)
    return 0


def _print_invoices(report: Report | None, month: str) -> None:
    """The month as the invoice splits it, so that it can be held against the bill."""
    console = Console()
    if report is None or not report.invoices:
        console.print(f"No history in {month}.")
        return
    for bill in report.invoices:
        table = Table(title=f"{bill.month:%B %Y}, as the invoice splits it", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("", no_wrap=True)
        table.add_column("EUR", justify="right", no_wrap=True)
        for label, amount in (
            ("Electricity (bought - injected)", bill.electricity),
            ("Gas", bill.gas),
            ("Water", bill.water),
            ("Energy", bill.energy),
            ("Network: capacity tariff", bill.network),
            ("Fixed fees", bill.fixed),
            ("Total excluding VAT", bill.excluding_vat),
            (f"VAT {bill.vat_rate:.0%} (injection is outside VAT)", bill.vat),
            ("Total", bill.total),
        ):
            table.add_row(label, money(amount), style="bold" if label in ("Energy", "Total") else None)
        console.print(table)
        if bill.missing_quarters:
            console.print(f"Incomplete: {bill.known_quarters:,} of {bill.expected_quarters:,} quarters have data "
                          f"({bill.missing_quarters:,} missing): the energy lines are short, fixed fees and capacity "
                          "are billed for the whole month", markup=False)  # fmt: skip
        if bill.unpriced_quarters:
            console.print(f"{bill.unpriced_quarters} quarters have energy but no day-ahead price (meter-tui import "
                          "prices.csv): their energy is not in these figures", markup=False)  # fmt: skip
    console.print(f"Capacity price: {report.capacity_words}", markup=False)


def run_compare(db: Path, contracts: list[Path], first: date | None, last: date | None, *, as_json: bool) -> int:
    books = [(path.name, load_rates(path)) for path in contracts]
    comparison = _over_history(db, first, last, lambda c, span: compare(c, books, *span) if span else None,
                               whole_months=True)  # fmt: skip
    if as_json:
        print(json.dumps(comparison_json(comparison) if comparison else {"contracts": [b[0] for b in books],
                                                                         "months": []}, indent=2))  # fmt: skip
        return 0
    console = Console()
    if comparison is None:
        console.print("No history yet.")
        return 0
    # Contracts by letter, named in full above the table: file names would not leave room for the months.
    letters = [chr(ord("A") + index) for index in range(len(comparison.names))]
    for letter, name in zip(letters, comparison.names, strict=True):
        console.print(f"{letter}: {name}", markup=False, soft_wrap=True)
    table = Table(title="What your own quarters would have cost, EUR with VAT", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Month", no_wrap=True)
    for letter in letters:
        table.add_column(letter, justify="right", no_wrap=True)
    for letter in letters[1:]:
        table.add_column(f"{letter} - A", justify="right", no_wrap=True)
    for row in (*((f"{m.month:%Y-%m}", m.costs) for m in comparison.months), ("Total", comparison.totals)):
        label, costs = row
        marks = ["*" if c.unpriced_quarters else "" for c in costs]
        cells = [f"{money(c.total)}{mark}" for c, mark in zip(costs, marks, strict=True)]
        cells += [money(c.total - costs[0].total, sign=True) if not (c.unpriced_quarters or costs[0].unpriced_quarters)
                  else "incomplete" for c in costs[1:]]  # fmt: skip
        table.add_row(label, *cells, style="bold" if label == "Total" else None)
    console.print(table)
    _print_incomplete(console, ((m.month, m.quarters) for m in comparison.months))
    if any(c.unpriced_quarters for c in comparison.totals):
        console.print("* some quarters with energy have no day-ahead price (meter-tui import prices.csv): their "
                      "energy is left out, never priced as free", markup=False)  # fmt: skip
    complete = [i for i, cost in enumerate(comparison.totals) if not cost.unpriced_quarters]
    if complete:
        best = min(complete, key=lambda i: comparison.totals[i].total)
        console.print(f"Cheapest: {letters[best]}, {comparison.names[best]}", markup=False, soft_wrap=True)
    return 0


def _print_tables(report: Report | None) -> None:
    """Two tables that fit 80 columns: a day or month per row, the four registers, gas, water, cost and the peak
    quarter (its kW and when it started). A month's kWh and m3 have one decimal: its peak's day and time then
    fit beside them, also in a month of four-figure kWh."""
    console = Console()
    if report is None:
        console.print("No history yet.")
        return
    for title, rows in (("Days", report.days), ("Months", report.months)):
        table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1), show_edge=False)
        places = 2 if title == "Days" else 1
        table.add_column("", no_wrap=True)
        for column in ("+day\nkWh", "+night\nkWh", "-day\nkWh", "-night\nkWh", "gas\nm3", "water\nm3", "cost\nEUR"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("peak\nkW", justify="right", no_wrap=True)
        table.add_column("at", no_wrap=True)
        for row in rows:
            u = row.usage
            if isinstance(row, DayReport):
                label, kw, when = row.day.strftime("%a %Y-%m-%d"), row.peak_kw, row.peak_time
                at = clock(when, "%H:%M") if when else ""
            else:
                label = row.month.strftime("%Y-%m")
                kw, when = (row.peak.kw, row.peak.time) if row.peak else (None, None)
                at = clock(when, "%d %H:%M") if when else ""
            table.add_row(
                label,
                *(
                    f"{v:.{places}f}"
                    for v in (u.import_day_kwh, u.import_night_kwh, u.export_day_kwh, u.export_night_kwh)
                ),
                f"{u.gas_m3:.{places}f}" if "gas" in report.measured else "-",
                f"{u.water_m3:.3f}" if "water" in report.measured else "-",
                money(row.cost.total),
                f"{kw:.3f}" if kw is not None else "",
                at,
            )
        console.print(table)
    _print_notes(console, report)
    capacity = report.capacity
    console.print(
        f"Capacity tariff: 12-month average {capacity.average_kw:.3f} kW, "
        f"{capacity.yearly_cost:.2f} EUR a year ({capacity.monthly_cost:.2f} a month)"
    )
    for note in report.price_notes:
        console.print(f"Capacity price: {note}", markup=False, soft_wrap=True)


def clock(when: datetime, form: str) -> str:
    """A local time as `form`, with its offset when the clock showed it twice (the October night's 02:00-03:00):
    "27 02:30+02:00" is the first, summer-time one."""
    other = when.replace(fold=1 - when.fold)
    twice = other.utcoffset() != when.utcoffset()
    return f"{when:{form}}" + (when.isoformat()[-6:] if twice else "")


def _print_notes(console: Console, report: Report) -> None:
    """Under the tables: what was never measured, the months that miss quarters, a window's own peaks."""
    for quantity in ("gas", "water"):
        if quantity not in report.measured:
            console.print(f"{quantity}: no data (the history has never measured it)", markup=False)
    _print_incomplete(console, ((m.month, m.quarters) for m in report.months))
    for m in report.months:
        if m.window_peak is not None:
            whole = f"{m.peak.kw:.3f} kW ({clock(m.peak.time, '%d %H:%M')})" if m.peak and m.peak.time else "-"
            window = f"{m.window_peak[0]:.3f} kW ({clock(m.window_peak[1], '%d %H:%M')})"
            console.print(f"{m.month:%Y-%m} window peak {window}, month peak {whole}", markup=False, soft_wrap=True)


def _print_incomplete(console: Console, months: Iterable[tuple[date, Completeness]]) -> None:
    """A line per month that misses quarters: its energy is short, never silently."""
    for month, quarters in months:
        if quarters.missing:
            console.print(f"{month:%Y-%m} {quarters.words()}: its energy is short", markup=False)


def run_export(db: Path, first: date | None, last: date | None, out: Path | None) -> int:
    def write(connection: sqlite3.Connection, span: tuple[date, date] | None) -> None:
        handle = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
        try:
            writer = csv.writer(handle)
            writer.writerow(
                ["start", "import_day_kwh", "import_night_kwh", "export_day_kwh", "export_night_kwh", "gas_m3",
                 "water_m3", "average_kw", "max_kw", "gap", "source"]
            )  # fmt: skip
            if span:
                for start, *amounts, average, max_w, gap, source in quarter_table(connection, *span):
                    writer.writerow(
                        [local_time(start).isoformat(), *(f"{a / 1000:.3f}" for a in amounts),
                         f"{average / 1000:.3f}" if average is not None else "",
                         f"{max_w / 1000:.3f}" if max_w is not None else "", gap, source]
                    )  # fmt: skip
        finally:
            if out:
                handle.close()

    _over_history(db, first, last, write)
    return 0
