"""The history store with a real SQLite file: energy from register differences, gaps, DST, meter swaps, clocks
that jump back, batching, crashes, a full or read-only disk."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.energy.rates import parse_rates
from meter_tui.p1 import parse_telegram
from meter_tui.p1.telegram import Telegram
from meter_tui.services.report import build_report, report_to_json
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.store.queries import days, month_peaks, quarters
from meter_tui.store.raw import summary as raw_summary
from tests.conftest import with_crc

RATES = parse_rates(
    {
        "Electricity": {"+": {"Day": 0.4, "Night": 0.3}, "-": {"Day": 0.1, "Night": 0.05}},
        "Gas": {"+": 1.2},
        "Water": {"+": 5.0},
    }
)


def telegram(
    moment: datetime,
    day_kwh: float,
    night_kwh: float = 0.0,
    *,
    export: float = 0.0,
    serial: str = "X31",
    gas: tuple[datetime, float] | None = None,
    quarter_kw: float | None = None,
    power: float = 0.5,
) -> Telegram:
    letter = "S" if moment.utcoffset() == timedelta(hours=2) else "W"
    lines = [
        "/FLU5\\253769484_A", "", "0-0:96.1.4(50217)", f"0-0:96.1.1({serial})",
        f"0-0:1.0.0({moment:%y%m%d%H%M%S}{letter})",
        f"1-0:1.8.1({day_kwh:010.3f}*kWh)", f"1-0:1.8.2({night_kwh:010.3f}*kWh)",
        f"1-0:2.8.1({export:010.3f}*kWh)", "1-0:2.8.2(000000.000*kWh)", f"1-0:1.7.0({power:06.3f}*kW)",
    ]  # fmt: skip
    if quarter_kw is not None:
        lines.append(f"1-0:1.4.0({quarter_kw:06.3f}*kW)")
    if gas is not None:
        when, m3 = gas
        gas_letter = "S" if when.utcoffset() == timedelta(hours=2) else "W"
        lines += ["0-1:24.1.0(003)", f"0-1:24.2.3({when:%y%m%d%H%M%S}{gas_letter})({m3:09.3f}*m3)"]
    return parse_telegram(with_crc("\r\n".join([*lines, "!"])))


def at(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS, fold=fold)  # type: ignore[misc]


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    connection = open_database(tmp_path / "meter.sqlite")
    yield connection
    connection.close()


def total_import(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT sum(import_day_wh + import_night_wh) FROM quarter").fetchone()[0] or 0


def test_a_gap_of_hours_lands_where_reading_resumes(db):
    ingest = Ingestor(db)
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 1), 100.000))
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 2), 100.001))
    ingest.add(telegram(at(2026, 2, 3, 13, 20, 5), 103.501))  # 3 h 20 min without telegrams
    ingest.add(telegram(at(2026, 2, 3, 13, 20, 6), 103.502))
    ingest.flush()
    rows = db.execute("SELECT start, import_day_wh, gap FROM quarter ORDER BY start").fetchall()
    assert [(r[1], r[2]) for r in rows] == [(1, 0), (3501, 1)]
    resumed = datetime.fromtimestamp(rows[1][0], BRUSSELS)
    assert (resumed.hour, resumed.minute) == (13, 15)
    assert total_import(db) == 3502  # nothing lost, nothing invented in between
    assert ingest.stats.gaps == 1


def test_a_meter_swap_starts_a_new_segment_without_negative_or_giant_usage(db):
    ingest = Ingestor(db)
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 0), 5000.000))
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 1), 5000.001))
    ingest.add(telegram(at(2026, 2, 3, 11, 0, 0), 0.010, serial="X32"))  # a new meter, new serial, new registers
    ingest.add(telegram(at(2026, 2, 3, 11, 0, 1), 0.011, serial="X32"))
    # A register going down, and 900 kWh in a second, each confirmed by the next telegram: a reset, a swap.
    ingest.add(telegram(at(2026, 2, 3, 11, 0, 2), 0.005, serial="X32"))
    ingest.add(telegram(at(2026, 2, 3, 11, 0, 3), 0.006, serial="X32"))
    ingest.add(telegram(at(2026, 2, 3, 11, 0, 4), 900.0, serial="X32"))
    ingest.add(telegram(at(2026, 2, 3, 11, 0, 5), 900.001, serial="X32"))
    ingest.finish()
    assert total_import(db) == 4
    assert [r[0] for r in db.execute("SELECT reason FROM segment ORDER BY id")] == [
        "meter changed from X31 to X32",
        "a register went down (meter replaced or reset)",
        "a register jumped by more than a household can use",
    ]
    assert ingest.stats.refused == {} and ingest.stats.skipped == 0


def test_a_clock_that_jumps_back_adds_nothing_and_reimport_changes_nothing(db):
    ingest = Ingestor(db)
    for second, kwh in ((0, 10.0), (1, 10.001), (2, 10.002)):
        ingest.add(telegram(at(2026, 2, 3, 10, 0, second), kwh))
    ingest.add(telegram(at(2026, 2, 3, 9, 59, 0), 10.005))  # clock back, for one telegram
    ingest.finish()
    assert total_import(db) == 2
    assert ingest.stats.skipped == 1
    again = Ingestor(db)
    for second, kwh in ((0, 10.0), (1, 10.001), (2, 10.002)):
        again.add(telegram(at(2026, 2, 3, 10, 0, second), kwh))
    again.flush()
    assert total_import(db) == 2
    assert again.stats.skipped == 3


def test_gas_unchanged_for_five_minutes_then_its_capture_lands_in_the_quarter_it_closes(db):
    ingest = Ingestor(db)
    base = at(2026, 2, 3, 12, 0, 0)
    first_capture = at(2026, 2, 3, 11, 55, 0)
    for second in range(0, 300, 10):  # 12:00:00 to 12:04:50: the gas reading does not change
        ingest.add(telegram(base + timedelta(seconds=second), 1.0, gas=(first_capture, 100.0)))
    ingest.add(telegram(at(2026, 2, 3, 12, 5, 2), 1.0, gas=(at(2026, 2, 3, 12, 5, 0), 100.125)))
    ingest.add(telegram(at(2026, 2, 3, 12, 15, 3), 1.0, gas=(at(2026, 2, 3, 12, 15, 0), 100.250)))
    ingest.flush()
    rows = db.execute("SELECT start, gas_l FROM quarter WHERE gas_l > 0 ORDER BY start").fetchall()
    starts = [datetime.fromtimestamp(r[0], BRUSSELS).strftime("%H:%M") for r in rows]
    assert list(zip(starts, [r[1] for r in rows], strict=True)) == [("12:00", 250)]  # 12:05 and 12:15 close it


@pytest.mark.parametrize(("day", "quarter_count"), [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100)])
def test_dst_days_have_their_real_number_of_quarters(db, day: date, quarter_count: int):
    meter = SimulatedMeter(3, datetime.combine(day, datetime.min.time(), tzinfo=BRUSSELS))
    ingest = Ingestor(db)
    for raw in meter.run(27 * 3600, every=30):
        ingest.add(parse_telegram(raw))
    ingest.flush()
    rows = quarters(db, day)
    assert len(rows) == quarter_count
    assert len({r.start.astimezone(BRUSSELS).utcoffset() for r in rows}) == 2
    (row,) = days(db, day, day)
    truth = meter.truth[day]
    # The first telegram has no earlier registers to subtract from: its 30 s are not counted.
    assert row.usage.import_kwh == pytest.approx(truth.import_day_kwh + truth.import_night_kwh, abs=0.03)
    assert row.peak_kw == pytest.approx(truth.peak_kw, abs=0.002)


def test_a_simulated_month_reports_what_the_simulator_used(db):
    meter = SimulatedMeter(11, at(2026, 4, 1))
    ingest = Ingestor(db, keep_raw=False)
    for raw in meter.run(30 * 86400 + 600, every=60):
        ingest.add(parse_telegram(raw))
    ingest.flush()
    report = build_report(db, RATES, date(2026, 4, 2), date(2026, 4, 30))
    assert len(report.days) == 29
    for day in report.days:
        truth = meter.truth[day.day]
        assert day.usage.import_day_kwh == pytest.approx(truth.import_day_kwh, abs=0.003)
        assert day.usage.import_night_kwh == pytest.approx(truth.import_night_kwh, abs=0.003)
        assert day.usage.export_day_kwh == pytest.approx(truth.export_day_kwh, abs=0.003)
        assert day.usage.export_night_kwh == pytest.approx(truth.export_night_kwh, abs=0.003)
        assert day.usage.gas_m3 == pytest.approx(truth.gas_m3, abs=0.003)
        assert day.usage.water_m3 == pytest.approx(truth.water_m3, abs=0.003)
        expected = (
            truth.import_day_kwh * 0.4 + truth.import_night_kwh * 0.3 - truth.export_day_kwh * 0.1
            - truth.export_night_kwh * 0.05 + truth.gas_m3 * 1.2 + truth.water_m3 * 5.0
        )  # fmt: skip
        assert day.cost.total == pytest.approx(expected, abs=0.005)  # right to the cent
        assert day.peak_kw == pytest.approx(truth.peak_kw, abs=0.002)
    april = next(m for m in month_peaks(db) if m.month == date(2026, 4, 1))
    assert april.source == "meter"
    assert april.kw == pytest.approx(max(meter.truth[d].peak_kw for d in meter.truth if d.month == 4), abs=0.002)
    document = report_to_json(report)
    assert document["days"][0]["date"] == "2026-04-02"
    assert document["months"][0]["month"] == "2026-04"
    assert set(document["capacity"]) >= {"average_12_months_kw", "yearly_cost_eur"}


def test_few_commits_and_raw_telegrams_kept_for_their_days(db):
    meter = SimulatedMeter(1, at(2026, 2, 1))
    ingest = Ingestor(db, raw_days=1)
    for raw in meter.run(2 * 86400, every=20):
        ingest.add(parse_telegram(raw))
    ingest.flush()
    assert ingest.stats.commits <= 2 * 288 + 1  # one commit per 5 minutes of meter time, at most
    count, oldest, newest, _ = raw_summary(db)
    assert newest - oldest <= 86400 + 300
    assert count < 2 * 86400 / 20


def test_a_read_only_or_full_disk_is_reported_and_nothing_is_lost(tmp_path: Path):
    path = tmp_path / "meter.sqlite"
    connection = open_database(path)
    ingest = Ingestor(connection)
    errors: list[str] = []
    said: list[str] = []
    ingest.on_error = errors.append
    ingest.on_refused = lambda _reason, text: said.append(text)
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 0), 1.0))
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 1), 1.001))
    connection.execute("PRAGMA query_only = ON")  # as a read-only file system behaves: every write refused
    assert ingest.flush() is False
    assert "cannot write the history" in errors[0]
    ingest.add(telegram(at(2026, 2, 3, 10, 0, 2), 1.002))  # reading goes on
    connection.execute("PRAGMA query_only = OFF")
    assert ingest.flush() is True
    assert said == ["history written again after 1 failed try: nothing was lost"]
    assert total_import(connection) == 2
    page_count = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {page_count}")  # the disk is full
    meter = SimulatedMeter(1, at(2026, 2, 3, 10, 0, 3))
    for raw in meter.run(600):
        ingest.add(parse_telegram(raw))
    assert ingest.flush() is False
    assert "full" in ingest.stats.last_error
    connection.close()


CRASH_SCRIPT = """
import sys
from datetime import datetime
from meter_tui.p1 import parse_telegram
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor
ingest = Ingestor(open_database(__import__("pathlib").Path(sys.argv[1])))
meter = SimulatedMeter(5, datetime(2026, 2, 3, tzinfo=BRUSSELS))
while True:
    ingest.add(parse_telegram(meter.step()))
