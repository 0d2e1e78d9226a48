"""Backups of the history: consistent online copies (one read transaction, so a running owner keeps writing), 7
daily and 12 monthly ones beside the history, checks of a file's integrity, and restore.

A backup is written to a temporary name, synced and renamed: a crash mid-backup leaves the previous ones whole.
It leaves the raw telegrams out but the newest block (the last 5 minutes, for `report`'s running quarter): they are
a 7-day debugging buffer, not history, and with them 19 backups would hold 19 copies of the same week. It is the
file's sole writer, without a journal: a crash leaves a partial file that the next backup replaces.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import time
from datetime import date
from pathlib import Path

from meter_tui.config import create_private, private_dir
from meter_tui.store.writer import recorded_by

DAILY_KEPT = 7
MONTHLY_KEPT = 12
RAW_TABLES = ("raw_block", "raw_telegram")  # of these only the newest row is backed up (raw_telegram: before 3)


class BackupError(Exception):
    """A backup cannot be made or used: says which file and why."""


def backup_dir(db: Path) -> Path:
    return db.parent / "backups"


def _daily(db: Path, day: date) -> Path:
    return backup_dir(db) / f"{db.stem}-daily-{day:%Y-%m-%d}.sqlite"


def _monthly(db: Path, day: date) -> Path:
    return backup_dir(db) / f"{db.stem}-monthly-{day:%Y-%m}.sqlite"


def copy_database(connection: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the database open as `connection` at `target` (0600), whole or not at all, without the
    raw telegrams but the newest. Table by table, in one read transaction of the history (the owner goes on
    writing): the card gets what is kept, once, and no copy of the history passes through memory."""
    source = next(row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main")
    if not target.parent.exists():
        private_dir(target.parent)  # a folder made for backups holds the household's history: private
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    create_private(partial)
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        copy.execute("PRAGMA journal_mode = OFF")  # a copy that fails half way is thrown away anyway
        copy.execute("ATTACH DATABASE ? AS source", (source,))
        copy.execute("BEGIN")
        _copy_tables(copy)
        copy.execute("COMMIT")
        copy.execute("DETACH DATABASE source")
    finally:
        copy.close()
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(target)


def _copy_tables(copy: sqlite3.Connection) -> None:
    """The attached `source`'s tables, rows, indexes and schema version into `copy`'s main database."""
    schema = copy.execute(
        "SELECT type, name, sql FROM source.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        " ORDER BY type = 'index'"
    ).fetchall()
    for kind, name, sql in schema:
        copy.execute(sql)
        if kind == "table":
            newest = f' WHERE id = (SELECT max(id) FROM source."{name}")' if name in RAW_TABLES else ""
            copy.execute(f'INSERT INTO main."{name}" SELECT * FROM source."{name}"{newest}')
    version = copy.execute("PRAGMA source.user_version").fetchone()[0]
    copy.execute(f"PRAGMA main.user_version = {int(version)}")


def daily_backup(connection: sqlite3.Connection, db: Path, today: date) -> Path | None:
    """Today's backup, unless it exists; this month's too; older ones beyond 7 daily and 12 monthly removed.
    Returns the backup written, None when today's was already there."""
    daily = _daily(db, today)
    if daily.exists():
        return None
    private_dir(backup_dir(db))
    copy_database(connection, daily)
    monthly = _monthly(db, today)
    if not monthly.exists():
        create_private(monthly)
        shutil.copyfile(daily, monthly)
    for pattern, kept in ((f"{db.stem}-daily-*.sqlite", DAILY_KEPT), (f"{db.stem}-monthly-*.sqlite", MONTHLY_KEPT)):
        for old in sorted(backup_dir(db).glob(pattern))[:-kept]:
            old.unlink(missing_ok=True)
    return daily


def backups(db: Path) -> list[Path]:
    """The backups of `db`, newest first (by the date in their names; a daily one before the monthly of its month)."""
    found = list(backup_dir(db).glob(f"{db.stem}-daily-*.sqlite")) + list(
        backup_dir(db).glob(f"{db.stem}-monthly-*.sqlite")
    )
    return sorted(found, key=_stamp, reverse=True)


def _stamp(path: Path) -> str:
    """'2026-03-23' for a daily backup, '2026-03-00' for a monthly one (made on its month's first backup day)."""
    if "-daily-" in path.stem:
        return path.stem.rpartition("-daily-")[2]
    return path.stem.rpartition("-monthly-")[2] + "-00"


def problem(path: Path) -> str:
    """What is wrong with the history file at `path`, '' when it is whole: SQLite's integrity check, and the tables
    a meter-tui history has."""
    if not path.exists():
        return "no such file"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check(3)")]
            if result != ["ok"]:
                return "; ".join(result).replace("\n", "; ")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.Error as error:
        return str(error)
    if "quarter" not in tables:
        return "not a meter-tui history (no quarter table)"
    return ""


def newest_good_backup(db: Path) -> Path | None:
    for candidate in backups(db):
        if not problem(candidate):
            return candidate
    return None


_BUSY, _LOCKED, _READONLY, _CANTOPEN = 5, 6, 8, 14  # SQLite's primary result codes


def not_damaged(db: Path, error: object) -> str:
    """Why the history cannot be used when it is not damage, in words ('' when it may be damaged): locked by another
    process, or read-only. Calling these "damaged, restore a backup" would have someone put yesterday over good data.
    `error` is an exception, or the text of one (what `problem` returns)."""
    if isinstance(error, OSError):
        return _read_only(db, error.strerror or str(error)) if error.errno in _NOT_WRITABLE else ""
    code = getattr(error, "sqlite_errorcode", None)
    base = code & 0xFF if isinstance(code, int) else None
    text = str(error).lower()
    if base in (_BUSY, _LOCKED) or "is locked" in text:
        pid = recorded_by(db)
        who = f"pid {pid} (meter-tui recording it)" if pid else "another process"
        return f"{db}: the history is locked by {who}; nothing is wrong with the file, try again when it is done"
    readonly = base == _READONLY or "readonly" in text or "read-only" in text
    if readonly or ((base == _CANTOPEN or "unable to open" in text) and db.exists() and not _writable(db)):
        return _read_only(db, str(error))
    return ""


_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def read_only(db: Path) -> str:
    """Why an existing history cannot be written, in words ('' when it can): SQLite would open it read-only
    without a word, and the first save, minutes later, would fail."""
    return _read_only(db, "write permission denied") if db.exists() and not _writable(db) else ""


def _writable(db: Path) -> bool:
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK) and not _read_only_filesystem(db)


