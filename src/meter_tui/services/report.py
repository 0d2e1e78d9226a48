"""Usage and cost per day and month over any range, and the capacity tariff: what `meter-tui report` prints and
what the history screen shows. Reads the store, prices with the energy rules."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from meter_tui.energy.capacity import CapacitySummary, MonthPeakValue, capacity_summary
from meter_tui.energy.costs import Cost, Usage
from meter_tui.energy.pricing import DayPricer
from meter_tui.energy.rates import RateBook
from meter_tui.store.queries import DayRow, days, month_peaks


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


@dataclass(frozen=True, slots=True)
class Report:
    days: tuple[DayReport, ...]
    months: tuple[MonthReport, ...]
    capacity: CapacitySummary


def build_report(connection: sqlite3.Connection, book: RateBook, first: date, last: date) -> Report:
    """Costs use each day's own rates; the capacity share of a month uses the 12 months up to that month."""
    peaks = month_peaks(connection)
    peak_of = {peak.month: peak for peak in peaks}
    pricer = DayPricer(book, peaks)
    day_reports = [_day(row, pricer.day(row.day, row.usage)) for row in days(connection, first, last)]
    months: dict[date, list[DayReport]] = {}
    for report in day_reports:
        months.setdefault(report.day.replace(day=1), []).append(report)
    month_reports = tuple(
        MonthReport(
            month, sum((d.usage for d in group), Usage()), sum((d.cost for d in group), Cost()), peak_of.get(month)
        )
        for month, group in months.items()
    )
    summary = capacity_summary(peaks, last, book.on(last).capacity_kw_year)
    return Report(tuple(day_reports), month_reports, summary)


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
                "billed_peak_kw": m.peak.billed_kw if m.peak else None,
            }
            for m in report.months
        ],
        "capacity": {
            "average_12_months_kw": round(report.capacity.average_kw, 3),
            "yearly_cost_eur": round(report.capacity.yearly_cost, 2),
            "months": [
                {"month": p.month.strftime("%Y-%m"), "peak_kw": p.kw, "billed_kw": p.billed_kw, "source": p.source}
                for p in report.capacity.months
            ],
        },
    }
