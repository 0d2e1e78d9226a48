"""Contract comparison speed: `meter-tui compare` of a fixed and a dynamic contract over two years of simulated
history (70,000 quarters) and two years of hourly day-ahead prices, each quarter priced at its own price. Target:
under 1 s.

Prints the in-process time of the comparison (best and worst of 5) and the wall time of the whole command, Python's
start included. Figures, never a pass or fail. Run: `.venv/bin/python bench/compare_bench.py`.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from meter_tui.energy.rates import EXAMPLE_RATES, parse_rates
from meter_tui.services.compare import compare
from meter_tui.sources.simulator import BRUSSELS
from meter_tui.store.database import open_database, transaction
from meter_tui.store.localtime import day_key
from meter_tui.store.prices import read_prices, store_prices

FIRST, LAST = date(2024, 11, 1), date(2026, 10, 31)
DYNAMIC = {**EXAMPLE_RATES, "Electricity": {"+": {"Spot": {"Factor": 1.06, "Add": 0.16}},
                                            "-": {"Spot": {"Factor": 0.9, "Add": -0.01}}}}  # fmt: skip


def history(folder: Path) -> Path:
    """Two years of a household's quarters (random draws of the simulated sizes, as bench/store_bench.py) and
    two years of hourly day-ahead prices, imported through the plain time,eur_per_mwh CSV."""
    db = folder / "two-years.sqlite"
    connection = open_database(db)
    rng = random.Random(1)
    start = int(datetime.combine(FIRST, datetime.min.time(), tzinfo=BRUSSELS).timestamp())
    quarters = int((LAST - FIRST).days + 1) * 96
    rows = []
    for index in range(quarters):
        moment = start + index * 900
        day_wh, night_wh = rng.randrange(0, 400), rng.randrange(0, 300)
        rows.append((moment, day_key(moment), day_wh, night_wh, rng.randrange(0, 200), 0, rng.randrange(0, 80),
                     rng.randrange(0, 20), (day_wh + night_wh) * 4))  # fmt: skip
    transaction(connection, lambda db: db.executemany(
        "INSERT INTO quarter (start, day, import_day_wh, import_night_wh, export_day_wh, export_night_wh,"
        " gas_l, water_l, average_w) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows))  # fmt: skip
    prices = folder / "prices.csv"
    first = datetime.fromtimestamp(start, UTC)
    lines = ["time,eur_per_mwh"]
    for index in range(quarters // 4):
        price = 80 + 60 * math.sin(index / 24 * 2 * math.pi) - (index % 97 == 0) * 150  # some hours below zero
        lines.append(f"{(first + timedelta(hours=index)).isoformat()},{price:.2f}")
    prices.write_text("\n".join(lines) + "\n")
    stored, _ = read_prices(prices)
    store_prices(connection, stored)
    connection.close()
    return db


def main() -> int:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        db = history(folder)
        print(f"two years of simulated history and hourly prices built in {time.perf_counter() - started:.1f} s")
        connection = open_database(db, readonly=True)
        quarters = connection.execute("SELECT count(*) FROM quarter").fetchone()[0]
        contracts = [("fixed", parse_rates(EXAMPLE_RATES)), ("dynamic", parse_rates(DYNAMIC))]
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            result = compare(connection, contracts, FIRST, LAST)
            timings.append(time.perf_counter() - started)
        connection.close()
        fixed, dynamic = result.totals
        print(
            f"compare 2 contracts over two years ({quarters:,} quarters, {len(result.months)} months; "
            f"{fixed.total:.2f} vs {dynamic.total:.2f} EUR, {dynamic.unpriced_quarters} unpriced): "
            f"best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms in process (target under 1 s)"
        )
        (folder / "fixed.json").write_text(json.dumps(EXAMPLE_RATES))
        (folder / "dynamic.json").write_text(json.dumps(DYNAMIC))
        files = [str(folder / "fixed.json"), str(folder / "dynamic.json")]
        command = [sys.executable, "-m", "meter_tui", "compare", *files, "--db", str(db), "--json"]
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
        print(
            f"`meter-tui compare` as a command, Python's start included: best {min(walls):.2f} s, "
            f"worst {max(walls):.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
