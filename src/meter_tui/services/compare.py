"""What the household's own quarters would have cost under other contracts: each priced the one way every figure
is priced (energy per day or, for a dynamic contract, per quarter at its day-ahead price; capacity and fixed
costs per month), month by month, with the difference to the first contract.

The history is read once and priced once per contract: two years of quarters under two contracts take a few
hundred milliseconds (`bench/compare_bench.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from meter_tui.energy.costs import Cost
from meter_tui.energy.invoice import invoice, invoice_json
from meter_tui.energy.pricing import DayPricer
from meter_tui.energy.rates import RateBook
from meter_tui.store.queries import days, month_peaks, pricing_extras


@dataclass(frozen=True, slots=True)
class ContractMonth:
    month: date
    costs: tuple[Cost, ...]  # one per contract, in the order given


@dataclass(frozen=True, slots=True)
class Comparison:
    names: tuple[str, ...]
    books: tuple[RateBook, ...]
    months: tuple[ContractMonth, ...]

    @property
    def totals(self) -> tuple[Cost, ...]:
        return tuple(sum((m.costs[i] for m in self.months), Cost()) for i in range(len(self.names)))


def compare(
    connection: sqlite3.Connection, contracts: Sequence[tuple[str, RateBook]], first: date, last: date
) -> Comparison:
    rows = days(connection, first, last)
    peaks = month_peaks(connection)
    extras = pricing_extras(connection, [book for _, book in contracts])
    months: dict[date, list[Cost]] = {}
    for index, (_, book) in enumerate(contracts):
        pricer = DayPricer(book, peaks, *extras)
        for row in rows:
            costs = months.setdefault(row.day.replace(day=1), [Cost()] * len(contracts))
            costs[index] = costs[index] + pricer.day(row.day, row.usage)
    return Comparison(
        tuple(name for name, _ in contracts),
        tuple(book for _, book in contracts),
        tuple(ContractMonth(month, tuple(costs)) for month, costs in sorted(months.items())),
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
                "invoices": [
                    invoice_json(invoice(m.month, cost, book.on(m.month).vat))
                    for cost, book in zip(m.costs, comparison.books, strict=True)
                ],
            }
            for m in comparison.months
        ],
        "total": money(comparison.totals),
    }
