"""Years of history that survive anything: a damaged history file gives every command a clear message (which
file, what is wrong, what to do) and no traceback; `check` finds it; `restore` of a backup gives the data back;
the owner backs up daily and keeps 7 daily and 12 monthly copies; the files are private."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from textual.widgets import Static

from meter_tui.config import DIR_MODE, FILE_MODE, private_dir
from meter_tui.store.backup import backup_dir, backups, daily_backup, newest_good_backup, problem
from meter_tui.store.database import open_database
from tests.meter_app import build_fixture, make_app, settle

DAMAGE = {
    "header": lambda data: b"garbage!" * 8 + data[64:],
    "middle": lambda data: data[: len(data) // 2] + os.urandom(8192) + data[len(data) // 2 + 8192 :],
    "truncated": lambda data: data[:3000],
    "not-a-database": lambda data: os.urandom(len(data)),
}
CAPTURE = Path(__file__).parent / "data" / "telegrams" / "BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt"
COMMANDS = [["report"], ["report", "--json"], ["export"], ["backup"], ["check"], ["import", str(CAPTURE)]]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("history")).db


def meter_tui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METER_TUI_DATA_DIR": str(cwd / "data"), "METER_TUI_RUN_DIR": str(cwd / "run")}
    return subprocess.run([sys.executable, "-m", "meter_tui", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


def report(db: Path, cwd: Path) -> dict:
    done = meter_tui("report", "--json", "--db", str(db), "--rates", str(cwd / "rates.json"), cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_history_gives_every_command_a_message_and_restore_gives_the_data_back(history, tmp_path, damage):
    db = tmp_path / "meter.sqlite"
    shutil.copy(history, db)
    before = report(db, tmp_path)
    assert meter_tui("backup", "--db", str(db), "--to", str(tmp_path / "saved.sqlite"), cwd=tmp_path).returncode == 0
    db.write_bytes(DAMAGE[damage](db.read_bytes()))
    for command in COMMANDS:
        done = meter_tui(*command, "--db", str(db), cwd=tmp_path)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        if done.returncode:
            assert str(db) in done.stderr and "damaged" in done.stderr, (command, done.stderr)
    checked = meter_tui("check", "--db", str(db), cwd=tmp_path)
    assert checked.returncode == 1
    assert "the history is damaged" in checked.stderr and "meter-tui check" in checked.stderr
    restored = meter_tui("restore", str(tmp_path / "saved.sqlite"), "--db", str(db), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "kept as" in restored.stderr
    assert list(tmp_path.glob("meter.sqlite.before-restore-*"))  # the damaged file is kept aside, never deleted
    assert meter_tui("check", "--db", str(db), cwd=tmp_path).returncode == 0
    assert report(db, tmp_path) == before


def test_restore_refuses_a_damaged_backup_and_leaves_the_history_alone(history, tmp_path):
    db = tmp_path / "meter.sqlite"
    shutil.copy(history, db)
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(history.read_bytes()[:5000])
    done = meter_tui("restore", str(broken), "--db", str(db), cwd=tmp_path)
    assert done.returncode == 1 and "the backup itself is damaged" in done.stderr
    assert db.read_bytes() == history.read_bytes()


def test_check_reports_gaps_segments_and_a_month_peak_below_a_quarter(history, tmp_path):
    db = tmp_path / "meter.sqlite"
    shutil.copy(history, db)
    done = meter_tui("check", "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "integrity ok" in done.stdout and "registers: continuous" in done.stdout
    assert "month peaks: consistent" in done.stdout
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE month_peak SET kw = kw - 1 WHERE source = 'meter'")
        connection.execute("INSERT INTO segment (time, reason) VALUES (1774000000, 'a register went down')")
    done = meter_tui("check", "--db", str(db), cwd=tmp_path)
    assert done.returncode == 1
    assert "above the meter's month peak" in done.stdout and "a register went down" in done.stdout


def test_the_owner_backs_up_daily_and_keeps_seven_daily_and_twelve_monthly(history, tmp_path):
    db = tmp_path / "meter.sqlite"
    shutil.copy(history, db)
    connection = open_database(db)
    first = date(2025, 1, 1)
    for day in range(400):
        daily_backup(connection, db, first + timedelta(days=day))
    assert daily_backup(connection, db, first + timedelta(days=399)) is None  # once a day
    connection.close()
    names = sorted(p.name for p in backup_dir(db).iterdir())
    assert len([n for n in names if "-daily-" in n]) == 7 and len([n for n in names if "-monthly-" in n]) == 12
    assert "meter-daily-2026-02-04.sqlite" in names and "meter-monthly-2026-02.sqlite" in names
    assert backups(db)[0].name == "meter-daily-2026-02-04.sqlite"
    assert newest_good_backup(db) == backups(db)[0] and not problem(backups(db)[0])
    for path in backup_dir(db).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE, path


async def test_the_app_on_a_damaged_history_shows_live_data_and_offers_the_newest_backup(history, tmp_path):
    fixture = build_fixture(tmp_path / "fixture")
    app = make_app(fixture, tmp_path)
    db = tmp_path / "meter.sqlite"
    connection = open_database(db)
    good = daily_backup(connection, db, date(2026, 3, 22))
    connection.close()
    db.write_bytes(DAMAGE["truncated"](db.read_bytes()))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.live is not None and app.live.telegram.timestamp is not None
        await pilot.press("h")
        await settle(pilot, 0)
        text = str(app.screen.query_one("#failure", Static).render())
        assert "damaged" in text and str(good) in text and "meter-tui restore" in text


def test_data_and_config_folders_are_0700_and_histories_0600_and_looser_modes_are_tightened(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_dir(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == DIR_MODE
    db = folder / "meter.sqlite"
    open_database(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == FILE_MODE
    db.chmod(0o644)
    folder.chmod(0o755)  # the commands' own data folder (METER_TUI_DATA_DIR), loosened by hand
    writer = meter_tui("import", str(tmp_path / "none.p1"), "--db", str(db), cwd=tmp_path)
    assert f"{db}: mode 0644 tightened to 0600" in writer.stderr
    assert f"{folder}: mode 0755 tightened to 0700" in writer.stderr
    assert stat.S_IMODE(db.stat().st_mode) == FILE_MODE
    assert stat.S_IMODE(folder.stat().st_mode) == DIR_MODE


def test_captures_are_written_0600(tmp_path):
    from meter_tui.sources.capture import CaptureWriter  # noqa: PLC0415

    writer = CaptureWriter(tmp_path / "meter.p1")
    writer.write(b"/FLU5\r\n", date(2026, 3, 23))
    writer.close()
    written = tmp_path / "meter-2026-03-23.p1"
    assert written.read_bytes() == b"/FLU5\r\n" and stat.S_IMODE(written.stat().st_mode) == FILE_MODE
