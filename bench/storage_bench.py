"""Storage on an SD card: a week of 1 Hz recording, the history and its backups, the bytes written per day.

Run: `make bench-storage` (or `.venv/bin/python bench/storage_bench.py --days 7`). It simulates `--days` + 1 days
of the household meter (one telegram a second, as `meter-tui simulate` writes them), records the first `--days`
with a real `meter-tui record --replay week.p1 --fast` (its peak memory: target under 200 MB), then the day after
with another (the bytes that day writes, its daily backup included: target under 150 MB a day), and prints the
history's size (raw telegrams of 7 days: target under 60 MB). Then it goes on to a year (the rest of it at a
telegram a minute, which makes the same quarters) and prints the data folder with 7 daily and 12 monthly backups
(target under 400 MB), with the arithmetic; last, how long an older history's week of raw rows takes to convert.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from meter_tui.p1 import parse_telegram
from meter_tui.p1.reader import TelegramReader
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.backup import DAILY_KEPT, MONTHLY_KEPT, backup_dir, copy_database
from meter_tui.store.database import _MIGRATIONS, open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.store.raw import pack, summary

MB = 1e6
SEALED = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
WAL_ALLOWANCE = 4.2  # MB: SQLite checkpoints its write-ahead log at 1,000 pages of 4 kB; it is reused, not grown
# Runs `meter-tui` in this process and leaves what the kernel counted of it (/proc/self/io, /proc/self/status).
CHILD = (
    "import sys\nfrom pathlib import Path\nfrom meter_tui.cli import main\n"
    "try:\n    code = main(sys.argv[2:])\nfinally:\n"
    "    Path(sys.argv[1]).write_text(Path('/proc/self/io').read_text() + Path('/proc/self/status').read_text())\n"
    "raise SystemExit(code)\n"
)


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    peak_mb: float  # VmHWM: the highest resident memory
    written_mb: float  # wchar: what the process handed to write() (every byte of it reaches the card at 1 Hz)
    disk_mb: float  # write_bytes: what the kernel sent to the disk for it (a fast replay lets it merge rewrites)


def simulate(folder: Path, days: int) -> tuple[Path, Path, SimulatedMeter]:
    """`days` of one-second telegrams, and the day after in its own file; the meter, to go on."""
    started = time.perf_counter()
    meter = SimulatedMeter(1, datetime(2026, 3, 23, tzinfo=BRUSSELS))
    week, after = folder / "week.p1", folder / "day-after.p1"
    for path, seconds in ((week, days * 86400), (after, 86400)):
        with path.open("wb") as out:
            for _ in range(seconds):
                out.write(meter.step())
    print(
        f"simulated {days} + 1 days of one-second telegrams ({(week.stat().st_size + after.stat().st_size) / MB:,.0f}"
        f" MB) in {time.perf_counter() - started:.0f} s"
    )
    return week, after, meter


def record(capture: Path, db: Path) -> Run:
    """A real `meter-tui record --replay CAPTURE --fast` into `db`, as its own process."""
    figures = db.parent / "child-io.txt"
    home = db.parent.parent / "home"  # the child's config (its rates.json) and folders, never the user's
    env = {**os.environ, "HOME": str(home), "METER_TUI_RUN_DIR": str(db.parent / "run"),
           "METER_TUI_DATA_DIR": str(db.parent)}  # fmt: skip
    env.update({name: str(home / name.lower()) for name in SEALED})
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", CHILD, str(figures), "record", "--replay", str(capture), "--fast", "--db", str(db)],
        check=True,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    values = {}
    for line in figures.read_text().splitlines():
        key, _, value = line.partition(":")
        values[key] = value.split()[0] if value.split() else ""
    return Run(elapsed, int(values["VmHWM"]) / 1000, int(values["wchar"]) / MB, int(values["write_bytes"]) / MB)


def thin_size(db: Path) -> float:
    """MB of a backup of `db` as the owner makes it (the raw telegrams left out but their newest block)."""
    target = db.parent / "thin.sqlite"
    connection = open_database(db, readonly=True)
    copy_database(connection, target)
    connection.close()
    size = target.stat().st_size / MB
    target.unlink()
    return size


@dataclass(frozen=True, slots=True)
class Held:
    size: float  # MB of the history file
    raw: float  # MB of its raw telegrams' blocks
    kept_days: float  # the days of raw telegrams they hold


def history_figures(db: Path, days: int) -> Held:
    """Prints what the history holds."""
    connection = sqlite3.connect(db)
    count, first, last, raw_bytes = summary(connection)
    blocks = connection.execute("SELECT count(*) FROM raw_block").fetchone()[0]
    connection.close()
    held = Held(db.stat().st_size / MB, raw_bytes / MB, (last - first) / 86400)
    week = held.raw * 7 / held.kept_days
    print(f"history file after {days} days: {held.size:.1f} MB")
    print(
        f"  raw telegrams kept: {count:,} ({held.kept_days:.2f} days) in {blocks:,} blocks of {held.raw:.1f} MB, "
        f"{raw_bytes / count:.0f} bytes a telegram: 7 days are {week:.1f} MB (target under 60 MB)"
    )
    return held


def rest_of_year(db: Path, meter: SimulatedMeter, days: int, week_backup: float, day: Run) -> None:
    """Goes on to a year: the other days ingested in this process at a telegram a minute (quarters, peaks and
    state are those of 1 Hz; the 7-day raw buffer stays the one recorded at 1 Hz), then measures the data folder."""
    started = time.perf_counter()
    ingest = Ingestor(open_database(db), keep_raw=False)
    for raw in meter.run_until(datetime(2026, 3, 23, tzinfo=BRUSSELS) + timedelta(days=365), every=60):
        ingest.add(parse_telegram(raw))
    ingest.flush()
    ingest.connection.close()
    quarters = sqlite3.connect(db).execute("SELECT count(*) FROM quarter").fetchone()[0]
    elapsed = time.perf_counter() - started
    print(f"the other {365 - days} days of the year added ({quarters:,} quarters in all) in {elapsed:.0f} s")
    history, backup = db.stat().st_size / MB, thin_size(db)
    total = history + (DAILY_KEPT + MONTHLY_KEPT) * backup + WAL_ALLOWANCE
    print(f"after a year: history {history:.1f} MB; a backup {backup:.2f} MB (after {days} days: {week_backup:.2f} MB)")
    print(
        f"  data folder: {history:.1f} + ({DAILY_KEPT} daily + {MONTHLY_KEPT} monthly) x {backup:.2f} + "
        f"write-ahead log {WAL_ALLOWANCE} = {total:.0f} MB (target under 400 MB; every backup counted as the newest)"
    )
    written = day.written_mb - week_backup + backup
    print(
        f"  written a day in the year's last days: {day.written_mb:.1f} - {week_backup:.2f} + {backup:.2f} "
        f"(its backup at a year's size) = {written:.1f} MB (target under 150 MB)"
    )


def migration(capture: Path, folder: Path) -> None:
    """An older meter-tui's history holding the capture's raw telegrams a row each, converted by its first open."""
    path = folder / "old.sqlite"
    connection = sqlite3.connect(path)
    for script in _MIGRATIONS[:2]:  # the schema before raw_block
        assert isinstance(script, str)
        connection.executescript(script)
    connection.execute("PRAGMA user_version = 2")
    reader = TelegramReader()
    with capture.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            rows = [(int(r.telegram.timestamp.timestamp()), r.raw) for r in reader.feed(chunk) if r.telegram]
            connection.executemany("INSERT INTO raw_telegram (time, data) VALUES (?, ?)", rows)
    connection.commit()
    connection.close()
    before = path.stat().st_size / MB
    started = time.perf_counter()
    open_database(path).close()
    elapsed = time.perf_counter() - started
    print(
        f"an older history holding these raw telegrams a row each ({before:.0f} MB), converted on its first open "
        f"in {elapsed:.1f} s: {path.stat().st_size / MB:.1f} MB"
    )
    path.unlink()


def real_stream() -> None:
    """The same compression on a real meter's consecutive telegrams (the test data's stream): the simulated ones
    might compress better than a real meter's."""
    path = Path(__file__).parents[1] / "tests" / "data" / "telegrams" / "streams"
    stream = path / "stream__BE_dsmrhub__example.dsmr_14_consecutive.txt"
    telegrams = [(index, r.raw) for index, r in enumerate(TelegramReader().feed(stream.read_bytes())) if r.telegram]
    alone, together = len(pack(telegrams[:1])), len(pack(telegrams))
    print(
        f"a real Belgian meter's {len(telegrams)} consecutive telegrams "
        f"({sum(len(t[1]) for t in telegrams) // len(telegrams)} bytes each): the first {alone} bytes compressed, "
        f"each further one {(together - alone) / (len(telegrams) - 1):.0f} bytes"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7, help="days recorded before the measured day (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        real_stream()
        week, after, meter = simulate(folder, args.days)
        db = folder / "data" / "meter.sqlite"
        first = record(week, db)
        print(
            f"record --replay of {args.days} days --fast: {args.days * 86400 / first.seconds:,.0f} telegrams/s, "
            f"peak memory {first.peak_mb:.0f} MB (target under 200 MB), {first.written_mb:.0f} MB written"
        )
        print(f"  backups it made: {', '.join(sorted(p.name for p in backup_dir(db).iterdir()))}")
        for daily in backup_dir(db).glob("*-daily-*"):
            daily.unlink()  # the next day's own backup is part of what that day writes
        day = record(after, db)
        backup = thin_size(db)
        print(
            f"the day after, recorded: {day.written_mb:.1f} MB written (write calls; {day.disk_mb:.1f} MB the "
            f"kernel sent to the disk), its daily backup of {backup:.2f} MB included (target under 150 MB a day)"
        )
        history_figures(db, args.days + 1)
        rest_of_year(db, meter, args.days + 1, backup, day)
        migration(week, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
