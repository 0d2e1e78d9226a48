"""Pricing a stretch of days, the one way every figure of meter-tui is priced: each day at its own rates, with its
share of its month's fixed costs and of the capacity tariff billed on the 12 months up to that month.

The network-cost ceiling ("maximumtarief"), when rates.json sets one, works per month: the month's capacity cost
plus its per-kWh network charge (inside the kWh prices) may not pass Max x the month's offtake, and never goes
below the capacity cost of 2.5 kW; what the ceiling takes off is taken off the capacity line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from meter_tui.energy.capacity import MINIMUM_PEAK_KW, MonthPeakValue, capacity_billed, capacity_summary
from meter_tui.energy.costs import Cost, Usage, day_cost
from meter_tui.energy.rates import RateBook, Rates


def network_ceiling(capacity_eur: float, offtake_kwh: float, rates: Rates, price_kw_year: float) -> float:
    """A month's capacity cost after the ceiling (unchanged when rates.json sets none or it does not bite)."""
    if rates.network_max_kwh is None:
        return capacity_eur
    network = capacity_eur + rates.network_kwh * offtake_kwh
    ceiling = max(rates.network_max_kwh * offtake_kwh, MINIMUM_PEAK_KW * price_kw_year / 12)
    return capacity_eur - max(network - ceiling, 0.0)


class DayPricer:
    """Prices days from a rate book, the month peaks, the months' gas conversion factors and offtake (for the
    ceiling); the capacity share of each month is computed once."""

    __slots__ = ("_book", "_capacity", "_gas", "_offtake", "_peaks", "_start")

    def __init__(
        self,
        book: RateBook,
        peaks: Sequence[MonthPeakValue],
        gas_factors: Mapping[date, float] | None = None,
        offtake: Mapping[date, float] | None = None,
        start: date | None = None,
    ) -> None:
        self._book = book
        self._peaks = peaks
        self._gas = gas_factors or {}
        self._offtake = offtake or {}
        self._capacity: dict[date, float] = {}
        self._start = book.start or start  # the contract's first day: no monthly share before it

    @property
    def start(self) -> date | None:
        return self._start

    def month_capacity(self, day: date) -> float:
        """EUR a month of capacity tariff for the month of `day`, VAT included, after the ceiling."""
        month = day.replace(day=1)
        cost = self._capacity.get(month)
        if cost is None and not capacity_billed(month):
            cost = self._capacity[month] = 0.0  # before 2023: no capacity tariff, and no ceiling to apply
        if cost is None:
            rates = self._book.on(day)
            price = rates.capacity_price(day)
            cost = capacity_summary(self._peaks, month, price).monthly_cost
            cost = network_ceiling(cost, self._offtake.get(month, 0.0), rates, price)
            self._capacity[month] = cost
        return cost

    def day(self, day: date, usage: Usage) -> Cost:
        """A whole day: energy, and the day's share of the month's capacity and fixed costs (none before the
        contract's first day). A day without data is priced too, as Usage(): the month's fixed fees and capacity
        do not shrink because data is missing, the month is said to be incomplete instead."""
        if self._start is not None and day < self._start:
            return self.energy(day, usage)
        return day_cost(day, usage, self._book.on(day), self.month_capacity(day), self._gas.get(day.replace(day=1)))

    def energy(self, day: date, usage: Usage) -> Cost:
        """Energy only, at the day's prices: for a part of a day (a quarter), which carries no monthly share."""
        return replace(day_cost(day, usage, self._book.on(day), 0.0, self._gas.get(day.replace(day=1))), fixed=0.0)
