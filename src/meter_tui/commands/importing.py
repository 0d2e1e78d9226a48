"""The terminal side of `meter-tui import`: a progress bar on a terminal, a summary line per file, line numbers of
the rows it skipped."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from meter_tui.services.events import by_reason
from meter_tui.store.database import open_database
from meter_tui.store.importer import ImportResult, import_file


def _summary(result: ImportResult) -> str:
    if result.kind == "unknown":
        return f"{result.path.name}: skipped, neither a P1 capture, a Fluvius export nor a day-ahead price CSV"
    if result.already:
        return f"{result.path.name}: already imported, nothing changed"
    if result.nothing_good and result.kind == "capture":
        rejected = "its only telegram" if result.rejected == 1 else f"all {result.rejected:,} telegrams"
        return f"{result.path.name}: nothing imported, {rejected} rejected{by_reason(result.reasons)}"
    if result.nothing_good:
        return f"{result.path.name}: nothing imported, all {result.rejected:,} rows with data refused"
    if result.kind == "prices":
        return (
            f"{result.path.name}: {result.records:,} rows, {result.rejected} rejected, {result.skipped} of another "
            f"sequence or area: day-ahead prices for {result.quarters:,} quarters, {result.new_quarters:,} new, "
            f"{result.changed:,} changed ({result.seconds:.1f} s)"
        )
    unit = "telegrams" if result.kind == "capture" else "rows"
    known = max(result.quarters - result.new_quarters - result.completed, 0)
    completed = f"{result.completed:,} completed with new data, " if result.completed else ""
    refused = f", the history refused{by_reason(result.refused)}" if result.refused else ""
    return (
        f"{result.path.name}: {result.records:,} {unit}, {result.rejected} rejected{by_reason(result.reasons)}"
        f"{refused}: {result.new_quarters:,} new quarters, {completed}{known:,} already known "
        f"({result.seconds:.1f} s)"
    )


def _say(console: Console, result: ImportResult) -> None:
    """The rows refused (the first ones by line, the rest counted), then the summary line."""
    for problem in result.problems:
        console.print(problem, markup=False, soft_wrap=True)
    if result.rejected > len(result.problems) and result.kind != "capture":
        more = result.rejected - len(result.problems)
        console.print(f"{result.path.name}: {more:,} more rows refused, not listed", markup=False, soft_wrap=True)
    for line in result.conflict_lines:
        console.print(f"{result.path.name}: {line}", markup=False, soft_wrap=True)
    if result.conflicts:
        outcome = "replaced by the file's (--replace)" if result.replace else "kept (--replace takes the file's)"
        values = "value" if result.conflicts == 1 else "values"
        console.print(f"{result.path.name}: {result.conflicts:,} {values} already known otherwise, {outcome}",
                      markup=False, soft_wrap=True)  # fmt: skip
    console.print(_summary(result), markup=False, soft_wrap=True)


def run_import(files: list[Path], db: Path, *, replace: bool = False) -> int:
    connection = open_database(db)
    console = Console(stderr=True)
    status = 0
    try:
        for path in files:
            if not path.is_file():
                console.print(f"{path}: cannot read: no such file", markup=False)
                status = 1
                continue
            if console.is_terminal:
                with Progress(
                    TextColumn(f"{path.name}"),
                    BarColumn(),
                    TaskProgressColumn(),
                    TextColumn("{task.fields[rejected]} rejected"),
                    TimeRemainingColumn(),
                    console=console,
                    transient=True,
                ) as bar:
                    task = bar.add_task(path.name, total=None, rejected=0)

                    def progress(done: int, total: int, rejected: int) -> None:
                        bar.update(task, completed=done, total=total, rejected=rejected)  # noqa: B023

                    result = import_file(connection, path, progress, replace=replace)
            else:
                result = import_file(connection, path, replace=replace)
            _say(console, result)
            if result.kind == "unknown" or result.nothing_good:
                status = 1
    finally:
        connection.close()
    sys.stderr.flush()
    return status
