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
    # For dynamic prices, over the quarters that have a day-ahead price: kWh x that price (EUR) and the kWh;
    # and how many quarters with energy have none (their energy is never priced as if free).
    import_spot_eur: float = 0.0
    export_spot_eur: float = 0.0
    import_priced_kwh: float = 0.0
    export_priced_kwh: float = 0.0
    unpriced_quarters: int = 0

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
    """EUR, VAT included. Injection is a credit, so the export fields are negative or zero. A dynamic contract's
    electricity is in the spot fields; `unpriced_quarters` counts quarters with energy but no day-ahead price,
    whose energy is left out of the cost rather than priced as free."""

    import_day: float = 0.0
    import_night: float = 0.0
    export_day: float = 0.0
    export_night: float = 0.0
    gas: float = 0.0
    water: float = 0.0
    capacity: float = 0.0
    fixed: float = 0.0
    import_spot: float = 0.0
    export_spot: float = 0.0
    unpriced_quarters: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Cost)))

    @property
    def bought(self) -> float:
        return self.import_day + self.import_night + self.import_spot

    @property
    def injected(self) -> float:
        return self.export_day + self.export_night + self.export_spot

    @property
    def electricity(self) -> float:
        return self.bought + self.injected

    @property
    def total(self) -> float:
        return self.electricity + self.gas + self.water + self.capacity + self.fixed


def money(amount: float, *, sign: bool = False) -> str:
    """EUR with two decimals, signed when asked, and never "-0.00" or "+0.00": an injection price times nothing,
    or a cost per hour while nothing flows, is zero, not a credit."""
    text = f"{amount:+.2f}" if sign else f"{amount:.2f}"
    return "0.00" if text in ("-0.00", "+0.00") else text


def gas_cost(m3: float, rates: Rates, kwh_per_m3: float | None) -> float:
    """Gas per m3, or per kWh at the month's conversion factor (from a Fluvius export, else rates.json's cnv)."""
    if rates.gas_kwh is None:
        return m3 * rates.gas_m3
    return m3 * (kwh_per_m3 or rates.gas_kwh_per_m3 or 0.0) * rates.gas_kwh


def day_cost(
    day: date, usage: Usage, rates: Rates, capacity_month_eur: float = 0.0, gas_kwh_per_m3: float | None = None
) -> Cost:
    """The cost of one day: energy at that day's prices, plus its share of the month's capacity and fixed costs."""
    days = calendar.monthrange(day.year, day.month)[1]
    bought, injected = rates.import_spot, rates.export_spot
    return Cost(
        import_day=usage.import_day_kwh * rates.import_day if bought is None else 0.0,
        import_night=usage.import_night_kwh * rates.import_night if bought is None else 0.0,
        export_day=-usage.export_day_kwh * rates.export_day if injected is None else 0.0,
        export_night=-usage.export_night_kwh * rates.export_night if injected is None else 0.0,
        gas=gas_cost(usage.gas_m3, rates, gas_kwh_per_m3),
        water=usage.water_m3 * rates.water_m3,
        capacity=capacity_month_eur / days,
        fixed=rates.fixed_month / days,
        import_spot=bought.factor * usage.import_spot_eur + bought.add * usage.import_priced_kwh if bought else 0.0,
        export_spot=-(injected.factor * usage.export_spot_eur + injected.add * usage.export_priced_kwh)
        if injected
        else 0.0,
        unpriced_quarters=usage.unpriced_quarters if rates.dynamic else 0,
    )


def energy_cost_per_hour(
    import_kw: float, export_kw: float, rates: Rates, night: bool, spot_eur_mwh: float | None = None
) -> float | None:
    """EUR per hour at the power of this moment: what the live screen shows as 'costs now'. A dynamic contract
    needs the quarter's day-ahead price: None without it."""
    if rates.dynamic and spot_eur_mwh is None:
        return None
    bought = rates.import_spot.price(spot_eur_mwh) if rates.import_spot and spot_eur_mwh is not None else (
        rates.import_night if night else rates.import_day)  # fmt: skip
    paid = rates.export_spot.price(spot_eur_mwh) if rates.export_spot and spot_eur_mwh is not None else (
        rates.export_night if night else rates.export_day)  # fmt: skip
    return import_kw * bought - export_kw * paid
