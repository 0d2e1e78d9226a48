"""`meter-tui backup`, `restore` and `check`: the history's safety net, as the terminal shows it."""

from __future__ import annotations

import sqlite3
import sys
from datetime import date
from pathlib import Path

from meter_tui.services.report import missing_lines
from meter_tui.store.backup import BackupError, copy_database, damaged_advice, not_damaged, problem, restore
from meter_tui.store.database import open_database
from meter_tui.store.localtime import local_time
from meter_tui.store.queries import missing_days
from meter_tui.store.writer import recorder_words, writer_lock

PEAK_TOLERANCE_KW = 0.01  # a stored quarter may read a watt or so above the meter's own peak: rounding


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def run_backup(db: Path, target: Path | None) -> int:
    """A consistent copy of the history, also while the owner writes it."""
    wrong = problem(db)
    if wrong:
        _say(damaged_advice(db, wrong) if db.exists() else f"{db}: no history to back up")
        return 1
    target = target or db.with_name(f"{db.stem}-backup-{date.today():%Y-%m-%d}.sqlite")
    connection = open_database(db, readonly=True)
    try:
        copy_database(connection, target)
    except (OSError, sqlite3.Error) as error:  # the backup's folder: read-only, full, missing
        _say(f"meter-tui: {target}: the backup cannot be written: {getattr(error, 'strerror', None) or error}")
        return 1
    finally:
        connection.close()
    _say(f"backed up {db} to {target}")
    return 0


def run_restore(db: Path, backup: Path) -> int:
    """Put a backup in place, holding the history's writer lock meanwhile: a recorder running now would go on
    writing into the file set aside, and its telegrams would be lost from the restored history."""
    if not backup.exists():  # a mistyped name is not a damaged backup
        _say(f"meter-tui: {backup}: not restored: no such file")
        return 1
    lock = writer_lock(db)
    try:
        if not lock.try_acquire():
            _say(f"meter-tui: {recorder_words(db, lock.holder())}: stop it first, then restore")
            return 1
        aside = restore(db, backup)
    except BackupError as error:
        _say(f"meter-tui: {error}")
        return 1
    except OSError as error:
        _say(f"meter-tui: {not_damaged(db, error) or f'{db}: {error.strerror or error}'}")
        return 1
    finally:
        lock.release()
    kept = f"; the file it replaced is kept as {aside}" if aside else ""
    _say(f"restored {backup} as {db}{kept}")
    return 0


def run_check(db: Path) -> int:
    """A short report: integrity, what the history holds, gaps, register segments, month peaks against quarters.
    Exit status 1 when the file is damaged or its month peaks contradict its quarters."""
    wrong = problem(db)
    if wrong:
        _say(damaged_advice(db, wrong) if db.exists() else f"{db}: no such history")
        return 1
    connection = open_database(db, readonly=True)
    try:
        return _report(db, connection)
    finally:
        connection.close()


def _report(db: Path, connection: sqlite3.Connection) -> int:
    print(f"{db}: integrity ok")
    count, first, last, gaps = connection.execute(
        "SELECT count(*), min(start), max(start), coalesce(sum(gap), 0) FROM quarter"
    ).fetchone()
    if not count:
        print("no quarters yet")
        return 0
    print(f"{count:,} quarters from {local_time(first):%Y-%m-%d %H:%M} to {local_time(last):%Y-%m-%d %H:%M}")
    print(f"gaps: {gaps:,} quarters hold the energy of a time without telegrams before them" if gaps else "gaps: none")
    print("\n".join(missing_lines(missing_days(connection))))
    segments = connection.execute("SELECT time, reason FROM segment ORDER BY time").fetchall()
    if segments:
        print(f"registers: {len(segments)} new segment(s):")
        for when, reason in segments:
            print(f"  {local_time(when):%Y-%m-%d %H:%M}: {reason}")
    else:
        print("registers: continuous (no meter change, reset or jump)")
    contradictions = []
    for month, kw in connection.execute("SELECT month, kw FROM month_peak WHERE source = 'meter'"):
        year, number = map(int, month.split("-"))
        row = connection.execute(
            "SELECT average_w, start FROM quarter WHERE day / 100 = ? AND gap = 0 AND source = 'p1'"
            " AND average_w IS NOT NULL ORDER BY average_w DESC LIMIT 1",
            (year * 100 + number,),
        ).fetchone()
        if row is not None and row[0] / 1000 > kw + PEAK_TOLERANCE_KW:
            contradictions.append(f"  {month}: the quarter of {local_time(row[1]):%d %H:%M} averaged "
                                  f"{row[0] / 1000:.3f} kW, above the meter's month peak {kw:.3f} kW")  # fmt: skip
    if contradictions:
        print("month peaks: the meter's peak is below a stored quarter in:")
        print("\n".join(contradictions))
        return 1
    print("month peaks: consistent with the stored quarters")
    return 0
