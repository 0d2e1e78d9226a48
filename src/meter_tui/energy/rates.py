"""Prices from rates.json, in the format people already use, with optional extras.

    {"Electricity": {"+": {"Day": 0.4, "Night": 0.3}, "-": {"Day": 0.1, "Night": 0.1}},
     "Gas": {"+": 0.5, "cnv": ["kWh", 11.51]}, "Water": {"+": 0.5},
     "Capacity": {"+": 50.12} or {"Area": "Midden-Vlaanderen"},
     "Fixed": {"+": 12.5},
     "Periods": [{"From": "2026-01-01", "Electricity": {"+": {"Day": 0.35}}}]}

EUR per kWh or m3 ("+" bought, "-" paid for injection), capacity in EUR per kW per year, fixed costs in EUR per
month. Gas is priced per m3; "cnv" converts m3 to kWh for display. Everything but Electricity is optional.
A period overrides the prices it names from its "From" date (local) on, until the next period: a price change is
a new period, and last year's costs stay what they were.
"""

from __future__ import annotations

import json
import os
import tempfile
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# 2026 capacity tariff per Fluvius area, EUR/kW/year excluding VAT (P1-BELGIUM.md).
CAPACITY_PRICES_2026 = {
    "Antwerpen": 49.40,
    "Halle-Vilvoorde": 56.04,
    "Imewo": 54.20,
    "Kempen": 56.21,
    "Limburg": 49.05,
    "Midden-Vlaanderen": 50.12,
    "West": 57.10,
    "Zenne-Dijle": 56.12,
}


# The example the repository ships as rates.json, and what a first run writes to the user's config dir: all-in
# prices (energy, per-kWh network costs, levies, 6% VAT) of a Flemish household, rounded (README: "Prices").
EXAMPLE_RATES: dict[str, Any] = {
    "Electricity": {"+": {"Day": 0.31, "Night": 0.25}, "-": {"Day": 0.03, "Night": 0.02}},
    "Gas": {"+": 0.98, "cnv": ["kWh", 11.51]},
    "Water": {"+": 5.5},
    "Capacity": {"Area": "Midden-Vlaanderen"},
    "Fixed": {"+": 10.0},
    "Periods": [],
}


class RatesError(Exception):
    """rates.json cannot be used: says which file, which key and what is wrong."""


@dataclass(frozen=True, slots=True)
class Rates:
    """The prices valid on one day."""

    import_day: float
    import_night: float
    export_day: float = 0.0
    export_night: float = 0.0
    gas_m3: float = 0.0
    gas_kwh_per_m3: float | None = None
    water_m3: float = 0.0
    capacity_kw_year: float = 0.0
    fixed_month: float = 0.0


@dataclass(frozen=True, slots=True)
class RateBook:
    """All prices over time: the base rates and the dated periods that change them."""

    periods: tuple[tuple[date, Rates], ...]
    document: dict[str, Any]

    def on(self, day: date) -> Rates:
        current = self.periods[0][1]
        for start, rates in self.periods:
            if start <= day:
                current = rates
            else:
                break
        return current

    @property
    def current(self) -> Rates:
        return self.periods[-1][1]


