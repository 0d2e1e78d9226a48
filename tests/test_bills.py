"""Bills a household can defend (issue 22), on the real Fluvius exports in tests/data and small crafted ones: the
capacity tariff's calendar (none before 2023), whole months billed as the invoice bills them, missing data said.
Each expectation comes from the CSV files and the rules, not from meter-tui's own figures."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from meter_tui.energy.capacity import MonthPeakValue, capacity_summary
from meter_tui.energy.invoice import invoice
from meter_tui.energy.rates import parse_rates
from meter_tui.services.compare import compare
from meter_tui.services.report import build_report
from meter_tui.services.views import BillView
from meter_tui.store.database import open_database
from meter_tui.store.importer import import_file
from meter_tui.ui.widgets.bill import bill_text
from tests.conftest import FLUVIUS

DUTCH = FLUVIUS / "nl_elektriciteit_kwartier_2021-10-12_2024-09-29.csv"
DUTCH_GAS = FLUVIUS / "nl_gas_uur_2022-01-10_2024-09-29.csv"
ENGLISH = FLUVIUS / "en_electricity_15min_2023-10-22_2025-04-26.csv"
ENGLISH_GAS = FLUVIUS / "en_gas_hourly_2023-10-22_2025-04-26.csv"
RATES = {
    "Electricity": {"+": {"Day": 0.3, "Night": 0.2}},
    "Gas": {"+": 1.0},
    "Capacity": {"+": 60.0},
    "Fixed": {"+": 10.0},
}


@pytest.fixture
def db(tmp_path: Path):
    connection = open_database(tmp_path / "history.sqlite")
    yield connection
    connection.close()


def test_months_before_2023_have_no_capacity_charge_and_no_floor(db):
    for path in (DUTCH, DUTCH_GAS):
        assert import_file(db, path).rejected == 0
    book = parse_rates(RATES)
    report = build_report(db, book, date(2021, 10, 1), date(2022, 1, 31))
    bills = {bill.month: bill for bill in report.invoices}
    assert set(bills) == {date(2021, 10, 1), date(2021, 11, 1), date(2021, 12, 1), date(2022, 1, 1)}
    assert all(bill.network == 0.0 for bill in bills.values())
    assert bills[date(2022, 1, 1)].gas > 0  # January 2022 has gas only: no electricity quarter, no 2.5 kW floor
    assert bills[date(2022, 1, 1)].missing_quarters == 31 * 96
    assert report.capacity.yearly_cost == 0.0
    assert "no capacity tariff before 2023" in report.capacity_words


def test_the_first_months_of_2023_average_the_months_of_2023_only():
    peaks = [MonthPeakValue(date(2022, 12, 1), 9.0, None, "quarters"),
             MonthPeakValue(date(2023, 1, 1), 4.0, None, "quarters")]  # fmt: skip
    january = capacity_summary(peaks, date(2023, 1, 15), 60.0)
    assert [p.month for p in january.months] == [date(2023, 1, 1)]
    assert january.average_kw == 4.0
    december = capacity_summary(peaks, date(2022, 12, 31), 60.0)
    assert december.average_kw == 0.0 and december.monthly_cost == 0.0  # no 2.5 kW floor either


def test_a_users_capacity_price_follows_the_files_vat_flag():
    excluding = parse_rates({**RATES, "VAT": 0.06, "VAT included": False}).current
    assert excluding.capacity_price(date(2024, 3, 1)) == pytest.approx(60.0 * 1.06)
    assert excluding.capacity_words(date(2024, 3, 1)).startswith("60.00 EUR/kW/year + VAT 6%")
    including = parse_rates({**RATES, "VAT": 0.06}).current
    assert including.capacity_price(date(2024, 3, 1)) == pytest.approx(60.0)
    assert "with VAT" in including.capacity_words(date(2024, 3, 1))


def test_a_year_without_a_built_in_price_says_which_year_is_used():
    rates = parse_rates({**RATES, "Capacity": {"Area": "Imewo"}}).current
    assert "no 2023 price built in: 2026's used" in rates.capacity_words(date(2023, 11, 1))
    assert "built in" not in rates.capacity_words(date(2026, 2, 1))


def october_2023_peak_kw() -> float:
    """October 2023's peak from the export alone: its largest offtake quarter (day + night rows) x 4."""
    quarters: dict[tuple[str, str], float] = {}
    with ENGLISH.open(encoding="utf-8-sig", newline="") as handle:
        for row in list(csv.reader(handle, delimiter=";"))[1:]:
            if row[0].endswith("/10/2023") and row[7].startswith("Offtake") and row[8]:
                quarters[(row[0], row[1])] = quarters.get((row[0], row[1]), 0.0) + float(row[8].replace(",", "."))
    return max(quarters.values()) * 4


