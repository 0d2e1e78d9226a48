"""Prices from rates.json, in the format people already use, with optional extras.

    {"Electricity": {"+": {"Day": 0.4, "Night": 0.3}, "-": {"Day": 0.1, "Night": 0.1}},
     "Gas": {"+": 0.5, "cnv": ["kWh", 11.51]}, "Water": {"+": 0.5},
     "Capacity": {"+": 50.12} or {"Area": "Midden-Vlaanderen"},
     "Fixed": {"+": 12.5},
     "Periods": [{"From": "2026-01-01", "Electricity": {"+": {"Day": 0.35}}}]}

A top-level "From" is the contract's first day: its month's fixed fees and capacity are pro-rated from that day
(without it, from the first day of the history); every later month is billed whole, as the invoice bills it.

EUR per kWh or m3 ("+" bought, "-" paid for injection), capacity in EUR per kW per year, fixed costs in EUR per
month. Everything but Electricity is optional. A period overrides the prices it names from its "From" date (local)
on, until the next period: a price change is a new period, and last year's costs stay what they were.

Extras, each optional (the seed format above keeps its meaning):
- "VAT": the rate (default 0.06, Belgian households' rate on electricity, gas and water). Prices are as typed,
  all-in, unless "VAT included": false, then VAT is added to every price typed. The built-in capacity prices are
  published excluding VAT and always get it added. Injection is never taxed: a household sells outside VAT.
- Electricity "+" or "-" as {"Spot": {"Factor": 1.0, "Add": 0.12}}: a dynamic contract, EUR/kWh = Factor x the
  day-ahead price of the quarter (EUR/kWh) + Add. Electricity prices may be negative (Belpex-linked injection).
- Gas {"+": 0.085, "Unit": "kWh"}: priced per kWh, each month's m3 converted at that month's factor from an
  imported Fluvius gas export, else at "cnv".
- Capacity {"kWh": 0.0235, "Max": 0.21}: the per-kWh network charge inside the kWh prices and the network-cost
  ceiling ("maximumtarief"): a month's capacity plus per-kWh network charge is capped at Max x the month's
  offtake, never below 2.5 kW x the capacity price.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from meter_tui.energy.capacity import CAPACITY_START, capacity_billed

# Capacity tariff ("gemiddelde maandpiek", low voltage with peak metering) per year and Fluvius area, EUR/kW/year
# excluding VAT, from VREG's approved tariff lists (tarieflijsten elektriciteit; P1-BELGIUM.md gives 2026's). Only
# figures that could be checked are here; a year without its own uses the nearest year's, and says so.
CAPACITY_PRICES: dict[int, dict[str, float]] = {
    2026: {
        "Antwerpen": 49.40,
        "Halle-Vilvoorde": 56.04,
        "Imewo": 54.20,
        "Kempen": 56.21,
        "Limburg": 49.05,
        "Midden-Vlaanderen": 50.12,
        "West": 57.10,
        "Zenne-Dijle": 56.12,
    },
}
AREAS = tuple(CAPACITY_PRICES[max(CAPACITY_PRICES)])


def capacity_table_year(year: int) -> int:
    """The year of the table used for `year`: its own, else the nearest (the later one on a tie)."""
    return min(CAPACITY_PRICES, key=lambda known: (abs(known - year), -known))


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
class Spot:
    """A dynamic price: EUR/kWh = factor x the quarter's day-ahead price + add (VAT as the contract says)."""

    factor: float
    add: float

    def price(self, eur_mwh: float) -> float:
        return self.factor * eur_mwh / 1000 + self.add


@dataclass(frozen=True, slots=True)
class Rates:
    """The prices valid on one day, all-in (VAT included): what the household pays."""

    import_day: float
    import_night: float
    export_day: float = 0.0
    export_night: float = 0.0
    gas_m3: float = 0.0
    gas_kwh_per_m3: float | None = None
    water_m3: float = 0.0
    capacity_kw_year: float = 0.0  # a price given in rates.json; the area's table when `capacity_area` is set
    fixed_month: float = 0.0
    vat: float = 0.06
    capacity_area: str | None = None
    import_spot: Spot | None = None
    export_spot: Spot | None = None
    gas_kwh: float | None = None  # gas priced per kWh instead of per m3
    network_kwh: float = 0.0  # the per-kWh network charge inside the import prices (for the ceiling)
    network_max_kwh: float | None = None  # the ceiling on capacity + per-kWh network charge, per kWh of offtake
    typed_vat: float = 0.0  # the VAT added to the prices as typed ("VAT included": false); 0 when typed all-in

    def as_typed(self, price: float) -> float:
        """A price as rates.json states it (without the VAT this class added): what the editor shows."""
        return price / (1 + self.typed_vat)

    def capacity_price(self, day: date) -> float:
        """EUR/kW/year with VAT for the month of `day`: the area's price of that year (or the nearest year's)."""
        if self.capacity_area is None:
            return self.capacity_kw_year
        return CAPACITY_PRICES[capacity_table_year(day.year)][self.capacity_area] * (1 + self.vat)

    def capacity_words(self, day: date) -> str:
        """Where the capacity price of `day` comes from, in words for the screen and reports."""
        if not capacity_billed(day):
            return f"no capacity tariff before {CAPACITY_START.year} (it started on {CAPACITY_START:%d %B %Y})"
        if self.capacity_area is None and self.typed_vat:
            return (f"{self.as_typed(self.capacity_kw_year):.2f} EUR/kW/year + VAT {self.vat:.0%}, from rates.json "
                    '("VAT included": false)')  # fmt: skip
        if self.capacity_area is None:
            return f"{self.capacity_kw_year:.2f} EUR/kW/year with VAT, from rates.json"
        year = capacity_table_year(day.year)
        words = f"Fluvius {self.capacity_area} {year}, {CAPACITY_PRICES[year][self.capacity_area]:.2f} + VAT"
        return words if year == day.year else f"{words} (no {day.year} price built in: {year}'s used)"

    @property
    def dynamic(self) -> bool:
        return self.import_spot is not None or self.export_spot is not None


