"""`meter-tui import`: raw telegram captures, Fluvius CSV exports and day-ahead price CSVs, told apart by their
content.

Captures go through the same reader and ingest as live telegrams (without keeping raw telegrams: the capture file
is the raw record). A file whose content was imported before is recognised by its SHA-256 and skipped.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from meter_tui.p1.reader import ReadResult, TelegramReader
from meter_tui.store.fluvius import FluviusResult, export_batches, is_fluvius_export, store_export
from meter_tui.store.ingest import Ingestor
from meter_tui.store.prices import is_price_csv, read_prices, store_prices

_CHUNK = 1 << 20


@dataclass(slots=True)
class ImportResult:
    path: Path
    kind: str  # "capture", "fluvius", "prices" or "unknown"
    records: int = 0  # telegrams or CSV rows
    rejected: int = 0
    skipped: int = 0
    quarters: int = 0  # quarter-hours the file holds data for
    new_quarters: int = 0  # of those, the ones the history did not have
    seconds: float = 0.0
    already: bool = False
    changed: int = 0  # prices: quarters whose price the file changed
    conflicts: int = 0  # Fluvius: values the history already had otherwise (kept, or replaced with --replace)
    completed: int = 0  # Fluvius: quarters already there that the file gave new data (gas beside electricity)
    conflict_lines: list[str] = field(default_factory=list)  # the first of them, with both values
    replace: bool = False
    problems: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # telegrams and readings the history refused, by reason
    reasons: dict[str, int] = field(default_factory=dict)  # telegrams the parser rejected, by reason

    @property
    def nothing_good(self) -> bool:
        """A capture of nothing but rejected telegrams, or a CSV whose every row with data was refused: an error,
        and not remembered as imported."""
        if self.kind == "capture":
            return self.rejected > 0 and self.records == 0
        return (
            self.kind in ("fluvius", "prices")
            and self.rejected > 0
            and self.records - self.rejected - self.skipped <= 0
        )


Progress = Callable[[int, int, int], None]  # (done, total, rejected) in the unit of the file: bytes or lines


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    connection: sqlite3.Connection, path: Path, progress: Progress | None = None, *, replace: bool = False
) -> ImportResult:
    """Import one file; `replace` lets a Fluvius export change values an earlier import stored otherwise."""
    started = time.perf_counter()
    with path.open("rb") as handle:
        head = handle.read(64)
    digest = _sha256(path)
    peek = _peek(path)
    kind = (
        "fluvius" if is_fluvius_export(head)
        else "prices" if is_price_csv(peek)
        else "capture" if b"/" in peek
        else "unknown"
    )  # fmt: skip
    result = ImportResult(path, kind, replace=replace)
    if kind == "unknown":
        result.problems.append(f"{path.name}: neither a P1 capture, a Fluvius export nor a day-ahead price CSV")
        return result
    known = connection.execute("SELECT imported FROM imported_file WHERE sha256 = ?", (digest,)).fetchone()
    if known is not None:
        result.already = True
        return result
    before = _quarter_count(connection)
    if kind == "prices":
        _import_prices(connection, path, result)
    else:
        if kind == "fluvius":
            _import_fluvius(connection, path, result, progress)
        else:
            _import_capture(connection, path, result, progress)
        result.new_quarters = _quarter_count(connection) - before
    if result.nothing_good:  # importing the file again once it is mended must not say "already imported"
        result.seconds = time.perf_counter() - started
        return result
    connection.execute(
        "INSERT OR REPLACE INTO imported_file (sha256, name, imported, kind, records) VALUES (?, ?, ?, ?, ?)",
        (digest, path.name, int(time.time()), kind, result.records),
    )
    result.seconds = time.perf_counter() - started
    return result


def _quarter_count(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT count(*) FROM quarter").fetchone()[0]


def _peek(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(1 << 16)


def _import_fluvius(
    connection: sqlite3.Connection, path: Path, result: ImportResult, progress: Progress | None
) -> None:
    total = 0
    if progress is not None:  # the bar needs the line count: one more pass over the file, as a stream
        with path.open("rb") as handle:
            total = sum(1 for _ in handle)
    parsed = FluviusResult()
    store_export(
        connection,
        export_batches(path, parsed, (lambda line: progress(line, total, 0)) if progress else None),
        parsed,
        replace=result.replace,
    )
    result.conflicts, result.conflict_lines, result.completed = (
        parsed.conflicts,
        parsed.conflict_lines,
        parsed.completed,
    )
    result.records = parsed.rows
    result.rejected = parsed.rejected
    result.skipped = parsed.empty
    result.quarters = parsed.quarters
    result.problems.extend(parsed.problems)
    if progress is not None:
        progress(total, total, result.rejected)


def _import_prices(connection: sqlite3.Connection, path: Path, result: ImportResult) -> None:
    prices, parsed = read_prices(path)
    result.new_quarters, result.changed = store_prices(connection, prices)
    result.records = parsed.rows
    result.rejected = parsed.rejected
    result.skipped = parsed.left_out
    result.quarters = parsed.quarters
    result.problems.extend(parsed.problems)


def _import_capture(
    connection: sqlite3.Connection, path: Path, result: ImportResult, progress: Progress | None
) -> None:
    reader = TelegramReader()
    ingestor = Ingestor(connection, keep_raw=False)
    ingestor.on_refused = lambda _reason, text: _problem(result, text)
    total = path.stat().st_size
    done = 0
    span: list[int] = []  # the first and the latest telegram's time
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            done += len(chunk)
            _ingest(reader.feed(chunk), ingestor, result, span)
            if progress is not None:
                progress(done, total, reader.rejected)
    _ingest(reader.flush(), ingestor, result, span)
    if not ingestor.finish():
        result.problems.append(ingestor.stats.last_error)
    if span:
        result.quarters = connection.execute(
            "SELECT count(*) FROM quarter WHERE start BETWEEN ? AND ?", (span[0] - span[0] % 900, span[-1])
        ).fetchone()[0]
    result.records = reader.good
    result.rejected = reader.rejected
    result.skipped = ingestor.stats.skipped
    result.refused = ingestor.stats.refused


def _problem(result: ImportResult, text: str) -> None:
    """One more line to say; the first 20 of a file only, the counts by reason say the rest."""
    if len(result.problems) < 20:
        result.problems.append(f"{result.path.name}: {text}")


def _ingest(results: list[ReadResult], ingestor: Ingestor, result: ImportResult, span: list[int]) -> None:
    """Ingest a chunk's telegrams, keep its problems, and move `span` to the first and latest telegram's time."""
    for read in results:
        if read.telegram is not None:
            ingestor.add(read.telegram)
        elif read.error is not None:
            result.reasons[read.error.reason] = result.reasons.get(read.error.reason, 0) + 1
            _problem(result, f"byte {read.offset}: {read.error.message}")
    if not span and (first := _stamp(results)) is not None:
        span.append(first)
    if (latest := _stamp(reversed(results))) is not None:
        span[1:] = [latest]


def _stamp(results: Iterable[ReadResult]) -> int | None:
    """The time of the first telegram with one, in UTC seconds: the scan stops there."""
    stamps = (r.telegram.timestamp for r in results if r.telegram is not None and r.telegram.timestamp is not None)
    stamp = next(stamps, None)
    return int(stamp.timestamp()) if stamp is not None else None
