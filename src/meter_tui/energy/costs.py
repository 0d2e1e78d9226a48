"""What energy costs: per day from that day's usage and that day's rates, and any period as a sum of days.

Capacity and fixed costs are monthly; a day carries 1/(days in its month) of its month's share, so a week or a
custom range is charged for exactly the days it covers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, fields
from datetime import date

from meter_tui.energy.rates import Rates


@dataclass(frozen=True, slots=True)
class Usage:
    import_day_kwh: float = 0.0
    import_night_kwh: float = 0.0
    export_day_kwh: float = 0.0
    export_night_kwh: float = 0.0
    gas_m3: float = 0.0
    water_m3: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Usage)))

    @property
    def import_kwh(self) -> float:
        return self.import_day_kwh + self.import_night_kwh

    @property
    def export_kwh(self) -> float:
        return self.export_day_kwh + self.export_night_kwh


@dataclass(frozen=True, slots=True)
class Cost:
    """EUR. Injection is a credit, so the export fields are negative or zero."""

    import_day: float = 0.0
    import_night: float = 0.0
    export_day: float = 0.0
    export_night: float = 0.0
    gas: float = 0.0
    water: float = 0.0
    capacity: float = 0.0
    fixed: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Cost)))

    @property
    def electricity(self) -> float:
        return self.import_day + self.import_night + self.export_day + self.export_night

    @property
    def total(self) -> float:
        return self.electricity + self.gas + self.water + self.capacity + self.fixed


def day_cost(day: date, usage: Usage, rates: Rates, capacity_month_eur: float = 0.0) -> Cost:
    """The cost of one day: energy at that day's prices, plus its share of the month's capacity and fixed costs."""
    days = calendar.monthrange(day.year, day.month)[1]
    return Cost(
        import_day=usage.import_day_kwh * rates.import_day,
        import_night=usage.import_night_kwh * rates.import_night,
        export_day=-usage.export_day_kwh * rates.export_day,
        export_night=-usage.export_night_kwh * rates.export_night,
        gas=usage.gas_m3 * rates.gas_m3,
        water=usage.water_m3 * rates.water_m3,
        capacity=capacity_month_eur / days,
        fixed=rates.fixed_month / days,
    )


def energy_cost_per_hour(import_kw: float, export_kw: float, rates: Rates, night: bool) -> float:
    """EUR per hour at the power of this moment: what the live screen shows as 'costs now'."""
    if night:
        return import_kw * rates.import_night - export_kw * rates.export_night
    return import_kw * rates.import_day - export_kw * rates.export_day
