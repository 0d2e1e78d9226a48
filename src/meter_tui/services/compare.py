"""What the household's own quarters would have cost under other contracts: each priced the one way every figure
is priced (energy per day or, for a dynamic contract, per quarter at its day-ahead price; capacity and fixed
costs per month), month by month, with the difference to the first contract.

The history is read once and priced once per contract: two years of quarters under two contracts take a few
hundred milliseconds (`bench/compare_bench.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from meter_tui.energy.costs import Cost, Usage
from meter_tui.energy.invoice import invoice, invoice_json
from meter_tui.energy.pricing import DayPricer
from meter_tui.energy.rates import RateBook
from meter_tui.p1.values import BRUSSELS
from meter_tui.store.queries import (
    Completeness,
    billed,
    calendar_days,
    data_range,
    days,
    month_completeness,
    month_peaks,
    pricing_extras,
)


@dataclass(frozen=True, slots=True)
class ContractMonth:
    month: date
    costs: tuple[Cost, ...]  # one per contract, in the order given
    quarters: Completeness = field(default_factory=Completeness)  # the month's quarters with data, of those due


@dataclass(frozen=True, slots=True)
class Comparison:
    names: tuple[str, ...]
    books: tuple[RateBook, ...]
    months: tuple[ContractMonth, ...]

    @property
    def totals(self) -> tuple[Cost, ...]:
        return tuple(sum((m.costs[i] for m in self.months), Cost()) for i in range(len(self.names)))

    @property
    def quarters(self) -> Completeness:
        return sum((m.quarters for m in self.months), Completeness())


def compare(
    connection: sqlite3.Connection,
    contracts: Sequence[tuple[str, RateBook]],
    first: date,
    last: date,
    today: date | None = None,
) -> Comparison:
    """Every calendar day of `first`..`last` from the history's first day on is priced, with data or without: each
    contract's fixed fees and capacity are billed per whole month (pro-rated in its first), never shrunk by missing
    data; the months say how many quarters they miss."""
    rows = {row.day: row for row in days(connection, first, last)}
    peaks = month_peaks(connection)
    extras = pricing_extras(connection, [book for _, book in contracts])
    known = data_range(connection)
    history_start = known[0] if known else None
    months: dict[date, list[Cost]] = {}
    for index, (_, book) in enumerate(contracts):
        pricer = DayPricer(book, peaks, *extras, start=history_start)
        for day in calendar_days(first, last):
            row = rows.get(day)
            if row is None and not billed(day, pricer.start, known):
                continue  # no data, and before the contract or after the history's last month: no bill
            costs = months.setdefault(day.replace(day=1), [Cost()] * len(contracts))
            costs[index] = costs[index] + pricer.day(day, row.usage if row else Usage())
    quarters = month_completeness(connection, first, last, history_start, today or datetime.now(BRUSSELS).date())
    return Comparison(
        tuple(name for name, _ in contracts),
        tuple(book for _, book in contracts),
        tuple(
            ContractMonth(month, tuple(costs), quarters.get(month, Completeness()))
            for month, costs in sorted(months.items())
        ),
    )


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    def money(costs: Sequence[Cost]) -> dict[str, Any]:
        totals = [round(c.total, 2) for c in costs]
        # No difference where a side misses the energy of quarters without a day-ahead price: it is no saving.
        complete = [not (c.unpriced_quarters or costs[0].unpriced_quarters) for c in costs]
        return {
            "cost_eur": totals,
            "difference_eur": [round(t - totals[0], 2) if ok else None for t, ok in zip(totals, complete, strict=True)],
            "unpriced_quarters": [c.unpriced_quarters for c in costs],
        }

    return {
        "contracts": list(comparison.names),
        "months": [
            {
                "month": m.month.strftime("%Y-%m"),
                **money(m.costs),
                "expected_quarters": m.quarters.expected,
                "missing_quarters": m.quarters.missing,
                "invoices": [
                    invoice_json(invoice(m.month, cost, book.on(m.month).vat, (m.quarters.known, m.quarters.expected)))
                    for cost, book in zip(m.costs, comparison.books, strict=True)
                ],
            }
            for m in comparison.months
        ],
        "total": {
            **money(comparison.totals),
            "expected_quarters": comparison.quarters.expected,
            "missing_quarters": comparison.quarters.missing,
        },
    }
