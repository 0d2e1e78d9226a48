"""Usage and cost per day and month over any range, and the capacity tariff: what `meter-tui report` prints and
what the history screen shows. Reads the store, prices with the energy rules."""

from __future__ import annotations

import calendar
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from meter_tui.energy.capacity import (
    CapacitySummary,
    MonthPeakValue,
    capacity_billed,
    capacity_summary,
    extra_peak_cost_eur,
    forecast,
    peak_cost_eur,
    running_peak,
)
from meter_tui.energy.costs import Cost, Usage
from meter_tui.energy.invoice import Invoice, invoice, invoice_json
from meter_tui.energy.pricing import DayPricer
from meter_tui.energy.rates import RateBook
from meter_tui.p1 import TelegramError, parse_telegram
from meter_tui.p1.values import BRUSSELS
from meter_tui.store.queries import (
    Completeness,
    DayRow,
    billed,
    calendar_days,
    data_range,
    days,
    measured,
    month_completeness,
    month_peaks,
    pricing_extras,
)
from meter_tui.store.raw import latest as latest_raw


@dataclass(frozen=True, slots=True)
class DayReport:
    day: date
    usage: Usage
    cost: Cost
    peak_kw: float | None
    peak_time: datetime | None


@dataclass(frozen=True, slots=True)
class MonthReport:
    month: date
    usage: Usage
    cost: Cost
    peak: MonthPeakValue | None
    quarters: Completeness = field(default_factory=Completeness)
    window_peak: tuple[float, datetime] | None = None  # the highest quarter of a --from/--to window cutting the month


@dataclass(frozen=True, slots=True)
class PeakNow:
    """The month peak and the running quarter at the last stored telegram, and what each adds to the capacity
    bills of the next 12 months."""

    time: datetime
    month_peak_kw: float | None
    month_peak_cost_eur: float
    forecast_kw: float | None
    forecast_extra_cost_eur: float | None


@dataclass(frozen=True, slots=True)
class Report:
    days: tuple[DayReport, ...]
    months: tuple[MonthReport, ...]
    capacity: CapacitySummary
    invoices: tuple[Invoice, ...] = ()
    peak: PeakNow | None = None
    capacity_words: str = ""
    price_notes: tuple[str, ...] = ()  # where each month's capacity price comes from, each said once
    measured: frozenset[str] = frozenset({"gas", "water"})  # the quantities the history ever measured


def build_report(
    connection: sqlite3.Connection, book: RateBook, first: date, last: date, today: date | None = None
) -> Report:
    """Costs use each day's own rates; the capacity share of a month uses the 12 months up to that month. Every
    calendar day from `first` to `last` carries its share of its month's fixed fees and capacity, with data or
    without (from the contract's first day on): a month is billed whole, and says how many quarters it misses."""
    peaks = month_peaks(connection)
    peak_of = {peak.month: peak for peak in peaks}
    known = data_range(connection)
    pricer = DayPricer(book, peaks, *pricing_extras(connection, [book]), start=known[0] if known else None)
    rows = {row.day: row for row in days(connection, first, last)}
    day_reports = [_day(row, pricer.day(row.day, row.usage)) for row in rows.values()]
    usage: dict[date, Usage] = {}
    costs: dict[date, Cost] = {}
    for day in calendar_days(first, last):
        if day not in rows and not billed(day, pricer.start, known):
            continue  # no data, and before the contract or after the history's last month: no bill
        month, row = day.replace(day=1), rows.get(day)
        usage[month] = usage.get(month, Usage()) + (row.usage if row else Usage())
        costs[month] = costs.get(month, Cost()) + pricer.day(day, row.usage if row else Usage())
    quarters = month_completeness(connection, first, last, pricer.start, today or _today())
    month_reports = tuple(
        MonthReport(month, usage[month], costs[month], peak_of.get(month), quarters.get(month, Completeness()),
                    _window_peak(month, first, last, day_reports))
        for month in sorted(costs)
    )  # fmt: skip
    rates = book.on(last)
    summary = capacity_summary(peaks, last, rates.capacity_price(last))
    invoices = tuple(invoice(m.month, m.cost, book.on(m.month).vat, (m.quarters.known, m.quarters.expected))
                     for m in month_reports)  # fmt: skip
    notes = tuple(dict.fromkeys(book.on(m.month).capacity_words(m.month) for m in month_reports))
    return Report(tuple(day_reports), month_reports, summary, invoices, peak_now(connection, book, peaks),
                  rates.capacity_words(last), notes, measured(connection))  # fmt: skip


def _window_peak(month: date, first: date, last: date, reports: list[DayReport]) -> tuple[float, datetime] | None:
    """The highest quarter of the days asked for in `month`, when they are not the whole month (None then, and
    when no day of them has a peak): a window's own peak, beside the month's."""
    if first <= month and last >= month.replace(day=calendar.monthrange(month.year, month.month)[1]):
        return None  # the whole month: its peak is the month's
    found = [(d.peak_kw, d.peak_time) for d in reports if d.day.replace(day=1) == month and d.peak_kw is not None]
    best = max(found, key=lambda pair: pair[0], default=None)
    return (best[0], best[1]) if best is not None and best[1] is not None else None


def _today() -> date:
    return datetime.now(BRUSSELS).date()


