"""One recorder per history file: a lock beside the history, whatever meter each process reads.

The meter's own lock keeps two processes from reading one meter; this one keeps two processes from recording into
one history even when they read different sources (two spellings that could not be told apart, a demo and a real
meter given the same --db): two recorders would double the energy or interleave two meters' registers. The lock is
a flock (the kernel drops it when its process dies, even by SIGKILL) on `<history>.lock`, which holds the pid of
its holder so that a refusal can name it. `restore` takes it too, so it never swaps the file under a recorder.
"""

from __future__ import annotations

from pathlib import Path

from meter_tui.config import PidLock


def writer_lock(db: Path) -> PidLock:
    return PidLock(db.with_name(f"{db.name}.lock"))


def recorded_by(db: Path) -> int | None:
    """The pid of the process recording `db` now (0: one does, its pid not written yet); None when none does."""
    return writer_lock(db).holder()


def recorder_words(db: Path, pid: int | None) -> str:
    who = f"pid {pid}" if pid else "another process"
    return f"the history {db} is recorded by {who}"
