"""The first demo run's history: whole simulated days in a real SQLite file, and a live demo that goes on from
the same meter without a jump in its registers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from meter_tui.p1 import parse_telegram
from meter_tui.p1.reader import TelegramReader
from meter_tui.services.demo import demo_meter
from meter_tui.sources.demo import DemoSource
from meter_tui.sources.simulator import BRUSSELS, demo_serial
from meter_tui.store.database import StoreError, open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.store.queries import data_range, days, month_peaks
from tests.conftest import wait_for


def highest_quarters(connection) -> dict[str, tuple[float, int]]:
    """Per month the highest stored quarter (kW, start), straight from the table."""
    rows = connection.execute("SELECT day / 100, max(average_w), start FROM quarter GROUP BY day / 100").fetchall()
    return {f"{m // 100}-{m % 100:02d}": (w / 1000, start) for m, w, start in rows}


def test_a_first_run_simulates_since_the_previous_month_as_the_simulator_used_it(tmp_path: Path):
    db = tmp_path / "demo.sqlite"
    now = datetime(2026, 3, 25, 14, 7, 30, tzinfo=BRUSSELS)
    meter = demo_meter(db, 5, now=now)
    assert meter is not None and meter.now == now
    connection = open_database(db, readonly=True)
    assert data_range(connection) == (date(2026, 2, 1), date(2026, 3, 25))
    rows = days(connection, date(2026, 2, 2), date(2026, 3, 24))  # the first day lacks the quarter before its
    assert len(rows) == 51  # first telegram: the history starts at a reading, as a real one does
    for row in rows:
        truth = meter.truth[row.day]
        assert row.usage.import_kwh == pytest.approx(truth.import_day_kwh + truth.import_night_kwh, abs=0.005)
        assert row.usage.export_kwh == pytest.approx(truth.export_day_kwh + truth.export_night_kwh, abs=0.005)
        assert row.usage.gas_m3 == pytest.approx(truth.gas_m3, abs=0.005)
        assert row.gaps == 0
    # The meter's peaks (1-0:1.6.0, 0-0:98.1.0) are the history's highest quarters, to the watt.
    stored = {p.month.strftime("%Y-%m"): (p.kw, int(p.time.timestamp())) for p in month_peaks(connection)}
    assert stored == highest_quarters(connection) and set(stored) == {"2026-02", "2026-03"}
    connection.close()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-built left behind


def test_something_that_is_not_a_history_is_left_as_it_is(tmp_path: Path):
    db = tmp_path / "demo.sqlite"
    db.write_bytes(b"someone else's")
    with pytest.raises(StoreError):
        demo_meter(db, 1)
    assert db.read_bytes() == b"someone else's"


def registers(telegram) -> tuple[float, ...]:
    return (telegram.import_day_kwh, telegram.import_night_kwh, telegram.export_day_kwh, telegram.export_night_kwh,
            telegram.mbus[0].reading.value, telegram.mbus[1].reading.value)  # fmt: skip


def test_restarts_resume_the_same_household_and_every_view_agrees(tmp_path: Path):
    """Three restarts over four simulated days, each after a pause of hours or minutes (mid-quarter too), with the
    live demo running a while in between as the app would run it: registers never go down, no segment, no gap, the
    running quarter goes on, and the peak the meter shows, the history's highest quarter, `report --json` and the
    simulator's own quarters agree to the watt."""
    db = tmp_path / "demo.sqlite"
    starts = [datetime(2026, 3, 28, 17, 50, 10, tzinfo=BRUSSELS) + timedelta(hours=h) for h in (0, 0.5, 27, 61.2)]
    seen = []
    for number, start in enumerate(starts):
        meter = demo_meter(db, 7, now=start)
        assert meter is not None and meter.now == start
        connection = open_database(db)
        ingest = Ingestor(connection)
        for raw in meter.run(1200):  # 20 minutes of the live demo, a telegram a second
            telegram = parse_telegram(raw)
            ingest.add(telegram)
            seen.append(telegram)
        ingest.flush()
        connection.close()
        assert (ingest.stats.segments, ingest.stats.gaps) == (0, 0), number
    for before, after in pairwise(seen):
        assert all(b <= a for b, a in zip(registers(before), registers(after), strict=True)), after.timestamp
    restarted = [t for before, t in pairwise(seen) if t.timestamp - before.timestamp > timedelta(seconds=1)]
    assert len(restarted) == 3
    # 17:50:10 + 0.5 h = 18:20:10: the running quarter did not start again from zero.
    assert restarted[0].quarter_average_kw > 0 and restarted[0].timestamp.minute == 20

    connection = open_database(db, readonly=True)
    highest = highest_quarters(connection)
    last = seen[-1]
    assert (last.month_peak.kw, int(last.month_peak.time.timestamp())) == highest["2026-03"]
    assert [(e.kw, int(e.time.timestamp())) for e in last.peak_history] == [highest["2026-02"]]
    report = subprocess.run(
        [sys.executable, "-m", "meter_tui", "report", "--json", "--db", str(db), "--rates", str(tmp_path / "r.json"),
         "--from", "2026-02-01", "--to", "2026-04-01"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    months = {m["month"]: m["peak_kw"] for m in json.loads(report)["months"]}
    assert months == {"2026-02": highest["2026-02"][0], "2026-03": highest["2026-03"][0]}
    segments = connection.execute("SELECT count(*) FROM segment").fetchone()[0]
    assert segments <= 1  # the very first telegram of a history opens its one segment, if any
    assert connection.execute("SELECT count(*) FROM quarter WHERE gap = 1").fetchone() == (0,)


async def test_the_live_demo_goes_on_from_the_history_without_a_jump(tmp_path: Path):
    db = tmp_path / "demo.sqlite"
    meter = demo_meter(db, 2)
    assert meter is not None
    source = DemoSource(2, meter=meter)
    await source.open()
    first = parse_telegram(await source.read())
    await source.close()
    # Counted on to the present second while it was handed over.
    assert abs(first.timestamp.timestamp() - time.time()) < 3
    ingest = Ingestor(open_database(db))
    ingest.add(first)
    ingest.flush()
    assert (ingest.stats.telegrams, ingest.stats.gaps, ingest.stats.segments) == (1, 0, 0)


def test_a_first_demo_run_says_what_it_does_and_a_second_one_does_not_redo_it(tmp_path: Path):
    env = {"METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}  # fmt: skip
    command = [sys.executable, "-m", "meter_tui", "record", "--demo", "--rates", str(tmp_path / "rates.json")]
    for first_run in (True, False):
        log = tmp_path / f"record-{first_run}.log"
        with log.open("w") as out:
            record = subprocess.Popen(command, env=env, stderr=out)
            wait_for(lambda: "connected" in log.read_text(), "the demo meter", 60)  # noqa: B023 - called at once
            record.send_signal(signal.SIGTERM)
            assert record.wait(10) == 0
        said = "a first demo run: simulating the household since" in log.read_text()
        assert said is first_run, log.read_text()
    connection = open_database(tmp_path / "demo.sqlite", readonly=True)
    first, last = data_range(connection)
    today = datetime.now(BRUSSELS).date()
    assert first == (today.replace(day=1) - timedelta(days=1)).replace(day=1) and last == today
    assert not (tmp_path / "meter.sqlite").exists()  # the real history was never touched


def test_a_process_that_takes_over_the_demo_goes_on_from_the_last_telegram(tmp_path: Path):
    """Two `record --demo` processes on one history, as two browser tabs are: the owner is killed (SIGKILL) and the
    follower takes over. Its telegrams go on from the last one it saw: no register goes back, no new segment."""
    env = {**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")}
    db = tmp_path / "demo.sqlite"
    processes, logs = [], []
    for name in ("first", "second"):
        logs.append(tmp_path / f"{name}.log")
        command = [sys.executable, "-m", "meter_tui", "record", "--demo", "--db", str(db), "--rates",
                   str(tmp_path / "rates.json"), "--capture", str(tmp_path / f"{name}.p1")]  # fmt: skip
        with logs[-1].open("w") as out:
            processes.append(subprocess.Popen(command, env=env, stderr=out))
        wait_for(lambda: "connected" in logs[-1].read_text(), f"the {name} process", 30)
    owner, follower = processes
    try:
        time.sleep(3)
        owner.kill()
        owner.wait(5)
        wait_for(lambda: "owner of the meter" in logs[1].read_text(), "the follower to take over", 10)
        time.sleep(3)
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(10)
        owner.kill()
    telegrams = [parse_telegram(raw) for raw in _captured(tmp_path, "second")]
    assert len(telegrams) >= 5
    for before, after in pairwise(telegrams):
        assert all(b <= a for b, a in zip(registers(before), registers(after), strict=True)), after.timestamp
        assert after.timestamp > before.timestamp
    connection = open_database(db, readonly=True)
    assert connection.execute("SELECT count(*) FROM segment").fetchone()[0] <= 1  # only the history's first


def _captured(folder: Path, name: str) -> list[bytes]:
    reader = TelegramReader()
    data = b"".join(path.read_bytes() for path in sorted(folder.glob(f"{name}-*.p1")))
    return [result.raw for result in [*reader.feed(data), *reader.flush()] if result.telegram is not None]


def test_each_seed_is_a_household_of_its_own_with_its_own_history(tmp_path: Path):
    env = {"METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}  # fmt: skip
    command = [sys.executable, "-m", "meter_tui", "record", "--demo", "--seed", "2", "--rates",
               str(tmp_path / "rates.json")]  # fmt: skip
    log = tmp_path / "record.log"
    with log.open("w") as out:
        record = subprocess.Popen(command, env=env, stderr=out)
        wait_for(lambda: "connected" in log.read_text(), "the demo meter of seed 2", 60)
        record.send_signal(signal.SIGTERM)
        assert record.wait(10) == 0, log.read_text()
    assert "a first demo run" in log.read_text()
    assert not (tmp_path / "demo.sqlite").exists()  # seed 1's history is another household's
    connection = open_database(tmp_path / "demo-seed-2.sqlite", readonly=True)
    try:
        (serial,) = connection.execute("SELECT equipment_id FROM meter_state").fetchone()
    finally:
        connection.close()
    assert serial == demo_serial(2) != demo_serial(1)
    # Seed 1's history given to seed 2 is refused in one line: going on from its registers would mix two households.
    one = tmp_path / "one.sqlite"
    demo_meter(one, 1, now=datetime.now(BRUSSELS) - timedelta(days=1))
    done = subprocess.run([*command, "--db", str(one)], env=env, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"the history of another meter ({demo_serial(1)}), not of the demo household of --seed 2" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
