"""A month as the supplier's invoice shows it: energy, network (the capacity tariff), fixed fees, VAT and total,
so that a user can hold meter-tui's figures against the bill.

Costs are computed VAT included (rates.json's prices are all-in, or made so); the invoice takes the VAT back out
of every line but injection, which a household sells outside VAT. The lines excluding VAT plus the VAT line add up
to the total to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from meter_tui.energy.costs import Cost


@dataclass(frozen=True, slots=True)
class Invoice:
    month: date
    electricity: float  # bought minus injection, excluding VAT
    gas: float
    water: float
    network: float  # the capacity tariff (after the network-cost ceiling), excluding VAT
    fixed: float
    vat: float
    total: float  # VAT included
    vat_rate: float
    unpriced_quarters: int = 0  # dynamic contracts: quarters with energy but no day-ahead price, left out
    known_quarters: int = 0  # quarters of the billed days with electricity data ...
    expected_quarters: int = 0  # ... of those the billed days have: fewer means the energy lines are short

    @property
    def missing_quarters(self) -> int:
        return self.expected_quarters - self.known_quarters

    @property
    def energy(self) -> float:
        return self.electricity + self.gas + self.water

    @property
    def excluding_vat(self) -> float:
        return self.total - self.vat


def invoice(month: date, cost: Cost, vat_rate: float, quarters: tuple[int, int] = (0, 0)) -> Invoice:
    """Split a month's cost (VAT included) into the invoice's lines; `quarters` is (known, expected)."""
    out = 1 + vat_rate
    taxed = cost.bought + cost.gas + cost.water + cost.capacity + cost.fixed
    return Invoice(
        month=month,
        electricity=cost.bought / out + cost.injected,
        gas=cost.gas / out,
        water=cost.water / out,
        network=cost.capacity / out,
        fixed=cost.fixed / out,
        vat=taxed - taxed / out,
        total=cost.total,
        vat_rate=vat_rate,
        unpriced_quarters=cost.unpriced_quarters,
        known_quarters=quarters[0],
        expected_quarters=quarters[1],
    )


def invoice_json(bill: Invoice) -> dict[str, float | int | str]:
    return {
        "month": bill.month.strftime("%Y-%m"),
        "electricity_eur": round(bill.electricity, 2),
        "gas_eur": round(bill.gas, 2),
        "water_eur": round(bill.water, 2),
        "energy_eur": round(bill.energy, 2),
        "network_capacity_eur": round(bill.network, 2),
        "fixed_eur": round(bill.fixed, 2),
        "excluding_vat_eur": round(bill.excluding_vat, 2),
        "vat_rate": bill.vat_rate,
        "vat_eur": round(bill.vat, 2),
        "total_eur": round(bill.total, 2),
        "unpriced_quarters": bill.unpriced_quarters,
        "expected_quarters": bill.expected_quarters,
        "missing_quarters": bill.missing_quarters,
    }
