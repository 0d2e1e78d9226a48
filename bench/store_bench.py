"""Store speed: `meter-tui import` of a simulated capture end to end, and the report over two years of quarters.

Run: `make bench-store` (or `.venv/bin/python bench/store_bench.py --days 7`). Prints telegrams per second of the
import (the target is 10,000/s on one core: a week of one-second telegrams in about a minute), its ratio to
dsmr_parser's parse alone of the same telegrams (target 10 x), and the time of a two-year report (under 100 ms).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
import timeit
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
    rate = seconds / elapsed
    print(f"meter-tui import: {seconds:,} telegrams in {elapsed:.1f} s = {rate:,.0f} telegrams/s end to end")
    print(f"  target 10,000 telegrams/s: {rate / 10_000:.2f} x the target")
    theirs = dsmr_parser_rate(capture)
    if theirs is not None:
        print(
            f"dsmr_parser parsing alone (no framing, no storing) the first telegrams of the same capture: "
            f"{theirs:,.0f} telegrams/s"
        )
        print(f"  import end to end / dsmr_parser's parse alone: {rate / theirs:.1f} x (target 10 x)")


def dsmr_parser_rate(capture: Path, count: int = 3000) -> float | None:
    """dsmr_parser's parse (CRC checked) of the capture's first `count` telegrams, already split: the best of 5."""
    try:
        from dsmr_parser import telegram_specifications  # noqa: PLC0415 - development-only comparison
        from dsmr_parser.parsers import TelegramParser  # noqa: PLC0415
    except ImportError:
        print("dsmr_parser is not installed (pip install -e '.[dev]'): no comparison", file=sys.stderr)
        return None
    with capture.open("rb") as stream:
        head = stream.read(count * 1200).decode("latin-1")
    texts = ["/" + part for part in head.split("/")[1 : count + 1]]
    parser = TelegramParser(telegram_specifications.BELGIUM_FLUVIUS, apply_checksum_validation=True)
    best = min(timeit.repeat(lambda: [parser.parse(text) for text in texts], number=1, repeat=5))
    return len(texts) / best


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
