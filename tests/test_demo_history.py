"""The first demo run's history: whole simulated days in a real SQLite file, and a live demo that goes on from
the same meter without a jump in its registers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.demo_history import DEMO_DAYS, prepare_demo_history
from meter_tui.p1 import parse_telegram
from meter_tui.sources.demo import DemoSource
from meter_tui.sources.simulator import BRUSSELS
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.store.queries import data_range, days
from tests.conftest import wait_for


def test_whole_days_then_today_each_as_the_simulator_used_them(tmp_path: Path):
    db = tmp_path / "demo.sqlite"
    now = datetime(2026, 3, 25, 14, 7, 30, tzinfo=BRUSSELS)
    meter = prepare_demo_history(db, 5, now=now)
    assert meter is not None and meter.now == now
    connection = open_database(db, readonly=True)
    assert data_range(connection) == (date(2026, 3, 22), date(2026, 3, 25))
    rows = days(connection, date(2026, 3, 22), date(2026, 3, 24))
    assert [row.day for row in rows] == [date(2026, 3, 22) + timedelta(days=n) for n in range(DEMO_DAYS)]
    for row in rows:
        truth = meter.truth[row.day]
        assert row.usage.import_kwh == pytest.approx(truth.import_day_kwh + truth.import_night_kwh, abs=0.005)
        assert row.usage.export_kwh == pytest.approx(truth.export_day_kwh + truth.export_night_kwh, abs=0.005)
        assert row.usage.gas_m3 == pytest.approx(truth.gas_m3, abs=0.005)
        assert row.gaps == 0
    connection.close()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-built left behind


def test_an_existing_history_is_left_as_it_is(tmp_path: Path):
    db = tmp_path / "demo.sqlite"
    db.write_bytes(b"someone else's")
    assert prepare_demo_history(db, 1) is None
    assert db.read_bytes() == b"someone else's"


async def test_the_live_demo_goes_on_from_the_history_without_a_jump(tmp_path: Path):
    db = tmp_path / "demo.sqlite"
    meter = prepare_demo_history(db, 2, days=1)
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
    env = {"METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "meter_tui", "record", "--demo", "--rates", str(tmp_path / "rates.json")]
    for first_run in (True, False):
        log = tmp_path / f"record-{first_run}.log"
        with log.open("w") as out:
            record = subprocess.Popen(command, env=env, stderr=out)
            wait_for(lambda: "connected" in log.read_text(), "the demo meter", 60)  # noqa: B023 - called at once
            record.send_signal(signal.SIGTERM)
            assert record.wait(10) == 0
        said = "a first demo run: simulating 3 days of history" in log.read_text()
        assert said is first_run, log.read_text()
    connection = open_database(tmp_path / "demo.sqlite", readonly=True)
    first, last = data_range(connection)
    assert (last - first).days == DEMO_DAYS
    assert not (tmp_path / "meter.sqlite").exists()  # the real history was never touched
