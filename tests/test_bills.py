"""Bills a household can defend (issue 22), on the real Fluvius exports in tests/data and small crafted ones: the
capacity tariff's calendar (none before 2023), whole months billed as the invoice bills them, missing data said.
Each expectation comes from the CSV files and the rules, not from meter-tui's own figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from meter_tui.energy.capacity import MonthPeakValue, capacity_summary
from meter_tui.energy.rates import parse_rates
from meter_tui.services.report import build_report
from meter_tui.store.database import open_database
from meter_tui.store.importer import import_file
from tests.conftest import FLUVIUS

DUTCH = FLUVIUS / "nl_elektriciteit_kwartier_2021-10-12_2024-09-29.csv"
DUTCH_GAS = FLUVIUS / "nl_gas_uur_2022-01-10_2024-09-29.csv"
ENGLISH = FLUVIUS / "en_electricity_15min_2023-10-22_2025-04-26.csv"
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
    assert set(bills) == {date(2021, 10, 1), date(2022, 1, 1)}  # January 2022 has gas only
    assert bills[date(2021, 10, 1)].network == 0.0
    assert bills[date(2022, 1, 1)].network == 0.0
    assert bills[date(2022, 1, 1)].gas > 0
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
