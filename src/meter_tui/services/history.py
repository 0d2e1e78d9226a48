"""The history as the front ends see it: the owner's writes, and reads that include what is not committed yet.

Every method runs on one thread per process (the app's store thread, or `record`'s loop); reads get a connection
per thread all the same, so that a query never shares a connection with a write.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from meter_tui.config import shown_path, tightened
from meter_tui.energy.capacity import MonthPeakValue, peak_quarter
from meter_tui.energy.costs import Usage
from meter_tui.energy.pricing import DayPricer
from meter_tui.energy.rates import RateBook
from meter_tui.p1.telegram import Telegram
from meter_tui.services.compare import Comparison, compare
from meter_tui.store.backup import daily_backup, damaged_advice, not_damaged
from meter_tui.store.database import StoreError, open_database
from meter_tui.store.events import StoredEvent, recent_events, write_events
from meter_tui.store.ingest import Ingestor
from meter_tui.store.localtime import local_time
from meter_tui.store.queries import (
    QuarterRow,
    data_range,
    days,
    month_peaks,
    pricing_extras,
    quarters,
    spot_price,
)
from meter_tui.store.raw import raw_telegrams
from meter_tui.store.writer import recorder_words, writer_lock

LOCK_RETRY_SECONDS = 5.0  # how often a process kept out of a history another one records asks again

NOTES_KEPT = 100
DayUsage = tuple[Usage, float | None, datetime | None]  # a day's usage, its highest quarter and when it started


class History:
    def __init__(self, db_path: Path | None, *, raw_days: int = 7) -> None:
        self.db_path = db_path
        self.raw_days = raw_days
        self.ingestor: Ingestor | None = None
        self.open_error = ""
        self.backup_error = ""
        self.notes: list[str] = []  # what happened to the file (a backup written), for the event log
        self.refused: dict[str, int] = {}  # telegrams and readings the history refused, by reason
        self._backed_up: date | None = None  # the meter's day of the last backup
        self._backed_up_on: date | None = None  # the real day it was made
        self._local = threading.local()
        self._lock = writer_lock(db_path) if db_path is not None else None
        self._retry_at: float | None = None  # when to try again for a history another process records
        self.on_error: Callable[[str], None] | None = None  # told of every failed save
        # Told of every telegram or reading refused, (reason, words); without it they go to `notes`.
        self.on_refused: Callable[[str, str], None] | None = None
        self._events: list[StoredEvent] = []  # logged events not written yet: they go with the next batch
        self._commits = 0

    def open_for_writing(self) -> None:
        """This process owns the meter: it alone writes the history, once it holds the history's writer lock. While
        another process records the same file (another meter, or the same meter named in a way not recognised),
        this one keeps live data only, says so, and tries again every LOCK_RETRY_SECONDS to take over."""
        if self.db_path is None or self.ingestor is not None:
            return
        try:
            mine = self._lock.try_acquire()
        except OSError as error:
            self.open_error = not_damaged(self.db_path, error) or f"{self.db_path}: {error.strerror or error}"
            return
        if not mine:
            self._retry_at = time.monotonic() + LOCK_RETRY_SECONDS
            self.open_error = (f"{recorder_words(self.db_path, self._lock.holder())}: this process shows live data "
                               "only, and records when that one stops")  # fmt: skip
            return
        before = len(tightened)
        self._retry_at = None
        try:
            self.ingestor = Ingestor(open_database(self.db_path), raw_days=self.raw_days)
            self.ingestor.on_error = self.on_error
            self.ingestor.on_refused = self.on_refused or self._refused
            self.refused = self.ingestor.stats.refused  # the counts live on after close()
            self.open_error = ""
        except (StoreError, sqlite3.Error) as error:
            self.open_error = str(error)
            self._lock.release()
        self.notes += tightened[before:]  # the modes this open made private, for the event log

    @property
    def error(self) -> str:
        """Why the history cannot be kept right now ('' when all is well): live data goes on regardless."""
        return (
            self.open_error
            or (self.ingestor.stats.last_error if self.ingestor is not None else "")
            or self.backup_error
        )

    def _refused(self, _reason: str, text: str) -> None:
        """A telegram or reading the history refused or took after confirmation: for the event log (a recorder
        says it at once instead). The last few only: a process that never takes its notes keeps no pile."""
        self.notes = [*self.notes[-(NOTES_KEPT - 1) :], text]

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def add(self, telegram: Telegram) -> None:
        if self._retry_at is not None and time.monotonic() >= self._retry_at:
            self.open_for_writing()
            if self.ingestor is not None:
                self.notes.append(f"the history {shown_path(self.db_path)} is recorded by this process from now on")
        if self.ingestor is not None:
            self.ingestor.add(telegram)
            accepted = self.ingestor.meter_time  # a telegram held back or refused (stamped 2099) dates nothing
            if accepted is not None and (day := local_time(accepted).date()) != self._backed_up:
                today = date.today()
                if today != self._backed_up_on:
                    self._backed_up_on = today
                    self._backup(day)
            if self.ingestor.stats.commits != self._commits:
                self._commits = self.ingestor.stats.commits
                self._write_events()

    def log_event(self, at: int, severity: str, text: str) -> None:
        """An event of the log (at UTC epoch seconds), kept with the history's next batch (the owner's only)."""
        if self.ingestor is not None:
            self._events.append((at, severity, text))

    def _write_events(self) -> None:
        if self.ingestor is None or not self._events:
            return
        try:
            write_events(self.ingestor.connection, self._events)
        except sqlite3.Error:
            return  # the batch's own error says what is wrong with the history; the events wait for the next one
        self._events = []

    def raw_before(self, last: int, seconds: int) -> list[bytes]:
        """The raw telegrams of the `seconds` before `last` (UTC epoch seconds), oldest first."""
        connection = self._reader()
        if connection is None:
            return []
        kept = []
        for at, data in raw_telegrams(connection, last - seconds):  # in meter order
            if at >= last:
                break
            kept.append(data)
        return kept

    def events(self, limit: int) -> list[StoredEvent]:
        """The newest `limit` events kept in the history, oldest first."""
        connection = self._reader()
        return recent_events(connection, limit) if connection is not None else []

    def _backup(self, day: date) -> None:
        """The owner's daily backup, named by the meter's day: on the first telegram of each day (and of each
        start) once the real day has changed too. So a replay or a fast demo running through weeks of meter time
        makes one backup a real day, not one per simulated day (a week's `--replay --fast` wrote 1.9 GB of them),
        and a meter clock a few seconds ahead of this machine's still gets its backup at the real midnight."""
        self._backed_up = day
        if self.ingestor is None or self.db_path is None:
            return
        try:
            written = daily_backup(self.ingestor.connection, self.db_path, day)
        except (sqlite3.Error, OSError) as error:
            self.backup_error = f"backup failed: {error}"
            return
        self.backup_error = ""
        if written is not None:
            self.notes.append(f"history backed up to {shown_path(written)}")

    def explain(self, error: Exception) -> str:
        """A failure to read the history in words: which file, what is wrong, what to do."""
        if self.db_path is not None and isinstance(error, sqlite3.DatabaseError | StoreError):
            return str(error) if isinstance(error, StoreError) else damaged_advice(self.db_path, error)
        return str(error)

    def close(self) -> None:
        if self.ingestor is not None:
            self.ingestor.finish()
            self._write_events()
            self.ingestor.connection.close()
            self.ingestor = None
        if self._lock is not None:
            self._lock.release()

    def _reader(self) -> sqlite3.Connection | None:
        """None when there is no history yet; raises StoreError or sqlite3.Error when it cannot be read."""
        if self.db_path is None or not self.db_path.exists():
            return None
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.db_path, readonly=True)
            self._local.connection = connection
        return connection

    def usage_by_day(self, first: date, last: date) -> dict[date, DayUsage]:
        """Usage per day, including the open batch the owner has not committed yet (so that "today" is up to the
        second), priced the same way as what is committed."""
        connection = self._reader()
        if connection is None:
            return {}
        pending = self.ingestor.pending().items() if self.ingestor is not None else ()
        rows = days(connection, first, last, [(start, *amounts) for start, amounts in pending])
        return {row.day: (row.usage, row.peak_kw, row.peak_start) for row in rows}

    def span(self) -> tuple[date, date] | None:
        """The first and the last day the history holds (committed), None when it holds none."""
        connection = self._reader()
        return data_range(connection) if connection is not None else None

    def quarters_of(self, day: date) -> list[QuarterRow]:
        connection = self._reader()
        return quarters(connection, day) if connection is not None else []

    def pricer(self, book: RateBook, latest: Telegram | None) -> DayPricer:
        """Prices days with the month peaks (the latest telegram's word on top), the months' gas conversion
        factors and offtake."""
        connection = self._reader()
        factors, offtake = pricing_extras(connection, [book]) if connection is not None else ({}, {})
        return DayPricer(book, self.month_peaks(latest), factors, offtake)

    def compare(
        self, contracts: list[tuple[str, RateBook]], first: date, last: date, today: date | None = None
    ) -> Comparison | None:
        """The committed history from `first` to `last` priced under each contract (quarters after `today`, meter
        time, are not missing yet); None without a history."""
        connection = self._reader()
        return compare(connection, contracts, first, last, today) if connection is not None else None

    def spot_price(self, start: int) -> float | None:
        """The day-ahead price (EUR/MWh) of the quarter starting at `start` (UTC), None when not imported."""
        connection = self._reader()
        return spot_price(connection, start) if connection is not None else None

    def month_peaks(self, latest: Telegram | None) -> list[MonthPeakValue]:
        """The stored month peaks, the latest telegram's word on top: the meter wins, also before the owner's next
        commit."""
        connection = self._reader()
        stored = {p.month: p for p in month_peaks(connection)} if connection is not None else {}
        if latest is not None:
            for entry in latest.peak_history or ():
                if entry.kw is not None:
                    _keep(stored, MonthPeakValue(entry.month, entry.kw, entry.time, "meter"))
            peak = latest.month_peak
            if peak is not None and peak.time is not None and peak.kw is not None and latest.timestamp is not None:
                quarter = peak_quarter(peak.time, latest.timestamp, peak.kw)
                _keep(stored, MonthPeakValue(quarter.date().replace(day=1), peak.kw, quarter, "meter"))
        return [stored[m] for m in sorted(stored)]


def _keep(peaks: dict[date, MonthPeakValue], peak: MonthPeakValue) -> None:
    """The meter's word on a month, unless the month is known higher (another meter's, or a whole quarter's)."""
    known = peaks.get(peak.month)
    if known is None or peak.kw >= known.kw - 0.001:
        peaks[peak.month] = peak
