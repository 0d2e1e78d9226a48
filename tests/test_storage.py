"""Storage that fits an SD card, with real SQLite files and real processes: raw telegrams in compressed blocks that
give back every byte, an old history's raw_telegram rows migrated into them, their retention, backups without
them that restore and check fine, one backup per real day whatever the meter's clock says."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from meter_tui.p1 import parse_telegram
from meter_tui.p1.reader import TelegramReader
from meter_tui.services.history import History
from meter_tui.sources.replay import CHUNK, ReplaySource
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.backup import backup_dir
from meter_tui.store.database import _MIGRATIONS, SCHEMA_VERSION, open_database
from meter_tui.store.ingest import MAX_PENDING_RAW, Ingestor
from meter_tui.store.raw import latest, pack, raw_telegrams, summary, unpack, write_block
from tests.conftest import TELEGRAMS


def simulated(seconds: int, every: int = 1, start: datetime | None = None) -> list[bytes]:
    return SimulatedMeter(3, start or datetime(2026, 3, 23, 8, tzinfo=BRUSSELS)).run(seconds, every=every)


def stamped(raws: list[bytes]) -> list[tuple[int, bytes]]:
    return [(int(parse_telegram(raw).timestamp.timestamp()), raw) for raw in raws]


def meter_tui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METER_TUI_DATA_DIR": str(cwd / "data"), "METER_TUI_RUN_DIR": str(cwd / "run")}
    return subprocess.run([sys.executable, "-m", "meter_tui", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


def test_blocks_give_back_every_byte_of_real_telegrams_and_odd_ones(tmp_path: Path):
    real = [
        result.raw for path in sorted(TELEGRAMS.glob("*.txt")) for result in TelegramReader().feed(path.read_bytes())
    ]
    odd = [b"", bytes(range(256)) * 32, b"/half a telegram\r\n", "0-0:96.13.0(\u00e9)".encode()]
    telegrams = [(index - 5, data) for index, data in enumerate(real + odd)]  # times before 1970 too
    assert len(real) > 20
    assert unpack(pack(telegrams)) == telegrams
    connection = open_database(tmp_path / "meter.sqlite")
    write_block(connection, telegrams[:10])
    write_block(connection, telegrams[10:])
    assert list(raw_telegrams(connection)) == telegrams
    assert list(raw_telegrams(connection, since=telegrams[12][0])) == telegrams[12:]
    assert latest(connection) == telegrams[-1][1]


def test_the_ingest_keeps_raw_telegrams_byte_for_byte_in_five_minute_blocks_20_times_smaller(tmp_path: Path):
    db = open_database(tmp_path / "meter.sqlite")
    raws = simulated(3600)
    ingest = Ingestor(db)
    for raw in raws:
        ingest.add(parse_telegram(raw))
    ingest.flush()
    assert list(raw_telegrams(db)) == stamped(raws)
    count, first, last, stored = summary(db)
    assert (count, last - first) == (3600, 3599)
    # One per 5-minute batch, and one of the first two telegrams: a new history commits them at once.
    assert db.execute("SELECT count(*) FROM raw_block").fetchone() == (13,)
    assert stored * 20 < sum(map(len, raws))


def test_raw_telegrams_older_than_raw_days_go_and_the_rest_stays_whole(tmp_path: Path):
    db = open_database(tmp_path / "meter.sqlite")
    raws = stamped(simulated(3 * 86400, every=10))
    ingest = Ingestor(db, raw_days=1)
    for _, raw in raws[: len(raws) // 2]:
        ingest.add(parse_telegram(raw))
    ingest.flush()
    ingest = Ingestor(db, raw_days=1)  # a restart goes on where the last one stopped
    for _, raw in raws[len(raws) // 2 :]:
        ingest.add(parse_telegram(raw))
    ingest.flush()
    kept = list(raw_telegrams(db))
    assert kept == raws[-len(kept) :]  # the newest, without a hole
    newest = raws[-1][0]
    assert newest - 86400 - 300 < kept[0][0] <= newest - 86400 + 10  # a day, to the 5-minute block


def old_history(path: Path, raws: list[tuple[int, bytes]]) -> None:
    """A history as meter-tui wrote it before raw_block: the first two migrations, a row per raw telegram."""
    connection = sqlite3.connect(path)
    for script in _MIGRATIONS[:2]:
        assert isinstance(script, str)
        connection.executescript(script)
    connection.execute("PRAGMA user_version = 2")
    connection.executemany("INSERT INTO raw_telegram (time, data) VALUES (?, ?)", raws)
    connection.execute("INSERT INTO quarter (start, day, import_day_wh) VALUES (?, 20260323, 125)", (raws[0][0],))
    connection.commit()
    connection.close()


def test_an_old_history_s_raw_telegram_rows_are_migrated_into_blocks_and_the_file_shrinks(tmp_path: Path):
    path = tmp_path / "meter.sqlite"
    raws = stamped(simulated(1800))
    old_history(path, raws)
    before = path.stat().st_size
    unmigrated = meter_tui("report", "--json", "--db", str(path), cwd=tmp_path)  # read-only: not migrated
    assert unmigrated.returncode == 0, unmigrated.stderr
    assert json.loads(unmigrated.stdout)["peak"] is not None
    saved = tmp_path / "saved.sqlite"  # a backup of it (read-only) keeps its last raw row, as a new one its last block
    assert meter_tui("backup", "--db", str(path), "--to", str(saved), cwd=tmp_path).returncode == 0
    with sqlite3.connect(saved) as backup:
        assert backup.execute("SELECT time, data FROM raw_telegram").fetchall() == raws[-1:]
    connection = open_database(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "raw_telegram" not in tables and "raw_block" in tables
    assert list(raw_telegrams(connection)) == raws
    assert connection.execute("SELECT count(*) FROM raw_block").fetchone() == (6,)  # 30 minutes: 6 batches
    assert connection.execute("SELECT import_day_wh FROM quarter").fetchall() == [(125,)]
    connection.close()
    assert path.stat().st_size * 5 < before  # VACUUMed: the room of the rows is given back
    done = meter_tui("check", "--db", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    migrated = meter_tui("report", "--json", "--db", str(path), cwd=tmp_path)
    assert json.loads(migrated.stdout) == json.loads(unmigrated.stdout)  # the last raw telegram, from its block


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, list[bytes]]:
    """A day of telegrams every 5 seconds, raw telegrams kept; and the next 10 minutes', not yet stored."""
    path = tmp_path / "meter.sqlite"
    raws = simulated(86400 + 600, every=5)
    ingest = Ingestor(open_database(path))
    for raw in raws[:-120]:
        ingest.add(parse_telegram(raw))
    ingest.flush()
    ingest.connection.close()
    return path, raws[-120:]


