"""Memory and speed of `meter-tui import` of a big Fluvius export: the file streams through, so a CSV of 200 MB
(about eleven years of quarter-hours, four registers each) imports in under 200 MB of memory (805 MB before).

Run: `make bench-import` (or `.venv/bin/python bench/import_bench.py --mb 50`). Writes the CSV in a temporary
folder, imports it with a real `meter-tui import` child process and prints the child's peak resident memory (its
ru_maxrss, from wait4) and the rows per second, process start included.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from meter_tui.p1.values import BRUSSELS

_HEADER = "From (date);From (time);Until (date);Until (time);EAN code;Meter;Meter type;Register;Volume;Unit;" \
    "Validation status;Description\n"  # fmt: skip
_REGISTERS = ("Offtake Day", "Offtake Night", "Injection Day", "Injection Night")


def write_export(path: Path, megabytes: float, seed: int = 1) -> int:
    """A Fluvius English quarter-hour export of about `megabytes`, from 1 January 2014 on; returns its rows."""
    chance = random.Random(seed)
    start = int(datetime(2014, 1, 1, tzinfo=BRUSSELS).timestamp())
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("\ufeff" + _HEADER)
        while out.tell() < megabytes * 1e6:
            lines = []
            for quarter in range(start, start + 96 * 900, 900):
                begin = datetime.fromtimestamp(quarter, UTC).astimezone(BRUSSELS)
                end = datetime.fromtimestamp(quarter + 900, UTC).astimezone(BRUSSELS)
                when = f"{begin:%d/%m/%Y;%H:%M:%S};{end:%d/%m/%Y;%H:%M:%S}"
                for register in _REGISTERS:
                    volume = f"{chance.random() * 0.8:.3f}".replace(".", ",")
                    lines.append(f'{when};="541448800000000000";1SAG1100000000;Digital meter;{register};{volume};'
                                 "kWh;Read;\n")  # fmt: skip
            out.write("".join(lines))
            rows += len(lines)
            start += 96 * 900
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the generated CSV in MB (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meter-tui-import-bench-") as folder:
        csv_path = Path(folder) / "fluvius.csv"
        started = time.perf_counter()
        rows = write_export(csv_path, args.mb)
        size = csv_path.stat().st_size / 1e6
        print(f"wrote a Fluvius export of {size:,.0f} MB, {rows:,} rows, in {time.perf_counter() - started:.1f} s")
        env = {**os.environ, "METER_TUI_DATA_DIR": folder, "METER_TUI_CONFIG": str(Path(folder) / "none.toml")}
        command = [sys.executable, "-m", "meter_tui", "import", str(csv_path), "--db", str(Path(folder) / "h.sqlite")]
        started = time.perf_counter()
        log = Path(folder) / "import.log"
        with log.open("w") as said_to:
            child = subprocess.Popen(command, env=env, stderr=said_to)
            _, status, usage = os.wait4(child.pid, 0)  # the child's own peak, not this process's
        elapsed = time.perf_counter() - started
        said = log.read_text()
        if status != 0:
            sys.exit(f"meter-tui import failed ({status}): {said}")
        print(said.strip().splitlines()[-1])
        peak = usage.ru_maxrss / 1024  # kilobytes on Linux
        print(
            f"meter-tui import: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s, process start included"
        )
        print(f"  peak resident memory of the import: {peak:,.0f} MB (target under 200 MB; 805 MB before it streamed)")


if __name__ == "__main__":
    main()