def _read_only_filesystem(db: Path) -> bool:
    try:
        return bool(os.statvfs(db.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only(db: Path, error: str) -> str:
    where = "on a read-only filesystem" if _read_only_filesystem(db) else "not writable (the file or its folder)"
    return (f"{db}: the history is read-only: {where} ({error}); nothing is wrong with the file: it needs to be "
            "writable, as does its folder (SQLite keeps its -wal and -shm files beside it)")  # fmt: skip


def damaged_advice(db: Path, error: object) -> str:
    """The message for a history that cannot be read: which file, what is wrong, what to do. A history that is only
    locked or read-only is said as such (`not_damaged`), never as damaged."""
    words = not_damaged(db, error)
    if words:
        return words
    text = f"{db}: the history is damaged ({error})."
    good = newest_good_backup(db)
    if good is not None:
        text += f" The newest good backup is {good}: `meter-tui restore {good}` puts it back (keeping this file aside)."
    else:
        text += " No good backup was found beside it; `meter-tui check` says what is wrong."
    return text


def restore(db: Path, backup: Path) -> Path | None:
    """Put `backup` in place of `db`, after checking it; the current file (and its WAL) is moved aside, never
    deleted. Returns where the current file went (None when there was none). Raises BackupError."""
    wrong = problem(backup)
    if wrong:
        raise BackupError(f"{backup}: not restored, the backup itself is damaged ({wrong})")
    aside = None
    if db.exists():
        aside = db.with_name(f"{db.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
        db.replace(aside)
        for suffix in ("-wal", "-shm"):
            sidecar = db.with_name(db.name + suffix)
            if sidecar.exists():
                sidecar.replace(aside.with_name(aside.name + suffix))
    partial = db.with_name(f".{db.name}.restoring")
    partial.unlink(missing_ok=True)
    create_private(partial)
    shutil.copyfile(backup, partial)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(db)
    return aside