def test_a_backup_leaves_the_raw_telegrams_out_and_restores_and_checks_fine(recorded, tmp_path: Path):
    recorded, later = recorded
    saved = tmp_path / "saved.sqlite"
    before = meter_tui("report", "--json", "--db", str(recorded), cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    done = meter_tui("backup", "--db", str(recorded), "--to", str(saved), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(recorded) as history, sqlite3.connect(saved) as backup:
        newest = history.execute("SELECT * FROM raw_block ORDER BY id DESC LIMIT 1").fetchall()
        assert backup.execute("SELECT * FROM raw_block").fetchall() == newest  # the last 5 minutes only
        for table in ("quarter", "month_peak", "meter_state", "segment"):
            query = f"SELECT * FROM {table} ORDER BY 1"
            assert backup.execute(query).fetchall() == history.execute(query).fetchall()
        assert backup.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert saved.stat().st_size * 3 < recorded.stat().st_size
    restored = meter_tui("restore", str(saved), "--db", str(recorded), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    checked = meter_tui("check", "--db", str(recorded), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    after = meter_tui("report", "--json", "--db", str(recorded), cwd=tmp_path)
    assert json.loads(after.stdout) == json.loads(before.stdout)
    ingest = Ingestor(open_database(recorded))  # the restored history goes on
    for raw in later:
        ingest.add(parse_telegram(raw))
    ingest.flush()
    assert summary(ingest.connection)[0] == 60 + 120


def test_the_owner_backs_up_once_per_real_day_however_many_days_the_meter_goes_through(tmp_path: Path):
    db = tmp_path / "replay.sqlite"
    history = History(db)
    history.open_for_writing()
    first_day = date.today()
    for raw in simulated(3 * 86400, every=60):
        history.add(parse_telegram(raw))
    history.close()
    real_days = (date.today() - first_day).days + 1  # 1, unless the test ran over midnight
    daily = sorted(path.name for path in backup_dir(db).glob("*-daily-*"))
    assert daily[0] == "replay-daily-2026-03-23.sqlite" and len(daily) <= real_days  # named by the meter's day
    assert len(list(backup_dir(db).glob("*-monthly-*"))) == 1


async def test_a_replay_reads_its_capture_piece_by_piece_with_the_meter_s_pauses(tmp_path: Path):
    """A capture of several 64 kB reads (garbage, a gap of half a minute, a half telegram at the end) comes out whole,
    a telegram a piece, each after its pause in meter time, as when the capture was read at once."""
    first, second = simulated(150), simulated(150, start=datetime(2026, 3, 23, 8, 3, 0, tzinfo=BRUSSELS))
    data = b"noise" + b"".join(first) + b"garbage" * 2000 + b"".join(second) + first[0][:300]
    assert len(data) > 4 * CHUNK
    path = tmp_path / "capture.p1"
    path.write_bytes(data)
    now, waits = [0.0], []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    source = ReplaySource(path, speed=1.0, clock=lambda: now[0], sleep=sleep)
    await source.open()
    pieces = []
    while piece := await source.read():
        pieces.append(piece)
    await source.close()
    assert b"".join(pieces) == data
    assert [piece.count(b"!") for piece in pieces] == [1] * 300 + [0]
    assert waits == [1.0] * 149 + [31.0] + [1.0] * 149 + [1.0]  # the first at once; the half one as rejected


def test_raw_telegrams_waiting_for_a_history_that_cannot_be_written_are_the_last_hour(tmp_path: Path):
    """A card that refuses writes for two hours: the energy waits whole, the raw telegrams only the last hour's."""
    db = open_database(tmp_path / "meter.sqlite")
    raws = stamped(simulated(2 * 3600 + 2))
    ingest = Ingestor(db)
    for _, raw in raws[:2]:
        ingest.add(parse_telegram(raw))
    ingest.flush()
    db.execute("PRAGMA query_only = 1")  # every write refused by SQLite, as on a read-only or full card
    for _, raw in raws[2:]:
        ingest.add(parse_telegram(raw))
    assert ingest.stats.write_errors > 20
    db.execute("PRAGMA query_only = 0")
    assert ingest.flush()
    assert list(raw_telegrams(db)) == raws[:2] + raws[-MAX_PENDING_RAW:]
    assert summary(db)[0] == 2 + 3600
    first, last = parse_telegram(raws[0][1]), parse_telegram(raws[-1][1])
    used = round((last.import_day_kwh + last.import_night_kwh - first.import_day_kwh - first.import_night_kwh) * 1000)
    assert db.execute("SELECT sum(import_day_wh + import_night_wh) FROM quarter").fetchone() == (used,)