@pytest.mark.parametrize(("start", "share"), [("2023-01-01", 1.0), (None, 10 / 31)], ids=["before", "on-the-22nd"])
def test_october_2023_is_billed_whole_unless_the_contract_started_in_it(db, start: str | None, share: float):
    assert import_file(db, ENGLISH).rejected == 0
    book = parse_rates({**RATES, "From": start} if start else RATES)  # without From: the history's first day
    (bill,) = build_report(db, book, date(2023, 10, 1), date(2023, 10, 31)).invoices
    assert bill.fixed == pytest.approx(10.0 / 1.06 * share)  # prices all-in: the invoice shows them without VAT
    assert bill.network == pytest.approx(max(october_2023_peak_kw(), 2.5) * 60.0 / 12 / 1.06 * share)
    # The contract's days from the 1st have no data before the 22nd: said, not hidden (29 October has 100).
    assert (bill.expected_quarters, bill.missing_quarters) == ((31 * 96 + 4, 21 * 96) if start else (10 * 96 + 4, 0))


def meter_tui(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METER_TUI_DATA_DIR": str(folder / "data"), "METER_TUI_CONFIG": str(folder / "config.toml")}
    return subprocess.run([sys.executable, "-m", "meter_tui", *args, "--db", str(folder / "h.sqlite")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip


def without_days(path: Path, out: Path, days: set[str]) -> Path:
    """A copy of an export with the rows of `days` (dd/mm/yyyy) left out, as if Fluvius had lost them."""
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    out.write_text("\ufeff" + "".join(line for line in lines if line[:10] not in days), encoding="utf-8")
    return out


def test_missing_days_are_said_in_every_bill_and_never_under_bill(tmp_path: Path):
    holes = without_days(ENGLISH, tmp_path / "holes.csv", {f"0{n}/11/2023" for n in range(3, 8)})
    assert meter_tui(tmp_path, "import", str(holes)).returncode == 0
    (tmp_path / "rates.json").write_text(json.dumps(RATES))
    rates = ("--rates", str(tmp_path / "rates.json"))
    done = meter_tui(tmp_path, "report", "--month", "2023-11", "--json", *rates)
    (month,), (bill,) = json.loads(done.stdout)["months"], json.loads(done.stdout)["invoices"]
    assert (month["expected_quarters"], month["missing_quarters"]) == (2880, 480)
    assert (bill["expected_quarters"], bill["missing_quarters"]) == (2880, 480)
    assert bill["fixed_eur"] == round(10.0 / 1.06, 2)  # the whole month, not 25/30 of it
    text = meter_tui(tmp_path, "report", "--month", "2023-11", *rates).stdout
    assert "Incomplete: 2,400 of 2,880 quarters have data (480 missing)" in " ".join(text.split())
    assert "2023-11 incomplete: 2,400 of 2,880 quarters (480 missing)" in meter_tui(tmp_path, "report", *rates).stdout
    compared = meter_tui(tmp_path, "compare", rates[1], "--json")
    november = next(m for m in json.loads(compared.stdout)["months"] if m["month"] == "2023-11")
    assert november["missing_quarters"] == 480 and november["invoices"][0]["fixed_eur"] == round(10.0 / 1.06, 2)
    assert "2023-11 incomplete: 2,400 of 2,880" in meter_tui(tmp_path, "compare", rates[1]).stdout


def test_no_consumption_rows_are_quarters_of_zero_not_missing(db):
    for path in (DUTCH, ENGLISH):
        assert import_file(db, path).rejected == 0
    # The clock-change day 31 October 2021 is all "Geen verbruik" in the Dutch export: 100 quarters of zero.
    count, energy = db.execute(
        "SELECT count(*), sum(import_day_wh + import_night_wh + export_day_wh + export_night_wh) FROM quarter"
        " WHERE day = 20211031"
    ).fetchone()
    assert (count, energy) == (100, 0)
    first = db.execute("SELECT import_night_wh, average_w FROM quarter WHERE day = 20231022 ORDER BY start").fetchone()
    assert first == (0, 0)  # "No consumption" at 00:00 on 22 October 2023: a measured zero
    assert db.execute("SELECT count(*) FROM quarter WHERE day BETWEEN 20211012 AND 20211031").fetchone() == (1924,)


def test_check_counts_and_lists_the_quarters_without_data(tmp_path: Path):
    holes = without_days(ENGLISH, tmp_path / "holes.csv", {f"0{n}/11/2023" for n in range(3, 8)} | {"12/11/2023"})
    lines = holes.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (tmp_path / "partial.csv").write_text(  # and the first hour of 20 November (4 quarters x 4 registers)
        "\ufeff" + "".join(line for line in lines if not line.startswith("20/11/2023;00:")), encoding="utf-8"
    )
    assert meter_tui(tmp_path, "import", str(tmp_path / "partial.csv")).returncode == 0
    done = meter_tui(tmp_path, "check")
    assert done.returncode == 0, done.stderr
    assert "missing: 580 quarters without data on 7 days:" in done.stdout
    assert "  2023-11-03 to 2023-11-07: every quarter missing (480)" in done.stdout
    assert "  2023-11-12 to 2023-11-12" not in done.stdout and "  2023-11-12: 96 of 96 quarters missing" in done.stdout
    assert "  2023-11-20: 4 of 96 quarters missing" in done.stdout
    whole = tmp_path / "whole"
    whole.mkdir()
    assert meter_tui(whole, "import", str(ENGLISH)).returncode == 0
    assert "missing: none" in meter_tui(whole, "check").stdout


def test_a_changed_value_on_reimport_is_kept_and_listed_unless_replace(tmp_path: Path):
    assert meter_tui(tmp_path, "import", str(ENGLISH)).returncode == 0
    text = ENGLISH.read_text(encoding="utf-8-sig")
    row = "04/11/2023;18:45:00;04/11/2023;19:00:00;"
    assert text.count(row) == 2 and ";Offtake Night;1,097;" in text  # the quarter of November's peak, 4.388 kW
    lines = [line.replace(";1,097;", ";2,000;") if line.startswith(row) else line for line in text.splitlines()]
    changed = "\ufeff" + "\n".join(lines) + "\n"
    (tmp_path / "changed.csv").write_text(changed, encoding="utf-8")
    done = meter_tui(tmp_path, "import", str(tmp_path / "changed.csv"))
    assert done.returncode == 0, done.stderr
    assert "2023-11-04 18:45+0100 offtake night: 1.097 kWh kept, the file says 2.000 kWh" in done.stderr
    assert "changed.csv: 1 value already known otherwise, kept (--replace takes the file's)" in done.stderr

    def november_peak() -> float:
        report = meter_tui(tmp_path, "report", "--month", "2023-11", "--json", "--rates", str(tmp_path / "r.json"))
        return json.loads(report.stdout)["months"][0]["peak_kw"]

    assert november_peak() == pytest.approx(4.388)
    (tmp_path / "again.csv").write_text(changed + "\n", encoding="utf-8")  # other bytes: not skipped as known
    done = meter_tui(tmp_path, "import", "--replace", str(tmp_path / "again.csv"))
    assert "offtake night: 1.097 kWh replaced by 2.000 kWh" in done.stderr
    assert "1 value already known otherwise, replaced by the file's (--replace)" in done.stderr
    assert november_peak() == pytest.approx(8.0)


def offtake_quarters(days: set[str]) -> dict[tuple[str, str], float]:
    """The English export's offtake (day + night rows) per quarter of `days` (dd/mm/yyyy), straight from the file."""
    quarters: dict[tuple[str, str], float] = {}
    with ENGLISH.open(encoding="utf-8-sig", newline="") as handle:
        for row in list(csv.reader(handle, delimiter=";"))[1:]:
            if row[0] in days and row[7].startswith("Offtake") and row[8]:
                quarters[(row[0], row[1])] = quarters.get((row[0], row[1]), 0.0) + float(row[8].replace(",", "."))
    return quarters


def test_the_plain_report_says_price_notes_no_data_and_the_windows_own_peak(tmp_path: Path):
    assert meter_tui(tmp_path, "import", str(ENGLISH), str(ENGLISH_GAS)).returncode == 0
    (tmp_path / "rates.json").write_text(json.dumps({**RATES, "Capacity": {"Area": "Imewo"}}))
    window = ("--from", "2023-11-10", "--to", "2023-11-20", "--rates", str(tmp_path / "rates.json"))
    text = meter_tui(tmp_path, "report", *window).stdout
    assert "Capacity price: Fluvius Imewo 2026, 54.20 + VAT (no 2023 price built in: 2026's used)" in text
    assert "water: no data (the history has never measured it)" in text and "gas: no data" not in text
    quarters = offtake_quarters({f"{n}/11/2023" for n in range(10, 21)})
    (day, start), kwh = max(quarters.items(), key=lambda item: item[1])
    assert f"2023-11 window peak {kwh * 4:.3f} kW ({day[:2]} {start[:5]}), month peak 4.388 kW (04 18:45)" in text
    (month,) = json.loads(meter_tui(tmp_path, "report", "--json", *window).stdout)["months"]
    assert (month["peak_kw"], month["window_peak_kw"]) == (pytest.approx(4.388), pytest.approx(kwh * 4))
    assert "no 2023 price built in" in json.loads(meter_tui(tmp_path, "report", "--json", *window[-2:]).stdout)[
        "capacity"]["price_notes"][0]  # fmt: skip
    whole = json.loads(meter_tui(tmp_path, "report", "--json", "--month", "2023-11", *window[-2:]).stdout)
    assert whole["months"][0]["window_peak_kw"] is None  # the whole month: its peak is the month's


@pytest.mark.parametrize(("occurrence", "offset"), [(0, "+02:00"), (1, "+01:00")], ids=["summer", "winter"])
def test_a_peak_in_the_repeated_october_hour_shows_its_offset(tmp_path: Path, occurrence: int, offset: str):
    lines = ENGLISH.read_text(encoding="utf-8-sig").splitlines()
    day = [line for line in lines[1:] if line.startswith("29/10/2023;")]
    rows = [i for i, line in enumerate(day) if line.startswith("29/10/2023;02:30:00;") and ";Offtake Night;" in line]
    day[rows[occurrence]] = day[rows[occurrence]].replace(";Offtake Night;0,", ";Offtake Night;2,")
    (tmp_path / "night.csv").write_text("\ufeff" + "\n".join([lines[0], *day]) + "\n", encoding="utf-8")
    assert meter_tui(tmp_path, "import", str(tmp_path / "night.csv")).returncode == 0
    text = meter_tui(tmp_path, "report", "--rates", str(tmp_path / "r.json")).stdout
    assert f" 02:30{offset}\n" in text and f" 29 02:30{offset}\n" in text
    other = "+01:00" if offset == "+02:00" else "+02:00"
    assert f"02:30{other}" not in text and " 18:15+" not in text  # only a repeated hour carries its offset


def november_export(path: Path, *, changed: dict[tuple[str, str], str], drop: str, shift_minutes: int = 0) -> Path:
    """November 2023 of the English export, as Fluvius would send it with a few offtake quarters changed
    ((date, time) -> new volume), the day `drop` missing and every time moved by `shift_minutes`."""
    lines = ENGLISH.read_text(encoding="utf-8-sig").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(";")
        if not fields[0].endswith("/11/2023") or fields[0] == drop:
            continue
        if (fields[0], fields[1]) in changed and fields[7] == "Offtake Night" and fields[8]:
            fields[8] = changed[(fields[0], fields[1])]
        moved = datetime.strptime(f"{fields[0]} {fields[1]}", "%d/%m/%Y %H:%M:%S") + timedelta(minutes=shift_minutes)
        fields[0], fields[1] = f"{moved:%d/%m/%Y}", f"{moved:%H:%M:%S}"
        out.append(";".join(fields))
    path.write_text("\ufeff" + "\n".join(out) + "\n", encoding="utf-8")
    return path


CHANGED = {("04/11/2023", "18:45:00"): "2,000", ("15/11/2023", "03:00:00"): "0,999", ("29/11/2023", "04:15:00"): "0,5"}


@pytest.mark.parametrize("shift", [0, 15, -30], ids=["aligned", "15-minutes-late", "30-minutes-early"])
def test_audit_finds_every_difference_and_the_clock_offset_and_nothing_else(tmp_path: Path, shift: int):
    assert meter_tui(tmp_path, "import", str(ENGLISH)).returncode == 0
    export = november_export(tmp_path / "fluvius.csv", changed=CHANGED, drop="12/11/2023", shift_minutes=shift)
    done = meter_tui(tmp_path, "audit", str(export), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["clock_offset_quarters"] == -shift // 15
    assert result["difference_count"] == 3 + 96  # the changed quarters, and the day the export lacks
    differing = {d["date"]: d["differing_quarters"] for d in result["days"] if d["differing_quarters"]}
    assert differing == {"2023-11-04": 1, "2023-11-12": 96, "2023-11-15": 1, "2023-11-29": 1}
    first = result["differences"][0]  # both values, at the history's times
    assert (first["start"], first["fluvius_kwh"], first["history_kwh"]) == ("2023-11-04T18:45:00+01:00",
                                                                           [2.0, 0.0], [1.097, 0.0])  # fmt: skip
    assert result["differences"][1]["fluvius_kwh"] is None  # 12 November: the export has nothing
    (november,) = result["months"]
    assert (november["fluvius_peak_kw"], november["history_peak_kw"]) == (8.0, 4.388)
    text = meter_tui(tmp_path, "audit", str(export)).stdout
    assert "99 quarters differ by more than 0.001 kWh" in text
    assert ("clock: the quarters line up" in text) == (shift == 0)


def test_audit_fill_stores_the_exports_quarters_only_where_the_history_has_none(tmp_path: Path):
    holes = without_days(ENGLISH, tmp_path / "holes.csv", {"12/11/2023"})
    assert meter_tui(tmp_path, "import", str(holes)).returncode == 0
    export = november_export(tmp_path / "fluvius.csv", changed=CHANGED, drop="")
    done = meter_tui(tmp_path, "audit", str(export), "--fill")
    assert "filled 96 quarters from the export where the history had none" in done.stdout
    again = json.loads(meter_tui(tmp_path, "audit", str(export), "--json").stdout)
    assert again["difference_count"] == 3  # the day is there now; the history's own values were not touched
    assert "missing: none" in meter_tui(tmp_path, "check").stdout


def test_audit_of_something_else_is_one_line_and_no_traceback(tmp_path: Path):
    assert meter_tui(tmp_path, "import", str(ENGLISH)).returncode == 0
    (tmp_path / "notes.csv").write_text("just some text\n")
    for path, words in ((ENGLISH_GAS, "no electricity quarter to audit"),
                        (tmp_path / "notes.csv", "not a Fluvius export header")):  # fmt: skip
        done = meter_tui(tmp_path, "audit", str(path))
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr


def test_the_bill_view_says_a_month_is_incomplete(tmp_path: Path):
    holes = without_days(ENGLISH, tmp_path / "holes.csv", {f"0{n}/11/2023" for n in range(3, 8)})
    connection = open_database(tmp_path / "history.sqlite")
    try:
        import_file(connection, holes)
        book = parse_rates(RATES)
        result = compare(connection, [("rates.json", book)], date(2023, 11, 1), date(2023, 11, 30), date(2023, 12, 1))
    finally:
        connection.close()
    (month,) = result.months
    bill = invoice(month.month, month.costs[0], 0.06, (month.quarters.known, month.quarters.expected))
    assert bill.fixed == pytest.approx(10.0 / 1.06)
    view = BillView(month.month, ("rates.json",), (bill,), ((month.month, (bill.total,), (0,)),), "words")
    console = Console(width=200, record=True)
    console.print(bill_text(view, dark=True))
    assert "Incomplete: 2,400 of 2,880 quarters have data (480 missing)" in console.export_text()


def test_importing_gas_beside_electricity_says_the_quarters_it_completed(tmp_path: Path):
    assert meter_tui(tmp_path, "import", str(ENGLISH)).returncode == 0
    done = meter_tui(tmp_path, "import", str(ENGLISH_GAS))
    assert "0 new quarters, 1,699 completed with new data, 0 already known" in done.stderr
