"""The event log in the history: written with the ingestor's batches (an SD card wears at one commit a second),
read back when the app starts, so that what happened before a restart is still in the Events screen."""

from __future__ import annotations

import sqlite3

from meter_tui.store.database import transaction

EVENTS_KEPT = 1000  # rows kept in the table; older ones are deleted as new ones come
StoredEvent = tuple[int, str, str]  # UTC epoch seconds, severity, text


def write_events(connection: sqlite3.Connection, events: list[StoredEvent]) -> None:
    def work(c: sqlite3.Connection) -> None:
        c.executemany("INSERT INTO event (time, severity, text) VALUES (?, ?, ?)", events)
        c.execute("DELETE FROM event WHERE id <= (SELECT MAX(id) FROM event) - ?", (EVENTS_KEPT,))

    transaction(connection, work)


def recent_events(connection: sqlite3.Connection, limit: int) -> list[StoredEvent]:
    """The newest `limit` events, oldest first; none from a history older than the event table."""
    try:
        rows = connection.execute(
            "SELECT time, severity, text FROM event ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
    except sqlite3.OperationalError:  # a follower reading a history its owner has not migrated yet
        return []
    return [(int(time), str(severity), str(text)) for time, severity, text in reversed(rows)]
