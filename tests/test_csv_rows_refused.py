"""CSV rows no file could honestly hold, imported through the real `meter-tui import`: each is refused in one line
with its line number, the import goes on with the good rows, and a file of only bad rows fails with the count."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FLUVIUS
from tests.test_bad_settings import meter_tui
from tests.test_invoice import entsoe_csv

ELECTRICITY = FLUVIUS / "en_electricity_15min_2023-10-22_2025-04-26.csv"
GAS = FLUVIUS / "nl_gas_uur_2022-01-10_2024-09-29.csv"
HEADER = ELECTRICITY.read_text(encoding="utf-8-sig").splitlines()[0]
GOOD = (
    "22/10/2023;00:15:00;22/10/2023;00:30:00;=\"1\";1SAG;Digital meter;Offtake Night;0,173;kWh;Read;",
    "22/10/2023;00:30:00;22/10/2023;00:45:00;=\"1\";1SAG;Digital meter;Offtake Night;0,162;kWh;Read;",
)  # fmt: skip


def row(day: str = "22/10/2023", clock: str = "01:00:00", volume: str = "0,100", register: str = "Offtake Night",
        unit: str = "kWh") -> str:  # fmt: skip
    return f'{day};{clock};{day};{clock};="1";1SAG;Digital meter;{register};{volume};{unit};Read;'


def write_csv(path: Path, rows: list[str], extra: bytes = b"") -> Path:
    path.write_bytes(("\ufeff" + "\n".join([HEADER, *rows]) + "\n").encode() + extra)
    return path


def quarters(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT datetime(start, 'unixepoch'), import_night_wh FROM quarter").fetchall()
    return dict(rows)


def refusals(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": line " in line]


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (row(volume="inf"), "volume 'inf' is not a finite number"),
        (row(volume="nan"), "volume 'nan' is not a finite number"),
        (row(volume="-inf"), "volume '-inf' is not a finite number"),
        (row(volume="1e30"), "volume '1e30' is more than 100 kWh a quarter, not a household's"),
        (row(volume="250,000"), "volume '250,000' is more than 100 kWh a quarter, not a household's"),
        (row(day="22/10/9999"), "9999-10-22 is in the future"),
        (row(day="01/01/1999"), "1999-01-01 is before 2000"),
        (row(day="01/01/2099"), "2099-01-01 is in the future"),
        (
            row(volume="150", register="Offtake", unit="m³"),
            "volume '150' is more than 100 m3 an hour, not a household's",
        ),
    ],
    ids=["inf", "nan", "minus-inf", "1e30", "250-kwh", "year-9999", "year-1999", "year-2099", "gas-150-m3"],
)
def test_a_bad_fluvius_row_is_refused_by_line_and_the_good_rows_are_imported(tmp_path: Path, bad: str, says: str):
    csv = write_csv(tmp_path / "export.csv", [GOOD[0], bad, GOOD[1]])
    db = tmp_path / "meter.sqlite"
    done = meter_tui("import", str(csv), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert refusals(done.stderr) == [f"export.csv: line 3: {says}"]
    assert "3 rows, 1 rejected: 2 new quarters" in done.stderr
    assert quarters(db) == {"2023-10-21 22:15:00": 173, "2023-10-21 22:30:00": 162}
    export = meter_tui("export", "--db", str(db))  # what a row of 9999 broke
    assert export.returncode == 0 and len(export.stdout.splitlines()) == 3, export.stderr


def test_a_row_with_bytes_that_are_not_utf8_is_refused_by_line(tmp_path: Path):
    csv = write_csv(tmp_path / "export.csv", list(GOOD), extra=row(volume="0,1").replace("0,1", "0,\x00").encode()
                    .replace(b"\x00", b"\xe9") + b"\n")  # fmt: skip
    db = tmp_path / "meter.sqlite"
    done = meter_tui("import", str(csv), "--db", str(db))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert refusals(done.stderr) == ["export.csv: line 4: not UTF-8 text"]
    assert len(quarters(db)) == 2


def test_a_csv_of_only_bad_rows_fails_with_the_count_and_can_be_imported_once_mended(tmp_path: Path):
    csv = write_csv(tmp_path / "export.csv", [row(volume="inf"), row(clock="01:15:00", volume="1e30"),
                                              row(day="31/12/9999")])  # fmt: skip
    db = tmp_path / "meter.sqlite"
    done = meter_tui("import", str(csv), "--db", str(db))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert [line.split(": ")[1] for line in refusals(done.stderr)] == ["line 2", "line 3", "line 4"]
    assert "export.csv: nothing imported, all 3 rows with data refused" in done.stderr
    assert quarters(db) == {}
    again = meter_tui("import", str(csv), "--db", str(db))  # not remembered as imported: said again
    assert again.returncode == 1 and "already imported" not in again.stderr


def test_many_bad_rows_list_the_first_fifty_and_count_the_rest(tmp_path: Path):
    bad = [row(clock=f"{hour:02d}:{minute:02d}:00", volume="nan") for hour in range(3, 24) for minute in (0, 15, 30)]
    csv = write_csv(tmp_path / "export.csv", [GOOD[0], *bad])
    done = meter_tui("import", str(csv), "--db", str(tmp_path / "meter.sqlite"))
    assert done.returncode == 0, done.stderr
    assert len(refusals(done.stderr)) == 50
    assert f"export.csv: {len(bad) - 50} more rows refused, not listed" in done.stderr
    assert f"{len(bad) + 1} rows, {len(bad)} rejected: 1 new quarters" in done.stderr


def test_the_real_gas_export_still_imports_whole(tmp_path: Path):
    done = meter_tui("import", str(GAS), "--db", str(tmp_path / "meter.sqlite"))
    assert done.returncode == 0 and ", 0 rejected:" in done.stderr, done.stderr


PRICE_GOOD = ("2025-01-01T00:00:00+01:00,50.5", "2025-01-01T01:00:00+01:00,-120")


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("2025-01-01T02:00:00+01:00,inf", "price 'inf' is not a finite number"),
        ("2025-01-01T02:00:00+01:00,NaN", "price 'NaN' is not a finite number"),
        ("2025-01-01T02:00:00+01:00,1e30", "price '1e30' is not within -10,000 and 10,000 EUR/MWh"),
        ("2025-01-01T02:00:00+01:00,-20000", "price '-20000' is not within -10,000 and 10,000 EUR/MWh"),
        ("9999-01-01T02:00:00+01:00,40", "9999-01-01 is in the future"),
        ("1999-12-31T02:00:00+01:00,40", "1999-12-31 is before 2000"),
    ],
    ids=["inf", "nan", "1e30", "minus-20000", "year-9999", "year-1999"],
)
def test_a_bad_day_ahead_price_is_refused_by_line_and_the_good_prices_are_imported(tmp_path: Path, bad, says):
    csv = tmp_path / "prices.csv"
    csv.write_text("\n".join(["time,eur_per_mwh", PRICE_GOOD[0], bad, PRICE_GOOD[1]]) + "\n", encoding="utf-8")
    db = tmp_path / "meter.sqlite"
    done = meter_tui("import", str(csv), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert refusals(done.stderr) == [f"prices.csv: line 3: {says}"]
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT DISTINCT eur_mwh FROM day_ahead_price ORDER BY start").fetchall()
    assert stored == [(50.5,), (-120.0,)]


def test_a_price_csv_of_only_bad_rows_fails(tmp_path: Path):
    csv = tmp_path / "prices.csv"
    csv.write_text("time,eur_per_mwh\n2025-01-01T00:00:00+01:00,inf\n2025-01-01T01:00:00+01:00,\n", encoding="utf-8")
    done = meter_tui("import", str(csv), "--db", str(tmp_path / "meter.sqlite"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "prices.csv: nothing imported, all 2 rows with data refused" in done.stderr


def test_bad_rows_of_an_entsoe_export_are_refused_by_line(tmp_path: Path):
    csv = tmp_path / "GUI_ENERGY_PRICES.csv"
    entsoe_csv(csv, [
        '"01/10/2025 00:00:00 - 01/10/2025 00:15:00","BZN|BE","Without Sequence","81.20","",""',
        '"01/10/2025 00:15:00 - 01/10/2025 00:30:00","BZN|BE","Without Sequence","Infinity","",""',
        '"01/10/2025 00:30:00 - 01/10/2025 00:45:00","BZN|BE","Without Sequence","4e20","",""',
        '"01/10/2099 00:45:00 - 01/10/2099 01:00:00","BZN|BE","Without Sequence","40","",""',
        '"01/10/2025 00:45:00 - 01/10/2025 01:00:00","BZN|BE","Without Sequence","-499.99","",""',
    ])  # fmt: skip
    db = tmp_path / "meter.sqlite"
    done = meter_tui("import", str(csv), "--db", str(db))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert refusals(done.stderr) == [
        "GUI_ENERGY_PRICES.csv: line 3: price 'Infinity' is not a finite number",
        "GUI_ENERGY_PRICES.csv: line 4: price '4e20' is not within -10,000 and 10,000 EUR/MWh",
        "GUI_ENERGY_PRICES.csv: line 5: 2099-10-01 is in the future",
    ]
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT eur_mwh FROM day_ahead_price ORDER BY start").fetchall()
    assert stored == [(81.2,), (-499.99,)]
