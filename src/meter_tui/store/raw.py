"""Raw telegrams, kept for `raw_days` (what the meter really sent, for debugging; `report` reads the last one), in
compressed blocks.

A meter repeats most of a telegram from one second to the next, so a block of consecutive telegrams (one ingest
batch: up to 5 minutes, 300 telegrams) compressed together with zlib shrinks about 35 times: 7 days of 1 kB
telegrams are some 16 MB instead of 600 MB, and an SD card is spared as much writing. Each telegram comes back
byte for byte. A block goes as a whole once its last telegram is older than `raw_days`.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence

LEVEL = 6  # level 9 saves 12% more for twice the time of a batch
_HEAD = struct.Struct("<qI")  # each telegram: its time (UTC epoch seconds, meter clock) and its length

RawTelegram = tuple[int, bytes]  # (time, the bytes as the meter sent them)

SCHEMA = (
    """
    CREATE TABLE raw_block (
        id INTEGER PRIMARY KEY,
        first INTEGER NOT NULL,             -- UTC epoch seconds (meter clock) of its first telegram
        last INTEGER NOT NULL,              -- of its last: the block goes once this is older than raw_days
        count INTEGER NOT NULL,
        data BLOB NOT NULL                  -- zlib of each telegram as time (int64), length (uint32), bytes
    )
    """,
    "CREATE INDEX raw_block_last ON raw_block(last)",
)


def pack(telegrams: Sequence[RawTelegram]) -> bytes:
    return zlib.compress(b"".join(_HEAD.pack(time, len(data)) + data for time, data in telegrams), LEVEL)


def unpack(block: bytes) -> list[RawTelegram]:
    data = zlib.decompress(block)
    telegrams: list[RawTelegram] = []
    offset = 0
    while offset < len(data):
        time, length = _HEAD.unpack_from(data, offset)
        offset += _HEAD.size
        telegrams.append((time, data[offset : offset + length]))
        offset += length
    return telegrams


def write_block(connection: sqlite3.Connection, telegrams: Sequence[RawTelegram]) -> None:
    """Store consecutive telegrams (meter order) as one block."""
    if telegrams:
        connection.execute(
            "INSERT INTO raw_block (first, last, count, data) VALUES (?, ?, ?, ?)",
            (telegrams[0][0], telegrams[-1][0], len(telegrams), pack(telegrams)),
        )


def forget_before(connection: sqlite3.Connection, time: int) -> None:
    """Drop the blocks wholly older than `time` (the retention of `raw_days`)."""
    connection.execute("DELETE FROM raw_block WHERE last < ?", (time,))


def latest(connection: sqlite3.Connection) -> bytes | None:
    """The last raw telegram kept, None when none is."""
    try:
        row = connection.execute("SELECT data FROM raw_block ORDER BY last DESC, id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # an older meter-tui's history, read before an owner migrated it
        row = connection.execute("SELECT data FROM raw_telegram ORDER BY time DESC LIMIT 1").fetchone()
        return row[0] if row is not None else None
    return unpack(row[0])[-1][1] if row is not None else None


def raw_telegrams(connection: sqlite3.Connection, since: int | None = None) -> Iterator[RawTelegram]:
    """Every raw telegram kept (from `since`, UTC epoch seconds), in meter order, one block in memory at a time."""
    if since is None:
        rows = connection.execute("SELECT data FROM raw_block ORDER BY first, id")
    else:
        rows = connection.execute("SELECT data FROM raw_block WHERE last >= ? ORDER BY first, id", (since,))
    for (data,) in rows:
        yield from (telegram for telegram in unpack(data) if since is None or telegram[0] >= since)


def summary(connection: sqlite3.Connection) -> tuple[int, int | None, int | None, int]:
    """(telegrams, first time, last time, compressed bytes) of what is kept."""
    count, first, last, size = connection.execute(
        "SELECT coalesce(sum(count), 0), min(first), max(last), coalesce(sum(length(data)), 0) FROM raw_block"
    ).fetchone()
    return count, first, last, size


def migrate_rows(connection: sqlite3.Connection) -> bool:
    """Schema migration: the one-row-per-telegram table of before into blocks of a 5-minute batch each, the same
    blocks the ingest writes. Returns whether rows were moved (then the file is worth a VACUUM)."""
    for statement in SCHEMA:  # not executescript: it would commit the migration's transaction
        connection.execute(statement)
    moved = False
    for block in _batches(connection.execute("SELECT time, data FROM raw_telegram ORDER BY id")):
        write_block(connection, block)
        moved = True
    connection.execute("DROP TABLE raw_telegram")
    return moved


def _batches(rows: Iterable[tuple[int, bytes]], seconds: int = 300) -> Iterator[list[RawTelegram]]:
    block: list[RawTelegram] = []
    for time, data in rows:
        if block and time // seconds != block[-1][0] // seconds:
            yield block
            block = []
        block.append((time, bytes(data)))
    if block:
        yield block
