"""A month of a real Fluvius export (November 2023, quarter-hour electricity and hourly gas) priced by hand from the
rules, straight from the CSV files, and by `meter-tui report --month` and `meter-tui compare` through the real
command line and a real SQLite history: under a fixed contract with prices excluding VAT, and under a dynamic
contract with a crafted day-ahead price file. Equal to the cent."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import FLUVIUS

ELECTRICITY = FLUVIUS / "en_electricity_15min_2023-10-22_2025-04-26.csv"
GAS = FLUVIUS / "en_gas_hourly_2023-10-22_2025-04-26.csv"
VAT = 0.06

FIXED = {
    "VAT": VAT,
    "VAT included": False,
    "Electricity": {"+": {"Day": 0.25, "Night": 0.2}, "-": {"Day": 0.04, "Night": 0.03}},
    "Gas": {"+": 0.07, "Unit": "kWh", "cnv": ["kWh", 10.0]},
    "Capacity": {"+": 50.0},
    "Fixed": {"+": 5.0},
}
DYNAMIC = {
    "VAT": VAT,
    "VAT included": False,
    "Electricity": {"+": {"Spot": {"Factor": 1.1, "Add": 0.12}}, "-": {"Spot": {"Factor": 0.9, "Add": -0.01}}},
    "Gas": {"+": 0.07, "Unit": "kWh", "cnv": ["kWh", 10.0]},
    "Capacity": {"+": 50.0},
    "Fixed": {"+": 5.0},
}


def spot(day: str, hour: int) -> float:
    """The crafted day-ahead price, EUR/MWh, of a November 2023 hour: cheap (even negative) at night and noon."""
    number = int(day[:2])
    return round(60 + 45 * ((hour * 7 + number * 3) % 11 - 4) / 4 - (35 if 11 <= hour <= 14 else 0), 2)


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in list(csv.reader(handle, delimiter=";"))[1:] if row and row[8]]


def amount(text: str) -> float:
    return float(text.replace(",", "."))


def november_by_hand() -> dict[str, float]:
    """The month from the CSV files and the rules alone (nothing of meter-tui is called)."""
    energy: dict[str, float] = defaultdict(float)
    dynamic_bought = dynamic_paid = 0.0
    quarter_offtake: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows(ELECTRICITY):
        day, time, register, kwh = row[0], row[1], row[7], amount(row[8])
        if register.startswith("Offtake"):
            quarter_offtake[(day, time)] += kwh
        if not day.endswith("/11/2023"):
            continue
        energy[register] += kwh
        price = spot(day, int(time[:2])) / 1000  # EUR/kWh
        if register.startswith("Offtake"):
            dynamic_bought += kwh * (1.1 * price + 0.12)
        else:
            dynamic_paid += kwh * (0.9 * price - 0.01)
    peaks: dict[str, float] = defaultdict(float)
    for (day, _), kwh in quarter_offtake.items():
        peaks[day[3:]] = max(peaks[day[3:]], kwh * 4)  # a quarter's kWh x 4 is its average kW
    # The capacity tariff of November: the average of the months so far (October 2023 is the first), each at
    # least 2.5 kW, x the yearly price / 12, with VAT.
    billed = [max(peaks["10/2023"], 2.5), max(peaks["11/2023"], 2.5)]
    capacity = sum(billed) / len(billed) * 50.0 * (1 + VAT) / 12
    # Gas per kWh: November's m3 at November's factor, the kWh over the m3 of the hours that have both.
    gas_m3 = gas_kwh = 0.0
    by_hour: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for row in rows(GAS):
        if row[0].endswith("/11/2023"):
            by_hour[(row[0], row[1])][row[9]] = amount(row[8])
    for values in by_hour.values():
        gas_m3 += values.get("m³", 0.0)
        if values.get("m³") and "kWh" in values:
            gas_kwh += values["kWh"]
    factor = gas_kwh / sum(v["m³"] for v in by_hour.values() if v.get("m³") and "kWh" in v)
    gas = gas_m3 * factor * 0.07 * (1 + VAT)
    fixed = 5.0 * (1 + VAT)
    bought = (energy["Offtake Day"] * 0.25 + energy["Offtake Night"] * 0.2) * (1 + VAT)
    paid = energy["Injection Day"] * 0.04 + energy["Injection Night"] * 0.03  # injection is outside VAT
    total = bought - paid + gas + capacity + fixed
    dynamic_total = dynamic_bought * (1 + VAT) - dynamic_paid + gas + capacity + fixed
    return {
        "total": total,
        "vat": (bought + gas + capacity + fixed) * VAT / (1 + VAT),
        "network": capacity / (1 + VAT),
        "electricity": bought / (1 + VAT) - paid,
        "gas": gas / (1 + VAT),
        "fixed": 5.0,
        "dynamic_total": dynamic_total,
        "dynamic_vat": (dynamic_bought * (1 + VAT) + gas + capacity + fixed) * VAT / (1 + VAT),
    }


def write_prices(path: Path, *, skip: tuple[str, int] | None = None) -> None:
    """The crafted prices for October to December 2023, hourly, as a plain time,eur_per_mwh CSV."""
    lines = ["time,eur_per_mwh"]
    for month, days in ((10, 31), (11, 30), (12, 31)):
        for number in range(1, days + 1):
            for hour in range(24):
                day = f"{number:02d}/{month:02d}/2023"
                if (day, hour) == skip:
                    continue
                moment = datetime(2023, month, number, hour).isoformat()  # local time, no offset
                lines.append(f"{moment},{spot(f'{number:02d}/11/2023', hour)}")
    path.write_text("\n".join(lines) + "\n")


def meter_tui(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METER_TUI_DATA_DIR": str(folder / "data"), "METER_TUI_CONFIG": str(folder / "config.toml")}
    return subprocess.run([sys.executable, "-m", "meter_tui", *args, "--db", str(folder / "h.sqlite")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("invoice")
    done = meter_tui(folder, "import", str(ELECTRICITY), str(GAS))
    assert done.returncode == 0, done.stderr
    write_prices(folder / "prices.csv")
    done = meter_tui(folder, "import", str(folder / "prices.csv"))
    assert done.returncode == 0, done.stderr
    assert "day-ahead prices for 8,832 quarters, 8,832 new, 0 changed" in done.stderr  # 92 days x 96
    (folder / "fixed.json").write_text(json.dumps(FIXED))
    (folder / "dynamic.json").write_text(json.dumps(DYNAMIC))
    return folder


def test_a_fixed_contract_excluding_vat_matches_the_month_priced_by_hand(history: Path):
    truth = november_by_hand()
    done = meter_tui(history, "report", "--month", "2023-11", "--json", "--rates", str(history / "fixed.json"))
    assert done.returncode == 0, done.stderr
    (bill,) = json.loads(done.stdout)["invoices"]
    assert bill["month"] == "2023-11"
    assert bill["total_eur"] == round(truth["total"], 2)
    assert bill["vat_eur"] == round(truth["vat"], 2)
    assert bill["network_capacity_eur"] == round(truth["network"], 2)
    assert bill["electricity_eur"] == round(truth["electricity"], 2)
    assert bill["gas_eur"] == round(truth["gas"], 2)
    assert bill["fixed_eur"] == round(truth["fixed"], 2)
    parts = bill["energy_eur"] + bill["network_capacity_eur"] + bill["fixed_eur"] + bill["vat_eur"]
    assert parts == pytest.approx(bill["total_eur"], abs=0.015)  # the lines add up, each rounded to the cent
    text = meter_tui(history, "report", "--month", "2023-11", "--rates", str(history / "fixed.json")).stdout
    assert "Network: capacity tariff" in text and f"{truth['total']:.2f}" in text


def test_a_dynamic_contract_is_priced_quarter_by_quarter_and_compared(history: Path):
    truth = november_by_hand()
    done = meter_tui(history, "compare", str(history / "fixed.json"), str(history / "dynamic.json"),
                     "--from", "2023-11-01", "--to", "2023-11-30", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["contracts"] == ["fixed.json", "dynamic.json"]
    (month,) = result["months"]
    assert month["cost_eur"] == [round(truth["total"], 2), round(truth["dynamic_total"], 2)]
    assert month["difference_eur"][1] == round(round(truth["dynamic_total"], 2) - round(truth["total"], 2), 2)
    assert month["unpriced_quarters"] == [0, 0]
    assert month["invoices"][1]["vat_eur"] == round(truth["dynamic_vat"], 2)
    table = meter_tui(history, "compare", str(history / "fixed.json"), str(history / "dynamic.json"),
                      "--from", "2023-11-01", "--to", "2023-11-30").stdout  # fmt: skip
    assert "2023-11" in table and f"{truth['dynamic_total']:.2f}" in table and "Cheapest:" in table


def test_a_quarter_without_a_price_is_flagged_and_never_priced_as_free(history: Path, tmp_path: Path):
    folder = tmp_path
    assert meter_tui(folder, "import", str(ELECTRICITY)).returncode == 0
    write_prices(folder / "holes.csv", skip=("15/11/2023", 18))
    assert meter_tui(folder, "import", str(folder / "holes.csv")).returncode == 0
    contracts = (str(history / "fixed.json"), str(history / "dynamic.json"))
    done = meter_tui(folder, "compare", *contracts, "--from", "2023-11-15", "--to", "2023-11-15", "--json")
    (day,) = json.loads(done.stdout)["months"]
    assert day["unpriced_quarters"] == [0, 4]  # the hour 18:00-19:00 has energy and no price
    assert day["difference_eur"] == [0.0, None]  # a cost that misses energy is no saving
    text = meter_tui(folder, "compare", *contracts, "--from", "2023-11-15", "--to", "2023-11-15").stdout
    assert "*" in text and "incomplete" in text and "never priced as free" in text


def entsoe_csv(path: Path, rows: list[str]) -> None:
    header = '"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)","Intraday Period (CET/CEST)",' \
             '"Intraday Price (EUR/MWh)"'  # fmt: skip
    path.write_text("\n".join([header, *rows]) + "\n")


def test_an_entsoe_export_with_quarters_a_repeated_october_hour_and_bad_rows(tmp_path: Path):
    rows = [
        '"01/10/2025 00:00:00 - 01/10/2025 00:15:00","BZN|BE","Without Sequence","81.20","",""',
        '"01/10/2025 00:15:00 - 01/10/2025 00:30:00","BZN|BE","Without Sequence","-5.02","",""',
        '"01/10/2025 00:15:00 - 01/10/2025 00:30:00","BZN|BE","Sequence 2","99.00","",""',  # another auction
        '"01/10/2025 00:30:00 - 01/10/2025 00:45:00","BZN|BE","Without Sequence","n/e","",""',
        '"01/10/2025 00:45 - 01/10/2025 01:00","BZN|BE","Without Sequence","77,5","",""',
        '"26/10/2025 02:45:00 (CEST) - 26/10/2025 02:00:00 (CET)","BZN|BE","Without Sequence","40.00","",""',
        '"26/10/2025 02:45:00 (CET) - 26/10/2025 03:00:00 (CET)","BZN|BE","Without Sequence","41.00","",""',
        '"01/10/2025 01:00:00 - 01/10/2025 01:20:00","BZN|BE","Without Sequence","50.00","",""',
    ]
    entsoe_csv(tmp_path / "GUI_ENERGY_PRICES.csv", rows)
    done = meter_tui(tmp_path, "import", str(tmp_path / "GUI_ENERGY_PRICES.csv"))
    assert done.returncode == 0, done.stderr
    assert "GUI_ENERGY_PRICES.csv: line 5: no price" in done.stderr
    assert "GUI_ENERGY_PRICES.csv: line 9: an interval of 20 minutes, expected 15 or 60" in done.stderr
    assert "2 rejected, 1 of another sequence or area: day-ahead prices for 5 quarters, 5 new" in done.stderr
    stored = dict(sqlite3.connect(tmp_path / "h.sqlite").execute("SELECT start, eur_mwh FROM day_ahead_price"))
    first = int(datetime.fromisoformat("2025-10-01T00:00:00+02:00").timestamp())
    assert stored[first] == 81.2 and stored[first + 900] == -5.02 and stored[first + 2700] == 77.5
    assert first + 1800 not in stored  # n/e: no price, not zero
    summer = int(datetime.fromisoformat("2025-10-26T02:45:00+02:00").timestamp())
    winter = int(datetime.fromisoformat("2025-10-26T02:45:00+01:00").timestamp())
    assert (stored[summer], stored[winter]) == (40.0, 41.0)
    again = meter_tui(tmp_path, "import", str(tmp_path / "GUI_ENERGY_PRICES.csv"))
    assert "already imported, nothing changed" in again.stderr
