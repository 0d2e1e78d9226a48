"""Importing the real Fluvius exports: month peaks are the largest offtake quarter x 4, day totals the sums of the
rows, and importing again changes nothing. Checked against an independent reading of the CSV files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from meter_tui.store.database import open_database
from meter_tui.store.fluvius import read_export
from meter_tui.store.importer import import_file
from meter_tui.store.queries import days, month_peaks
from tests.conftest import FLUVIUS

ELECTRICITY = sorted(FLUVIUS.glob("*_e*.csv"))
GAS = sorted(FLUVIUS.glob("*gas*.csv"))


def csv_truth(path: Path) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Straight from the file: per local day the sum of each register, per month the largest offtake quarter x 4."""
    per_day: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    offtake: dict[tuple[str, str, int], float] = defaultdict(float)
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    dutch = rows[0][0] == "Van datum"
    for row in rows[1:]:
        if not row or not row[8]:
            continue
        day = datetime.strptime(row[0], "%d-%m-%Y" if dutch else "%d/%m/%Y").date().isoformat()
        value = float(row[8].replace(",", "."))
        register = row[7].lower()
        if row[9] == "kWh" and "gas" in path.name:
            continue
        per_day[day][register] += value
        occurrence = seen[(row[0], row[1], register)]
        seen[(row[0], row[1], register)] += 1
        if register in ("afname dag", "afname nacht", "offtake day", "offtake night"):
            offtake[(day, row[1], occurrence)] += value
    peaks: dict[str, float] = {}
    for (day, _, _), kwh in offtake.items():
        peaks[day[:7]] = max(peaks.get(day[:7], 0.0), kwh * 4)
    return per_day, peaks


@pytest.fixture
def db(tmp_path: Path):
    connection = open_database(tmp_path / "history.sqlite")
    yield connection
    connection.close()


@pytest.mark.parametrize("path", ELECTRICITY, ids=lambda p: p.name[:20])
def test_electricity_export_gives_day_totals_and_month_peaks_of_the_rows(db, path: Path):
    result = import_file(db, path)
    assert result.kind == "fluvius"
    assert result.rejected == 0
    per_day, peaks = csv_truth(path)
    stored = {
        row.day.isoformat(): row.usage for row in days(db, datetime(2000, 1, 1).date(), datetime(2100, 1, 1).date())
    }
    for day, registers in per_day.items():
        usage = stored[day]
        offtake_day = registers.get("afname dag", 0.0) + registers.get("offtake day", 0.0)
        offtake_night = registers.get("afname nacht", 0.0) + registers.get("offtake night", 0.0)
        injection_day = registers.get("injectie dag", 0.0) + registers.get("injection day", 0.0)
        injection_night = registers.get("injectie nacht", 0.0) + registers.get("injection night", 0.0)
        assert usage.import_day_kwh == pytest.approx(offtake_day, abs=1e-9), day
        assert usage.import_night_kwh == pytest.approx(offtake_night, abs=1e-9), day
        assert usage.export_day_kwh == pytest.approx(injection_day, abs=1e-9), day
        assert usage.export_night_kwh == pytest.approx(injection_night, abs=1e-9), day
    computed = {peak.month.strftime("%Y-%m"): peak.kw for peak in month_peaks(db)}
    for month, kw in peaks.items():
        if kw > 0:
            assert computed[month] == pytest.approx(kw, abs=1e-9), month


def test_the_repeated_october_hour_is_two_hours_of_quarters(db):
    path = next(p for p in ELECTRICITY if p.name.startswith("en_"))
    import_file(db, path)
    (day,) = [row for row in days(db, datetime(2023, 10, 29).date(), datetime(2023, 10, 29).date())]
    count = db.execute("SELECT count(*) FROM quarter WHERE day = 20231029").fetchone()[0]
    assert count == 100
    assert day.usage.import_night_kwh > 0


@pytest.mark.parametrize("path", GAS, ids=lambda p: p.name[:20])
def test_gas_export_gives_day_totals_in_m3(db, path: Path):
    import_file(db, path)
    per_day, _ = csv_truth(path)
    stored = {
        row.day.isoformat(): row.usage.gas_m3
        for row in days(db, datetime(2000, 1, 1).date(), datetime(2100, 1, 1).date())
    }
    for day, registers in per_day.items():
        expected = registers.get("afname", 0.0) + registers.get("offtake", 0.0)
        assert stored.get(day, 0.0) == pytest.approx(expected, abs=1e-9), day


def test_reimporting_changes_nothing_and_p1_quarters_win(db, tmp_path: Path):
    path = ELECTRICITY[0]
    import_file(db, path)
    before = db.execute("SELECT sum(import_day_wh), sum(import_night_wh), count(*) FROM quarter").fetchone()
    again = import_file(db, path)
    assert again.already
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes() + b"\r\n")  # different bytes, same data: imported, still no change
    assert not import_file(db, copy).already
    assert db.execute("SELECT sum(import_day_wh), sum(import_night_wh), count(*) FROM quarter").fetchone() == before


def test_malformed_rows_are_reported_by_line_and_skipped(tmp_path: Path):
    path = tmp_path / "broken.csv"
    lines = ELECTRICITY[0].read_text(encoding="utf-8-sig").splitlines()[:7]
    lines[3] = lines[3].replace(";Afname Nacht;", ";Afname Morgen;").replace(";Offtake Night;", ";Offtake Morning;")
    fields = lines[5].split(";")
    fields[1] = "00:17:00"  # not the start of a quarter-hour
    lines[5] = ";".join(fields)
    lines.append("garbage")
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    quarters, result = read_export(path)
    assert [p.split(":", 1)[1].split(":")[0].strip() for p in result.problems] == ["line 4", "line 6", "line 8"]
    assert "unknown register" in result.problems[0]
    assert "expected at least 11 fields" in result.problems[2]
    assert quarters


def test_import_command_prints_a_summary_and_the_report_shows_it(tmp_path: Path):
    db = tmp_path / "cli.sqlite"
    env_args = ["--db", str(db)]
    done = subprocess.run(
        [sys.executable, "-m", "meter_tui", "import", *map(str, ELECTRICITY + GAS), *env_args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "rows" in done.stderr and "rejected" in done.stderr
    report = subprocess.run(
        [sys.executable, "-m", "meter_tui", "report", "--json", "--from", "2023-11-01", "--to", "2023-11-30",
         "--rates", str(tmp_path / "rates.json"), *env_args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert len(document["days"]) == 30
    november = document["months"][0]
    assert november["month"] == "2023-11"
    assert november["peak_kw"] == november["billed_peak_kw"] == pytest.approx(4.388)
    assert document["capacity"]["average_12_months_kw"] > 2.5
    assert (tmp_path / "rates.json").exists()  # created from the example on first use
    export = subprocess.run(
        [sys.executable, "-m", "meter_tui", "export", "--csv", "--from", "2023-11-01", "--to", "2023-11-01", *env_args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    rows = export.stdout.splitlines()
    assert rows[0].startswith("start,import_day_kwh")
    assert len(rows) == 1 + 96
