"""The simulated meter obeys the meter's rules, is deterministic, and its telegrams parse with valid CRCs."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from meter_tui.p1 import MbusKind, Tariff, parse_telegram
from meter_tui.p1.telegram import Telegram
from meter_tui.sources.simulator import BRUSSELS, ResumePoint, SimulatedMeter

HOURS = 31


def run(meter: SimulatedMeter, seconds: int) -> list[Telegram]:
    return [parse_telegram(raw) for raw in meter.run(seconds)]


@pytest.fixture(scope="module")
def two_days() -> tuple[SimulatedMeter, list[Telegram]]:
    """Friday 2026-01-09 06:00 to Saturday 13:00, with a CRC check on every telegram."""
    meter = SimulatedMeter(seed=4, start=datetime(2026, 1, 9, 6, tzinfo=BRUSSELS))
    return meter, run(meter, HOURS * 3600)


def test_every_telegram_has_a_valid_crc_and_one_second_steps(two_days):
    _, telegrams = two_days
    assert all(t.crc_status == "ok" for t in telegrams)
    times = [t.timestamp.astimezone(UTC) for t in telegrams if t.timestamp is not None]
    assert len(times) == HOURS * 3600
    assert all(b - a == timedelta(seconds=1) for a, b in pairwise(times))


def test_registers_only_grow(two_days):
    _, telegrams = two_days
    for name in ("import_day_kwh", "import_night_kwh", "export_day_kwh", "export_night_kwh"):
        values = [getattr(t, name) for t in telegrams]
        assert all(b >= a for a, b in pairwise(values)), name
    gas = [t.gas.reading.value for t in telegrams if t.gas and t.gas.reading]
    water = [t.water.reading.value for t in telegrams if t.water and t.water.reading]
    assert all(b >= a for a, b in pairwise(gas))
    assert all(b >= a for a, b in pairwise(water))
    assert gas[-1] > gas[0] and water[-1] > water[0]


def test_tariff_follows_the_flemish_clock(two_days):
    _, telegrams = two_days
    for t in telegrams[::600]:
        local = t.timestamp
        assert local is not None
        night = local.weekday() >= 5 or local.hour >= 22 or local.hour < 7
        assert t.tariff is (Tariff.NIGHT if night else Tariff.DAY), local
    friday_noon = next(t for t in telegrams if t.timestamp and t.timestamp.hour == 12)
    saturday_noon = next(t for t in telegrams if t.timestamp and t.timestamp.day == 10 and t.timestamp.hour == 12)
    assert friday_noon.tariff is Tariff.DAY and saturday_noon.tariff is Tariff.NIGHT


def test_day_registers_grow_only_by_day_and_night_ones_only_by_night(two_days):
    _, telegrams = two_days
    for a, b in pairwise(telegrams):
        if b.tariff is Tariff.DAY:
            assert b.import_night_kwh == a.import_night_kwh and b.export_night_kwh == a.export_night_kwh
        else:
            assert b.import_day_kwh == a.import_day_kwh and b.export_day_kwh == a.export_day_kwh


def test_quarter_average_builds_up_and_month_peak_follows_the_quarters(two_days):
    _, telegrams = two_days
    peak = telegrams[0].month_peak
    assert peak is not None and peak.kw is not None
    best = peak.kw
    for t in telegrams:
        assert t.timestamp is not None and t.quarter_average_kw is not None
        second = (t.timestamp.minute % 15) * 60 + t.timestamp.second
        if second == 0:
            assert t.quarter_average_kw < 0.02  # restarts near zero at :00, :15, :30, :45
        if second == 899:
            best = max(best, t.quarter_average_kw)
    last = telegrams[-1].month_peak
    assert last is not None and last.kw == pytest.approx(best, abs=0.0011)
    assert last.time is not None and last.time.minute % 15 == 0 and last.time.second == 0


def test_solar_export_around_noon_and_an_evening_peak(two_days):
    meter, telegrams = two_days
    noon = [t.power_export_kw for t in telegrams if t.timestamp and 11 <= t.timestamp.hour < 15]
    night = [t.power_export_kw for t in telegrams if t.timestamp and t.timestamp.hour < 5]
    assert max(noon) > 0.3 and max(night) == 0.0
    evening = [t.power_import_kw for t in telegrams if t.timestamp and 17 <= t.timestamp.hour < 21]
    assert max(evening) > 2.0
    assert sum(day.peak_kw for day in meter.truth.values()) > 0


def test_gas_and_water_are_captured_every_five_minutes_on_their_channels(two_days):
    _, telegrams = two_days
    t = telegrams[4000]
    assert t.gas is not None and t.water is not None
    assert (t.gas.channel, t.gas.kind, t.water.channel, t.water.kind) == (1, MbusKind.GAS, 2, MbusKind.WATER)
    captures = {t.gas.reading.time for t in telegrams if t.gas and t.gas.reading}
    assert all(c is not None and c.minute % 5 == 0 and c.second == 0 for c in captures)
    assert len(captures) == HOURS * 12


def test_peaks_are_the_quarters_it_produced_and_a_month_closes_into_the_history():
    """Four months of quarter-end telegrams: 1-0:1.6.0 and every 0-0:98.1.0 entry are the highest 1-0:1.4.0 at a
    quarter's end, and also the quarter's register difference x 4, to the watt. No month is invented."""
    meter = SimulatedMeter(seed=2, start=datetime(2025, 11, 1, tzinfo=BRUSSELS))
    telegrams = [
        parse_telegram(raw) for raw in meter.run_until(datetime(2026, 3, 1, 0, 15, tzinfo=BRUSSELS), every=900)
    ]
    assert telegrams[0].peak_history == ()  # a meter whose history starts with the simulation
    per_month: dict[str, tuple[float, datetime]] = {}
    for before, after in pairwise(telegrams):
        imported = (after.import_day_kwh + after.import_night_kwh) - (before.import_day_kwh + before.import_night_kwh)
        assert after.quarter_average_kw == pytest.approx(imported * 4, abs=1e-9)
        start = after.timestamp - timedelta(seconds=899)
        month = start.strftime("%Y-%m")
        per_month[month] = max(per_month.get(month, (0.0, start)), (after.quarter_average_kw, start))
    last = telegrams[-1]
    history = {entry.month.strftime("%Y-%m"): (entry.kw, entry.time) for entry in last.peak_history}
    assert list(history) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    for month, (kw, when) in history.items():
        assert (kw, when) == per_month[month], month
    before = telegrams[-2]  # 28 Feb 23:59:59, the month not yet closed
    assert before.month_peak.kw == history["2026-02"][0]
    assert (last.month_peak.time.month, last.month_peak.kw) == (3, 0.0)  # March: its first quarter not yet closed


def test_a_resumed_meter_goes_on_with_its_registers_running_quarter_and_peaks():
    meter = SimulatedMeter(seed=3, start=datetime(2026, 1, 30, 18, tzinfo=BRUSSELS))
    list(meter.run_until(datetime(2026, 2, 1, 18, 7, 30, tzinfo=BRUSSELS)))
    last = parse_telegram(meter.run(1)[0])  # 18:07:30, half a quarter in
    resumed = SimulatedMeter(seed=3, resume=ResumePoint.from_telegram(last))
    following = run(resumed, 600)
    for before, after in pairwise([last, *following]):
        for name in ("import_day_kwh", "import_night_kwh", "export_day_kwh", "export_night_kwh"):
            assert getattr(after, name) >= getattr(before, name), name
        assert after.timestamp - before.timestamp == timedelta(seconds=1)
    assert following[0].quarter_average_kw >= last.quarter_average_kw > 0  # 1-0:1.4.0 goes on, not from zero
    assert following[0].month_peak == last.month_peak and following[0].peak_history == last.peak_history
    assert [e.month.month for e in last.peak_history] == [1]


def test_the_household_follows_the_belgian_seasons():
    def day(month: int) -> tuple[float, float, float]:
        meter = SimulatedMeter(seed=5, start=datetime(2026, month, 10, tzinfo=BRUSSELS))
        list(meter.run_until(datetime(2026, month, 17, tzinfo=BRUSSELS)))
        week = [meter.truth[date(2026, month, d)] for d in range(10, 17)]
        return (
            sum(t.export_day_kwh + t.export_night_kwh for t in week) / 7,
            sum(t.gas_m3 for t in week) / 7,
            [round(t.water_m3, 3) for t in week],
        )

    june_solar, june_gas, june_water = day(6)
    november_solar, november_gas, november_water = day(11)
    assert 12 < june_solar < 25 and november_solar < june_solar / 4  # 4 kWp: a fraction in November
    assert november_gas > 4 * june_gas and 2 < november_gas < 8  # heating degree days
    for water in (june_water, november_water):
        assert len(set(water)) == 7 and all(0.08 < w < 0.35 for w in water)  # never the same day twice


@pytest.mark.parametrize(
    ("start", "letters"),
    [
        (datetime(2026, 3, 29, 1, 59, 59, tzinfo=BRUSSELS), ["015959W", "030000S"]),
        (datetime(2026, 10, 25, 2, 59, 59, fold=0, tzinfo=BRUSSELS), ["025959S", "020000W"]),
    ],
)
def test_summer_and_winter_time_letters_across_dst(start: datetime, letters: list[str]):
    raws = SimulatedMeter(seed=1, start=start).run(2)
    stamps = [raw.split(b"0-0:1.0.0(")[1][6:13].decode() for raw in raws]
    assert stamps == letters
    first, second = (parse_telegram(raw).timestamp for raw in raws)
    assert first is not None and second is not None
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(seconds=1)


def test_same_seed_same_telegrams_and_live_matches_generated():
    start = datetime(2026, 6, 1, 12, tzinfo=BRUSSELS)
    assert SimulatedMeter(7, start).run(50) == SimulatedMeter(7, start).run(50)
    assert SimulatedMeter(7, start).run(5) != SimulatedMeter(8, start).run(5)
    generated = SimulatedMeter(7, start)
    generated.run(3600)
    late_start = SimulatedMeter(7, start + timedelta(hours=1))
    a, b = parse_telegram(generated.step()), parse_telegram(late_start.step())
    assert a.timestamp == b.timestamp
    assert a.power_import_kw == b.power_import_kw and a.phases == b.phases


def test_simulate_command_writes_a_capture(tmp_path: Path):
    out = tmp_path / "week.p1"
    done = subprocess.run(
        [sys.executable, "-m", "meter_tui", "simulate", "--days", "0.01", "--start", "2026-02-02", "--seed", "3",
         "--out", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote 864 telegrams" in done.stderr
    expected = SimulatedMeter(3, datetime(2026, 2, 2, tzinfo=BRUSSELS)).run(864)
    assert out.read_bytes() == b"".join(expected)
