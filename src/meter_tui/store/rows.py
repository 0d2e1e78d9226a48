"""What the CSV readers share: rows read as a stream, and the refused rows counted with the first few kept by line.

A file of years streams through without being read whole, and a file of nothing but bad rows still makes a short
message: the count, and the first `PROBLEMS_KEPT` refusals with their line numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NOT_UTF8 = "\ufffd"  # what a byte that is not UTF-8 is read as
PROBLEMS_KEPT = 50  # refused rows listed by line; the rest are counted


@dataclass(slots=True)
class RefusedRows:
    """The rows of a file that were refused: how many, and the first PROBLEMS_KEPT of them by line."""

    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def refuse(self, problem: str) -> None:
        """Count a refused row; keep its line for the user while there are few (a file of bad rows stays small)."""
        self.rejected += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)


def csv_rows(path: Path, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every row, as a stream. A byte that is not UTF-8 spoils its row only (read as
    NOT_UTF8), which its reader then refuses by its line."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        yield from enumerate(csv.reader(handle, delimiter=delimiter), start=1)
