"""Pricing a stretch of days, the one way every figure of meter-tui is priced: each day at its own rates, with its
share of its month's fixed costs and of the capacity tariff billed on the 12 months up to that month."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from meter_tui.energy.capacity import MonthPeakValue, capacity_summary
from meter_tui.energy.costs import Cost, Usage, day_cost
from meter_tui.energy.rates import RateBook


class DayPricer:
    """Prices days from a rate book and the month peaks; the capacity share of each month is computed once."""

    __slots__ = ("_book", "_capacity", "_peaks")

    def __init__(self, book: RateBook, peaks: Sequence[MonthPeakValue]) -> None:
        self._book = book
        self._peaks = peaks
        self._capacity: dict[date, float] = {}

    def month_capacity(self, day: date) -> float:
        """EUR a month of capacity tariff for the month of `day`."""
        month = day.replace(day=1)
        cost = self._capacity.get(month)
        if cost is None:
            cost = capacity_summary(self._peaks, month, self._book.on(day).capacity_kw_year).monthly_cost
            self._capacity[month] = cost
        return cost

    def day(self, day: date, usage: Usage) -> Cost:
        """A whole day: energy, and the day's share of the month's capacity and fixed costs."""
        return day_cost(day, usage, self._book.on(day), self.month_capacity(day))

    def energy(self, day: date, usage: Usage) -> Cost:
        """Energy only, at the day's prices: for a part of a day (a quarter), which carries no monthly share."""
        return replace(day_cost(day, usage, self._book.on(day)), fixed=0.0)