def peak_now(connection: sqlite3.Connection, book: RateBook, peaks: list[MonthPeakValue]) -> PeakNow | None:
    """From the last raw telegram kept: the running month's peak and quarter (None when none is kept)."""
    data = latest_raw(connection)
    if data is None:
        return None
    try:
        telegram = parse_telegram(data)
    except TelegramError:
        return None
    if telegram.timestamp is None:
        return None
    now = telegram.timestamp
    month = now.date().replace(day=1)
    price = book.on(now.date()).capacity_price(now.date())
    meter = telegram.month_peak
    best = running_peak(now, meter.time if meter else None, meter.kw if meter else None,
                        {p.month: p for p in peaks}.get(month))  # fmt: skip
    peak_kw = best.kw if best is not None else None
    status = (
        forecast(now, telegram.quarter_average_kw, telegram.power_import_kw or 0.0, peak_kw)
        if telegram.quarter_average_kw is not None
        else None
    )
    return PeakNow(
        now,
        peak_kw,
        peak_cost_eur(peak_kw or 0.0, price),
        status.projected_kw if status else None,
        extra_peak_cost_eur(status.projected_kw, peak_kw, price) if status else None,
    )


def _day(row: DayRow, cost: Cost) -> DayReport:
    return DayReport(row.day, row.usage, cost, row.peak_kw, row.peak_start)


def _energy(usage: Usage) -> dict[str, float]:
    return {
        "import_day_kwh": round(usage.import_day_kwh, 3),
        "import_night_kwh": round(usage.import_night_kwh, 3),
        "export_day_kwh": round(usage.export_day_kwh, 3),
        "export_night_kwh": round(usage.export_night_kwh, 3),
        "gas_m3": round(usage.gas_m3, 3),
        "water_m3": round(usage.water_m3, 3),
    }


def report_to_json(report: Report) -> dict[str, Any]:
    return {
        "days": [
            {
                "date": d.day.isoformat(),
                **_energy(d.usage),
                "cost_eur": round(d.cost.total, 2),
                "peak_kw": d.peak_kw,
                "peak_time": d.peak_time.isoformat() if d.peak_time else None,
            }
            for d in report.days
        ],
        "months": [
            {
                "month": m.month.strftime("%Y-%m"),
                **_energy(m.usage),
                "cost_eur": round(m.cost.total, 2),
                "peak_kw": m.peak.kw if m.peak else None,
                "peak_time": m.peak.time.isoformat() if m.peak and m.peak.time else None,
                "billed_peak_kw": m.peak.billed_kw if m.peak and capacity_billed(m.month) else None,
                "expected_quarters": m.quarters.expected,
                "missing_quarters": m.quarters.missing,
                "window_peak_kw": m.window_peak[0] if m.window_peak else None,
                "window_peak_time": m.window_peak[1].isoformat() if m.window_peak else None,
            }
            for m in report.months
        ],
        "invoices": [invoice_json(bill) for bill in report.invoices],
        "not_measured": sorted({"gas", "water"} - report.measured),  # their zeros are no data, not no usage
        "peak": _peak_json(report.peak),
        "capacity": {
            "average_12_months_kw": round(report.capacity.average_kw, 3),
            "yearly_cost_eur": round(report.capacity.yearly_cost, 2),
            "price_eur_kw_year": round(report.capacity.price_kw_year, 4),
            "price_source": report.capacity_words,
            "price_notes": list(report.price_notes),
            "months": [
                {"month": p.month.strftime("%Y-%m"), "peak_kw": p.kw, "billed_kw": p.billed_kw, "source": p.source}
                for p in report.capacity.months
            ],
        },
    }


def _peak_json(peak: PeakNow | None) -> dict[str, Any] | None:
    if peak is None:
        return None
    return {
        "as_of": peak.time.isoformat(),
        "month_peak_kw": peak.month_peak_kw,
        "month_peak_cost_next_12_months_eur": round(peak.month_peak_cost_eur, 2),
        "forecast_kw": round(peak.forecast_kw, 3) if peak.forecast_kw is not None else None,
        "forecast_extra_cost_next_12_months_eur": round(peak.forecast_extra_cost_eur, 2)
        if peak.forecast_extra_cost_eur is not None
        else None,
    }


MISSING_LINES = 20  # days listed by `check`; the rest are counted


def missing_lines(missing: list[tuple[date, int, int]]) -> list[str]:
    """What `check` says of the quarters without data: a headline, then per day how many of its 96 (92, 100) are
    missing, runs of empty days as one line, the first MISSING_LINES lines and a count of the rest."""
    if not missing:
        return ["missing: none (every quarter between the first and last day has electricity data)"]
    runs: list[tuple[date, date, int, int]] = []  # first, last, missing, due
    for day, absent, due in missing:
        last = runs[-1] if runs else None
        if last and absent == due and last[2] == last[3] and (day - last[1]).days == 1:
            runs[-1] = (last[0], day, last[2] + absent, last[3] + due)
        else:
            runs.append((day, day, absent, due))
    total = sum(absent for _, absent, _ in missing)
    lines = [f"missing: {total:,} quarters without data on {len(missing):,} days:"]
    for first, last, absent, due in runs[:MISSING_LINES]:
        lines.append(f"  {first}: {absent} of {due} quarters missing" if first == last
                     else f"  {first} to {last}: every quarter missing ({absent:,})")  # fmt: skip
    if len(runs) > MISSING_LINES:
        lines.append(f"  ... and {len(runs) - MISSING_LINES} more")
    return lines
