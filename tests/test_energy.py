"""Rates (including hand-broken rates.json files), costs and the capacity engine."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.energy.capacity import MonthPeakValue, capacity_summary, forecast, quarter_start
from meter_tui.energy.costs import Usage, day_cost, energy_cost_per_hour
from meter_tui.energy.pricing import network_ceiling
from meter_tui.energy.rates import (
    CAPACITY_PRICES,
    EXAMPLE_RATES,
    RatesError,
    load_rates,
    parse_rates,
    save_rates,
    user_rates,
)
from meter_tui.p1.values import BRUSSELS

REPO = Path(__file__).resolve().parents[1]


def test_the_shipped_rates_json_is_the_example_and_valid():
    document = json.loads((REPO / "rates.json").read_text())
    assert document == EXAMPLE_RATES
    book = load_rates(REPO / "rates.json")
    rates = book.current
    assert (rates.import_day, rates.import_night, rates.export_day, rates.export_night) == (0.31, 0.25, 0.03, 0.02)
    assert (rates.gas_m3, rates.gas_kwh_per_m3, rates.water_m3) == (0.98, 11.51, 5.5)
    # The area's published price excludes VAT; the household pays it with 6% VAT on top.
    assert CAPACITY_PRICES[2026]["Midden-Vlaanderen"] == 50.12
    assert rates.capacity_price(date(2026, 5, 1)) == pytest.approx(50.12 * 1.06)


def test_the_plain_old_format_still_works(tmp_path: Path):
    path = tmp_path / "rates.json"
    path.write_text(
        '{"Gas": {"+": 0.5}, "Water": {"+": 0.5}, '
        '"Electricity": {"+": {"Day": 0.4, "Night": 0.3}, "-": {"Day": 0.1, "Night": 0.1}}}'
    )
    rates = load_rates(path).current
    assert (rates.capacity_kw_year, rates.fixed_month, rates.gas_kwh_per_m3) == (0.0, 0.0, None)


def test_dated_periods_keep_last_years_prices(tmp_path: Path):
    document = {
        **EXAMPLE_RATES,
        "Periods": [
            {"From": "2026-01-01", "Electricity": {"+": {"Day": 0.35}}},
            {"From": "2026-07-01", "Gas": {"+": 0.8}, "Capacity": {"+": 60.0}},
        ],
    }
    book = save_rates(tmp_path / "rates.json", document)
    assert book.on(date(2025, 12, 31)).import_day == 0.31
    assert book.on(date(2026, 1, 1)).import_day == 0.35
    assert book.on(date(2026, 1, 1)).import_night == 0.25  # untouched prices carry on
    july = book.on(date(2026, 7, 2))
    assert (july.import_day, july.gas_m3, july.capacity_kw_year) == (0.35, 0.8, 60.0)
    assert load_rates(tmp_path / "rates.json").on(date(2026, 8, 1)) == july
    # A period's date is when its prices start, not the contract's: without a top-level From none is known, and
    # fixed fees and capacity are billed before the last period too.
    assert book.start is None
    assert save_rates(tmp_path / "dated.json", {**document, "From": "2024-05-01"}).start == date(2024, 5, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object at the top"),
        ('{"Electricity": {"+": {"Day": "0,40", "Night": 0.3}}}', 'Electricity."+".Day: expected a number, got "0,40"'),
        ('{"Electricity": {"+": {"Day": 0.4}}}', 'Electricity."+".Night: expected a number, got null'),
        ('{"Electricity": {"+": {"Day": 0.4, "Night": 0.3}}, "Gas": {"+": -0.5}}', 'Gas."+": must not be negative'),
        ('{"Electricity": {"+": {"Day": 0.4, "Night": 0.3}}, "Gas": {"+": true}}', 'Gas."+": expected a number'),
        ('{"Electricity": {"+": {"Day": 0.4, "Night": 0.3}}, "Gas": {"cnv": ["MJ", 3]}}', 'Gas.cnv: expected ["kWh"'),
        ('{"Electricity": {"+": {"Day": 0.4, "Night": 0.3}}, "Capacity": {"Area": "Gent"}}', "unknown Fluvius area"),
        ('{"Electricity": {"+": {"Day": 0.4, "Night": 0.3}}, "Elektriciteit": {}}', "Elektriciteit: unknown key"),
        ('{"Electricity": {"+": {"Day": 0.4, "Night": 0.3}}, "Periods": [{"From": "2026-13-01"}]}', "Periods[0].From"),
        ('{"Electricity": {"+": 0.4}}', 'Electricity."+": expected {"Day": price'),
    ],
)
def test_a_hand_broken_rates_file_names_the_file_and_the_key(tmp_path: Path, text: str, message: str):
    path = tmp_path / "rates.json"
    path.write_text(text)
    with pytest.raises(RatesError) as caught:
        load_rates(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_refused_save_leaves_the_file_as_it_was(tmp_path: Path):
    path = tmp_path / "rates.json"
    user_rates(path)  # first run: the example
    before = path.read_bytes()
    broken = json.loads(before)
    broken["Electricity"]["+"]["Day"] = "cheap"
    with pytest.raises(RatesError):
        save_rates(path, broken)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".rates-*"))  # no temporary file left behind


def test_day_cost_to_the_cent():
    rates = parse_rates(
        {"Electricity": {"+": {"Day": 0.4, "Night": 0.3}, "-": {"Day": 0.1, "Night": 0.1}}, "Gas": {"+": 0.5},
         "Water": {"+": 0.5}}  # round prices, to be worked out by hand
    ).current  # fmt: skip
    usage = Usage(import_day_kwh=10.0, import_night_kwh=5.0, export_day_kwh=4.0, gas_m3=2.0, water_m3=0.1)
    cost = day_cost(date(2026, 2, 10), usage, rates, capacity_month_eur=28.0)
    assert cost.import_day == pytest.approx(4.0)
    assert cost.import_night == pytest.approx(1.5)
    assert cost.export_day == pytest.approx(-0.4)
    assert cost.gas == pytest.approx(1.0)
    assert cost.water == pytest.approx(0.05)
    assert cost.capacity == pytest.approx(1.0)  # 28 EUR over the 28 days of February
    assert cost.total == pytest.approx(4.0 + 1.5 - 0.4 + 1.0 + 0.05 + 1.0)
    assert energy_cost_per_hour(2.0, 0.0, rates, night=False) == pytest.approx(0.8)
    assert energy_cost_per_hour(0.0, 3.0, rates, night=True) == pytest.approx(-0.3)


def test_the_running_quarter_forecast_and_headroom():
    moment = datetime(2026, 2, 10, 18, 37, 30, tzinfo=BRUSSELS)  # 450 s into the 18:30 quarter
    assert quarter_start(moment) == datetime(2026, 2, 10, 18, 30, tzinfo=BRUSSELS)
    status = forecast(moment, average_kw=2.0, power_kw=4.0, month_peak_kw=5.0)
    assert (status.seconds_in, status.seconds_left) == (450, 450)
    assert status.projected_kw == pytest.approx(2.0 + 4.0 * 0.5)
    assert status.headroom_kw == pytest.approx((5.0 - 2.0) * 900 / 450)
    assert not status.new_peak_likely and not status.new_peak_certain
    hot = forecast(moment, average_kw=3.0, power_kw=7.4, month_peak_kw=5.0)
    assert hot.new_peak_likely and not hot.new_peak_certain
    over = forecast(moment, average_kw=5.2, power_kw=0.0, month_peak_kw=5.0)
    assert over.new_peak_certain and over.headroom_kw == 0.0
    low = forecast(moment, average_kw=1.5, power_kw=1.0, month_peak_kw=1.0)
    assert low.threshold_kw == 2.5  # a month counts at least 2.5 kW: no warning below it
    assert not low.new_peak_likely


def test_twelve_month_average_with_the_floor_and_yearly_cost():
    peaks = [MonthPeakValue(date(2025, m, 1), kw, None, "meter") for m, kw in zip(range(1, 13), [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 2.5, 2.4, 7.0, 3.5, 4.5, 8.0], strict=True)]  # fmt: skip
    peaks.append(MonthPeakValue(date(2024, 12, 1), 9.0, None, "meter"))  # 13 months back: out of the window
    summary = capacity_summary(peaks, date(2025, 12, 20), 50.12)
    billed = [2.5, 2.5, 3.0, 4.0, 5.0, 6.0, 2.5, 2.5, 7.0, 3.5, 4.5, 8.0]
    assert [p.billed_kw for p in summary.months] == billed
    assert summary.average_kw == pytest.approx(sum(billed) / 12)
    assert summary.yearly_cost == pytest.approx(sum(billed) / 12 * 50.12)
    assert summary.monthly_cost == pytest.approx(summary.yearly_cost / 12)
    short = capacity_summary(peaks[:3], date(2025, 3, 5), 50.0)
    assert short.average_kw == pytest.approx((2.5 + 2.5 + 3.0) / 3)


def test_quarter_start_across_the_october_repeat():
    first = datetime(2026, 10, 25, 2, 20, tzinfo=BRUSSELS, fold=0)
    second = datetime(2026, 10, 25, 2, 20, tzinfo=BRUSSELS, fold=1)
    assert quarter_start(first).utcoffset() == timedelta(hours=2)
    assert quarter_start(second).utcoffset() == timedelta(hours=1)


def test_vat_spot_prices_negative_injection_and_the_capacity_year():
    book = parse_rates(
        {
            "VAT": 0.06,
            "VAT included": False,
            "Electricity": {"+": {"Day": 0.2, "Night": 0.1}, "-": {"Day": -0.05, "Night": 0.01}},
            "Capacity": {"Area": "Kempen", "kWh": 0.03, "Max": 0.2},
            "Gas": {"+": 0.07, "Unit": "kWh", "cnv": ["kWh", 10.0]},
            "Periods": [{"From": "2026-10-01", "Electricity": {"+": {"Spot": {"Factor": 1.0, "Add": 0.1}}}}],
        }
    )
    fixed, dynamic = book.on(date(2026, 9, 30)), book.on(date(2026, 10, 1))
    assert fixed.import_day == pytest.approx(0.212) and fixed.export_day == -0.05  # injection: no VAT, may be < 0
    assert fixed.gas_kwh == pytest.approx(0.0742) and fixed.gas_m3 == 0.0
    assert fixed.network_kwh == pytest.approx(0.0318) and fixed.network_max_kwh == pytest.approx(0.212)
    assert dynamic.import_spot is not None and dynamic.import_spot.price(-20.0) == pytest.approx((-0.02 + 0.1) * 1.06)
    assert dynamic.export_spot is None and dynamic.export_day == -0.05  # the period changed only what it names
    # The 2026 table is the only one built in: another year uses it, and says so.
    assert fixed.capacity_price(date(2024, 5, 1)) == pytest.approx(56.21 * 1.06)
    assert (
        fixed.capacity_words(date(2024, 5, 1))
        == "Fluvius Kempen 2026, 56.21 + VAT (no 2024 price built in: 2026's used)"
    )
    assert fixed.capacity_words(date(2026, 5, 1)) == "Fluvius Kempen 2026, 56.21 + VAT"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"VAT": 0.21 * 10}, "VAT: a rate such as 0.06"),
        ({"VAT included": "yes"}, "VAT included: expected true or false"),
        ({"Electricity": {"+": {"Spot": {"Factor": 1.0, "Plus": 0.1}}}}, 'Electricity."+".Spot: expected'),
        ({"Gas": {"+": 0.07, "Unit": "MWh"}}, 'Gas.Unit: "m3" or "kWh"'),
        ({"Gas": {"+": 0.07, "Unit": "kWh"}}, 'Gas.cnv: gas priced per kWh needs ["kWh", factor]'),
    ],
)
def test_the_new_keys_are_checked_and_named(document: dict, message: str):
    base = {"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}}
    with pytest.raises(RatesError, match=re.escape(message)):
        parse_rates({**base, **document})


def test_the_network_ceiling_caps_capacity_plus_the_kwh_charge_never_below_2_5_kw():
    capacity = {"+": 60.0, "kWh": 0.05, "Max": 0.25}
    rates = parse_rates({"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}, "Capacity": capacity}).current
    # 20 kWh in a month with a 6 kW peak: 30 EUR capacity + 1 EUR per-kWh charge; the ceiling is 0.25 x 20 = 5 EUR,
    # but never below 2.5 kW x 60 / 12 = 12.50 EUR: capacity becomes 12.50 - 1.00 = 11.50 EUR.
    assert network_ceiling(30.0, 20.0, rates, 60.0) == pytest.approx(11.5)
    # 400 kWh: 30 + 20 = 50 EUR is under the ceiling of 100 EUR: unchanged.
    assert network_ceiling(30.0, 400.0, rates, 60.0) == 30.0
