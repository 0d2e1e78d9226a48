"""A first demo run with a history to look at: the simulated meter's last days, ingested as if it had been recorded.

Without it, someone trying the app sees a live screen and then empty history and peak screens. The days are
simulated one telegram a minute (the ingest keeps quarters from register differences, so nothing is lost by that)
and go through the same parser and ingest as a real meter's telegrams. The meter that made them is handed to the
live demo, so the registers go on from where the history ends instead of jumping back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from meter_tui.p1 import parse_telegram
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor

DEMO_DAYS = 3
EVERY_SECONDS = 60


def prepare_demo_history(
    db: Path,
    seed: int,
    *,
    days: int = DEMO_DAYS,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> SimulatedMeter | None:
    """Fill a new demo database with the `days` whole days before today and today so far; return the meter, at
    `now`, for the live demo to go on with. None when `db` exists: its history stays as it is.

    The file is built beside `db` and linked into place, which fails if another process (a second browser tab)
    made one meanwhile: that one wins, this one is thrown away, and no process ever sees half a history.
    """
    if db.exists():
        return None
    say(f"a first demo run: simulating {days} days of history into {db}")
    now = now or datetime.now(BRUSSELS)
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    meter = SimulatedMeter(seed, start)
    db.parent.mkdir(parents=True, exist_ok=True)
    building = db.with_name(f".{db.name}.{os.getpid()}")
    connection = open_database(building)
    try:
        ingest = Ingestor(connection, keep_raw=False)
        for raw in meter.run(int((now - start).total_seconds()), every=EVERY_SECONDS):
            ingest.add(parse_telegram(raw))
        ingest.flush()
    finally:
        connection.close()
    try:
        os.link(building, db)
    except FileExistsError:
        return None
    finally:
        for leftover in (building, *building.parent.glob(f"{building.name}-*")):
            leftover.unlink(missing_ok=True)
    return meter
