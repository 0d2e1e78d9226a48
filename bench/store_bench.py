"""Store speed: `meter-tui import` of a simulated capture end to end, and the report over two years of quarters.

Run: `make bench-store` (or `.venv/bin/python bench/store_bench.py --days 7`). Prints telegrams per second of the
import (the target is 10,000/s on one core: a week of one-second telegrams in about a minute) and the time of a
two-year report (target: under 100 ms).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from meter_tui.energy.rates import EXAMPLE_RATES, parse_rates
from meter_tui.services.report import build_report
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.database import open_database, transaction
from meter_tui.store.localtime import day_key


def bench_import(days: float, folder: Path) -> None:
    capture = folder / "week.p1"
    started = time.perf_counter()
    meter = SimulatedMeter(1, datetime(2026, 3, 23, tzinfo=BRUSSELS))
    seconds = round(days * 86400)
    with capture.open("wb") as out:
        for _ in range(seconds):
            out.write(meter.step())
    size = capture.stat().st_size / 1e6
    print(f"simulated {seconds:,} telegrams ({size:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    db = folder / "import.sqlite"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "meter_tui", "import", str(capture), "--db", str(db)], check=True)
    elapsed = time.perf_counter() - started
    print(
        f"meter-tui import: {seconds:,} telegrams in {elapsed:.1f} s = {seconds / elapsed:,.0f} telegrams/s end to end"
    )
    print(f"  target 10,000 telegrams/s: {seconds / elapsed / 10_000:.2f} x the target")


def bench_report(folder: Path) -> None:
    connection = open_database(folder / "two-years.sqlite")
    rng = random.Random(1)
    start = int(datetime(2024, 11, 1, tzinfo=BRUSSELS).timestamp())
    rows = []
    for index in range(2 * 365 * 96):
        moment = start + index * 900
        day_wh, night_wh = rng.randrange(0, 400), rng.randrange(0, 300)
        rows.append((moment, day_key(moment), day_wh, night_wh, rng.randrange(0, 200), 0, rng.randrange(0, 80),
                     rng.randrange(0, 20), (day_wh + night_wh) * 4))  # fmt: skip

    def fill(db):
        db.executemany(
            "INSERT INTO quarter (start, day, import_day_wh, import_night_wh, export_day_wh, export_night_wh,"
            " gas_l, water_l, average_w) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    transaction(connection, fill)
    book = parse_rates(EXAMPLE_RATES)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        report = build_report(connection, book, date(2024, 11, 1), date(2026, 10, 31))
        timings.append(time.perf_counter() - started)
    print(f"report over two years ({len(rows):,} quarters, {len(report.days)} days, {len(report.months)} months):"
          f" best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms (target under 100 ms)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0, help="days of one-second telegrams to import (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_report(Path(folder))
        bench_import(args.days, Path(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
