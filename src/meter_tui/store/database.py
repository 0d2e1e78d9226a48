"""Opening the database: WAL (readers never block the one writer), a schema version with migrations.

Only the process that owns the meter writes; every other process opens it read-only.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from meter_tui.config import create_private, make_parent, private_file
from meter_tui.store.backup import damaged_advice, not_damaged, read_only
from meter_tui.store.raw import migrate_rows


class StoreError(Exception):
    """The database cannot be opened or written: says which file and why."""


# A migration is SQL, or a function for what SQL cannot do (compressing); one returning True asks for a VACUUM
# afterwards, to give back the room it freed.
_MIGRATIONS: list[str | Callable[[sqlite3.Connection], bool]] = [
    """
    CREATE TABLE quarter (
        start INTEGER PRIMARY KEY,          -- UTC epoch seconds of the quarter's start
        day INTEGER NOT NULL,               -- its local (Brussels) date as YYYYMMDD
        import_day_wh INTEGER NOT NULL DEFAULT 0,
        import_night_wh INTEGER NOT NULL DEFAULT 0,
        export_day_wh INTEGER NOT NULL DEFAULT 0,
        export_night_wh INTEGER NOT NULL DEFAULT 0,
        gas_l INTEGER NOT NULL DEFAULT 0,   -- litres: m3 / 1000, integers so that sums are exact
        water_l INTEGER NOT NULL DEFAULT 0,
        average_w INTEGER,                  -- the quarter's average import: 1-0:1.4.0 at its end, or energy x 4
        max_w INTEGER,                      -- the highest 1-0:1.7.0 seen in it
        gap INTEGER NOT NULL DEFAULT 0,     -- 1: holds energy of a time without telegrams before it
        source TEXT NOT NULL DEFAULT 'p1'   -- 'p1' or 'fluvius'
    ) WITHOUT ROWID;
    CREATE INDEX quarter_day ON quarter(day);
    CREATE TABLE month_peak (
        month TEXT PRIMARY KEY,             -- YYYY-MM, local
        kw REAL NOT NULL,
        time INTEGER,                       -- UTC epoch seconds of the peak quarter, when known
        source TEXT NOT NULL                -- 'meter': 1-0:1.6.0 or 0-0:98.1.0
    );
    CREATE TABLE raw_telegram (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,              -- UTC epoch seconds (meter clock)
        data BLOB NOT NULL
    );
    CREATE INDEX raw_telegram_time ON raw_telegram(time);
    CREATE TABLE meter_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        time INTEGER NOT NULL,
        import_day_wh INTEGER, import_night_wh INTEGER, export_day_wh INTEGER, export_night_wh INTEGER,
        gas_l INTEGER, gas_time INTEGER, water_l INTEGER, water_time INTEGER,
        equipment_id TEXT
    );
    CREATE TABLE segment (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE TABLE imported_file (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        imported INTEGER NOT NULL,
        kind TEXT NOT NULL,
        records INTEGER NOT NULL
    );
    """,
    """
    CREATE TABLE day_ahead_price (
        start INTEGER PRIMARY KEY,          -- UTC epoch seconds of the quarter's start
        eur_mwh REAL NOT NULL               -- the Belgian day-ahead price of that quarter (an hour's for 4 quarters)
    ) WITHOUT ROWID;
    CREATE TABLE gas_factor (
        month TEXT PRIMARY KEY,             -- YYYY-MM, local
        kwh REAL NOT NULL,                  -- a Fluvius gas export's kWh and m3 of the month's hours with both
        m3 REAL NOT NULL
    );
    """,
    migrate_rows,  # raw_telegram (a row of 1 kB per telegram) -> raw_block (5-minute batches, zlib)
    """
    CREATE TABLE event (                    -- the app's event log, kept across restarts (the newest EVENTS_KEPT)
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,              -- UTC epoch seconds (the meter's clock when there was a telegram)
        severity TEXT NOT NULL,             -- information, warning or error
        text TEXT NOT NULL
    );
    """,
    # The meter's own registers at each local day's start, kept for good (raw telegrams go after 7 days): `audit`
    # holds their daily difference against the quarters and Fluvius's export.
    """
    CREATE TABLE day_reading (
        day INTEGER PRIMARY KEY,            -- local (Brussels) date as YYYYMMDD
        time INTEGER NOT NULL,              -- UTC epoch seconds (meter clock) of the day's first accepted telegram
        import_day_wh INTEGER, import_night_wh INTEGER, export_day_wh INTEGER, export_night_wh INTEGER,
        gas_l INTEGER, water_l INTEGER,     -- the last M-Bus captures accepted by then
        equipment_id TEXT
    ) WITHOUT ROWID;
    """,
]

SCHEMA_VERSION = len(_MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the schema up to SCHEMA_VERSION. Several processes may create one new history at the same moment (a
    boot starting `record` and an app): under SQLite's write lock (BEGIN IMMEDIATE, waited for with busy_timeout) one
    of them migrates while the others wait, then read the version again and find nothing left to do."""
    if _version(connection) == SCHEMA_VERSION:
        return
    shrink: list[bool] = []

    def upgrade(connection: sqlite3.Connection) -> None:
        version = _version(connection)
        if version > SCHEMA_VERSION:
            raise StoreError(f"the database has schema version {version}, newer than this meter-tui "
                             f"({SCHEMA_VERSION})")  # fmt: skip
        for number in range(version, SCHEMA_VERSION):
            step = _MIGRATIONS[number]
            if isinstance(step, str):
                for statement in _statements(step):
                    connection.execute(statement)
            else:
                shrink.append(step(connection))
            connection.execute(f"PRAGMA user_version = {number + 1}")

    transaction(connection, upgrade)
    if any(shrink):
        _vacuum(connection)


def _vacuum(connection: sqlite3.Connection) -> None:
    """Give the room a migration freed back to the card (readers may go on meanwhile). Should it fail (no room on a
    full card for its temporary copy, another writer), the free pages are left to be reused by what comes."""
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("VACUUM")


def _version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration one by one: executescript() would commit the transaction that holds them."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip():
        yield statement


def open_database(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and for a writer, create and migrate) the database at `path`."""
    try:
        if readonly:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            make_parent(path)
            if words := read_only(path):
                raise StoreError(words)
            create_private(path)  # SQLite gives the WAL and shared-memory files the database's mode
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            # Waited for before anything else: another process creating this history holds it for a moment.
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            for sidecar in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                private_file(sidecar)
            # NORMAL in WAL mode: a power cut may lose the last commits, never corrupts the file.
            connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA busy_timeout = 5000")
        if readonly:
            # A follower's queries are small (quarters, month peaks): 512 KiB of page cache instead of SQLite's
            # 2 MiB keeps a long-running app's memory flat (the soak: +6.1 MB over a million telegrams before).
            connection.execute("PRAGMA cache_size = -512")
        if not readonly:
            migrate(connection)
    except sqlite3.Error as error:
        if type(error) is sqlite3.DatabaseError:  # not a database, or a damaged one: say what to do
            raise StoreError(damaged_advice(path, error)) from error
        raise StoreError(not_damaged(path, error) or f"{path}: {error}") from error  # locked, read-only: said so
    except OSError as error:
        raise StoreError(not_damaged(path, error) or f"{path}: {error.strerror or error}") from error
    return connection


def transaction(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], None]) -> None:
    """Run `work` in one IMMEDIATE transaction: all of it lands, or none of it."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        work(connection)
    except BaseException:
        if connection.in_transaction:  # SQLite already rolled back on some errors (a full disk)
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