@dataclass(frozen=True, slots=True)
class RateBook:
    """All prices over time: the base rates and the dated periods that change them."""

    periods: tuple[tuple[date, Rates], ...]
    document: dict[str, Any]
    start: date | None = None  # the contract's first day (a top-level "From"): its first month is pro-rated

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


_DEPTH = 16  # the deepest the format nests is 5 (Periods[i].Electricity."+".Spot.Factor)
_SHOWN = 60  # characters of a wrong value a message shows


def _shown(value: Any) -> str:
    """A value as JSON for a message, cut short: a message is one line, whatever the file holds."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _number(value: Any, where: str, *, minimum: float | None = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RatesError(f"{where}: expected a number, got {_shown(value)}")
    if not math.isfinite(value):  # Python's json reads NaN and Infinity, which would price every quarter NaN
        raise RatesError(f"{where}: not a finite number (got {_shown(value)})")
    if minimum is not None and value < minimum:
        raise RatesError(f"{where}: must not be negative, got {value}" if minimum == 0
                         else f"{where}: must be at least {minimum}, got {value}")  # fmt: skip
    if abs(value) > 1_000_000:
        raise RatesError(f"{where}: {value} is not a plausible price")
    return float(value)


def _table(document: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise RatesError(f"{where}{key}: expected an object, got {_shown(value)}")
    return value


_TOP_KEYS = {"Electricity", "Gas", "Water", "Capacity", "Fixed", "Periods", "VAT", "VAT included"}


def _side(electricity: dict[str, Any], sign: str, where: str, vat: float) -> tuple[float, float, Spot | None]:
    """Day and night prices of one direction, or its Spot formula; VAT added to what is bought when asked."""
    prices = electricity.get(sign, {} if sign == "-" else None)
    here = f'{where}Electricity."{sign}"'
    if not isinstance(prices, dict):
        raise RatesError(f'{here}: expected {{"Day": price, "Night": price}} or {{"Spot": {{"Factor": f, "Add": a}}}}')
    if "Spot" in prices:
        spot = prices["Spot"]
        if not isinstance(spot, dict) or set(spot) - {"Factor", "Add"}:
            raise RatesError(f'{here}.Spot: expected {{"Factor": number, "Add": EUR/kWh}}, got {_shown(spot)}')
        factor = _number(spot.get("Factor", 1.0), f"{here}.Spot.Factor")
        add = _number(spot.get("Add", 0.0), f"{here}.Spot.Add", minimum=None)
        return 0.0, 0.0, Spot(factor * (1 + vat), add * (1 + vat))
    required = sign == "+"
    day = _number(prices.get("Day") if required else prices.get("Day", 0.0), f"{here}.Day", minimum=None)
    night = _number(prices.get("Night") if required else prices.get("Night", 0.0), f"{here}.Night", minimum=None)
    return day * (1 + vat), night * (1 + vat), None


def _rates(document: dict[str, Any], where: str) -> Rates:
    unknown = set(document) - _TOP_KEYS - {"From"}
    if unknown:
        raise RatesError(f"{where}{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    vat = _number(document.get("VAT", 0.06), f"{where}VAT")
    if vat > 1:
        raise RatesError(f"{where}VAT: a rate such as 0.06, got {vat}")
    included = document.get("VAT included", True)
    if not isinstance(included, bool):
        raise RatesError(f"{where}VAT included: expected true or false, got {_shown(included)}")
    added = 0.0 if included else vat  # what every typed price is multiplied by, beyond 1
    electricity = _table(document, "Electricity", where)
    import_day, import_night, import_spot = _side(electricity, "+", where, added)
    export_day, export_night, export_spot = _side(electricity, "-", where, 0.0)  # injection is outside VAT
    gas = _table(document, "Gas", where)
    water = _table(document, "Water", where)
    capacity = _table(document, "Capacity", where)
    fixed = _table(document, "Fixed", where)
    kwh_per_m3 = None
    if "cnv" in gas:
        cnv = gas["cnv"]
        if not (isinstance(cnv, list) and len(cnv) == 2 and cnv[0] == "kWh"):
            raise RatesError(f'{where}Gas.cnv: expected ["kWh", factor], got {_shown(cnv)}')
        kwh_per_m3 = _number(cnv[1], f"{where}Gas.cnv[1]", minimum=0.001)
    unit = gas.get("Unit", "m3")
    if unit not in ("m3", "kWh"):
        raise RatesError(f'{where}Gas.Unit: "m3" or "kWh", got {_shown(unit)}')
    if unit == "kWh" and kwh_per_m3 is None:
        raise RatesError(f'{where}Gas.cnv: gas priced per kWh needs ["kWh", factor], the conversion used for the '
                         "months no imported Fluvius gas export covers")  # fmt: skip
    gas_price = _number(gas.get("+", 0.0), f'{where}Gas."+"') * (1 + added)
    area = capacity.get("Area")
    if area is not None and area not in AREAS:
        raise RatesError(f"{where}Capacity.Area: unknown Fluvius area {_shown(area)} (known: {', '.join(AREAS)})")
    capacity_price = 0.0
    if "+" in capacity:
        capacity_price, area = _number(capacity["+"], f'{where}Capacity."+"') * (1 + added), None
    ceiling = capacity.get("Max")
    return Rates(
        import_day=import_day,
        import_night=import_night,
        export_day=export_day,
        export_night=export_night,
        gas_m3=gas_price if unit == "m3" else 0.0,
        gas_kwh_per_m3=kwh_per_m3,
        water_m3=_number(water.get("+", 0.0), f'{where}Water."+"') * (1 + added),
        capacity_kw_year=capacity_price,
        fixed_month=_number(fixed.get("+", 0.0), f'{where}Fixed."+"') * (1 + added),
        vat=vat,
        capacity_area=area,
        import_spot=import_spot,
        export_spot=export_spot,
        gas_kwh=gas_price if unit == "kWh" else None,
        network_kwh=_number(capacity.get("kWh", 0.0), f"{where}Capacity.kWh") * (1 + added),
        network_max_kwh=_number(ceiling, f"{where}Capacity.Max") * (1 + added) if ceiling is not None else None,
        typed_vat=added,
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = deepcopy(base)
    for key, value in override.items():
        # A Spot formula and day/night prices do not mix: a period that switches contract replaces the side.
        switches = (
            isinstance(value, dict) and isinstance(merged.get(key), dict) and ("Spot" in value or "Spot" in merged[key])
        )
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not switches:
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = deepcopy(value)
    return merged


def parse_rates(document: Any, source: str = "rates.json") -> RateBook:
    """Check a rates document completely; every error names `source` and the key path."""
    where = f"{source}: "
    if not isinstance(document, dict):
        raise RatesError(f"{where}expected a JSON object at the top")
    base_doc = {k: v for k, v in document.items() if k not in ("Periods", "From")}
    contract_start = None
    if "From" in document:
        try:
            contract_start = date.fromisoformat(str(document["From"]))
        except ValueError:
            raise RatesError(f"{where}From: expected the contract's first day YYYY-MM-DD, "
                             f"got {_shown(document['From'])}") from None  # fmt: skip
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
            raise RatesError(f"{here}From: expected a date YYYY-MM-DD, got {_shown(period.get('From'))}") from None
        if start <= periods[-1][0]:
            raise RatesError(f"{here}From: {start} is not after the previous period")
        effective = _merge(effective, {k: v for k, v in period.items() if k != "From"})
        periods.append((start, _rates(effective, here)))
    return RateBook(tuple(periods), document, contract_start)


def user_rates(path: Path) -> RateBook:
    """The user's rates file, created from the example on first use."""
    if not path.exists():
        return save_rates(path, deepcopy(EXAMPLE_RATES))
    return load_rates(path)


def load_rates(path: Path) -> RateBook:
    """A rates file read and checked; whatever it holds, a problem is a RatesError of one line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RatesError(f"{path}: cannot read: {error.strerror}") from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise RatesError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save it as UTF-8"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RatesError(f"{path}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise RatesError(f"{path}: nested too deeply (at most {_DEPTH} levels)") from None
    _check_depth(document, str(path))
    return parse_rates(document, str(path))


def _check_depth(document: Any, source: str) -> None:
    """Refuse a document nested deeper than the format ever is, before anything walks it recursively."""
    level = [document]
    for _ in range(_DEPTH + 1):
        level = [c for v in level if isinstance(v, dict | list) for c in (v.values() if isinstance(v, dict) else v)]
        if not level:
            return
    raise RatesError(f"{source}: nested too deeply (at most {_DEPTH} levels)")


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