def _number(value: Any, where: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RatesError(f"{where}: expected a number, got {json.dumps(value)}")
    if value < minimum:
        raise RatesError(f"{where}: must not be negative, got {value}")
    if value > 1_000_000:
        raise RatesError(f"{where}: {value} is not a plausible price")
    return float(value)


def _table(document: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise RatesError(f"{where}{key}: expected an object, got {json.dumps(value)}")
    return value


_TOP_KEYS = {"Electricity", "Gas", "Water", "Capacity", "Fixed", "Periods"}


def _rates(document: dict[str, Any], where: str) -> Rates:
    unknown = set(document) - _TOP_KEYS - {"From"}
    if unknown:
        raise RatesError(f"{where}{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    electricity = _table(document, "Electricity", where)
    bought = electricity.get("+")
    if not isinstance(bought, dict):
        raise RatesError(f'{where}Electricity."+": expected {{"Day": price, "Night": price}}')
    injected = electricity.get("-", {})
    if not isinstance(injected, dict):
        raise RatesError(f'{where}Electricity."-": expected {{"Day": price, "Night": price}}')
    gas = _table(document, "Gas", where)
    water = _table(document, "Water", where)
    capacity = _table(document, "Capacity", where)
    fixed = _table(document, "Fixed", where)
    kwh_per_m3 = None
    if "cnv" in gas:
        cnv = gas["cnv"]
        if not (isinstance(cnv, list) and len(cnv) == 2 and cnv[0] == "kWh"):
            raise RatesError(f'{where}Gas.cnv: expected ["kWh", factor], got {json.dumps(cnv)}')
        kwh_per_m3 = _number(cnv[1], f"{where}Gas.cnv[1]", minimum=0.001)
    capacity_price = 0.0
    if "Area" in capacity:
        area = capacity["Area"]
        if area not in CAPACITY_PRICES_2026:
            raise RatesError(f"{where}Capacity.Area: unknown Fluvius area {json.dumps(area)} "
                             f"(known: {', '.join(CAPACITY_PRICES_2026)})")  # fmt: skip
        capacity_price = CAPACITY_PRICES_2026[area]
    if "+" in capacity:
        capacity_price = _number(capacity["+"], f'{where}Capacity."+"')
    return Rates(
        import_day=_number(bought.get("Day"), f'{where}Electricity."+".Day'),
        import_night=_number(bought.get("Night"), f'{where}Electricity."+".Night'),
        export_day=_number(injected.get("Day", 0.0), f'{where}Electricity."-".Day'),
        export_night=_number(injected.get("Night", 0.0), f'{where}Electricity."-".Night'),
        gas_m3=_number(gas.get("+", 0.0), f'{where}Gas."+"'),
        gas_kwh_per_m3=kwh_per_m3,
        water_m3=_number(water.get("+", 0.0), f'{where}Water."+"'),
        capacity_kw_year=capacity_price,
        fixed_month=_number(fixed.get("+", 0.0), f'{where}Fixed."+"'),
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = deepcopy(value)
    return merged


def parse_rates(document: Any, source: str = "rates.json") -> RateBook:
    """Check a rates document completely; every error names `source` and the key path."""
    where = f"{source}: "
    if not isinstance(document, dict):
        raise RatesError(f"{where}expected a JSON object at the top")
    base_doc = {k: v for k, v in document.items() if k != "Periods"}
    periods: list[tuple[date, Rates]] = [(date.min, _rates(base_doc, where))]
    raw_periods = document.get("Periods", [])
    if not isinstance(raw_periods, list):
        raise RatesError(f"{where}Periods: expected a list")
    effective = base_doc
    for index, period in enumerate(raw_periods):
        here = f"{where}Periods[{index}]."
        if not isinstance(period, dict):
            raise RatesError(f"{here[:-1]}: expected an object")
        try:
            start = date.fromisoformat(str(period.get("From")))
        except ValueError:
            raise RatesError(f"{here}From: expected a date YYYY-MM-DD, got {json.dumps(period.get('From'))}") from None
        if start <= periods[-1][0]:
            raise RatesError(f"{here}From: {start} is not after the previous period")
        effective = _merge(effective, {k: v for k, v in period.items() if k != "From"})
        periods.append((start, _rates(effective, here)))
    return RateBook(tuple(periods), document)


def user_rates(path: Path) -> RateBook:
    """The user's rates file, created from the example on first use."""
    if not path.exists():
        return save_rates(path, deepcopy(EXAMPLE_RATES))
    return load_rates(path)


def load_rates(path: Path) -> RateBook:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RatesError(f"{path}: cannot read: {error.strerror}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RatesError(f"{path}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    return parse_rates(document, str(path))


def save_rates(path: Path, document: dict[str, Any]) -> RateBook:
    """Check, then write atomically: a temporary file beside it, fsync, rename. A crash leaves the old or the new
    file, never half of one."""
    book = parse_rates(document, str(path))
    text = json.dumps(document, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".rates-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return book