"""


def test_sigkill_during_a_batch_leaves_a_sound_database_whose_totals_add_up(tmp_path: Path):
    path = tmp_path / "meter.sqlite"
    process = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(path)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.3)
            if path.exists():
                with sqlite3.connect(path) as probe:
                    try:
                        if (probe.execute("SELECT count(*) FROM quarter").fetchone()[0] or 0) > 20:
                            break
                    except sqlite3.OperationalError:
                        pass
        os.kill(process.pid, 9)
    finally:
        process.wait(10)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    state = connection.execute("SELECT time, import_day_wh, import_night_wh FROM meter_state").fetchone()
    first = SimulatedMeter(5, datetime(2026, 2, 3, tzinfo=BRUSSELS)).step()
    start = parse_telegram(first)
    registers_then = round(start.import_day_kwh * 1000) + round(start.import_night_kwh * 1000)
    # Every committed quarter sums to exactly the register difference of the committed state.
    assert total_import(connection) == state[1] + state[2] - registers_then
    # Resume after the crash: the energy of the lost batch comes back from the registers.
    resumed = Ingestor(open_database(path))
    meter = SimulatedMeter(5, datetime(2026, 2, 3, tzinfo=BRUSSELS))
    raws = meter.run(state[0] - int(start.timestamp.timestamp()) + 900)
    for raw in raws:
        resumed.add(parse_telegram(raw))
    resumed.flush()
    last = parse_telegram(raws[-1])
    assert total_import(resumed.connection) == (
        round(last.import_day_kwh * 1000) + round(last.import_night_kwh * 1000) - registers_then
    )
