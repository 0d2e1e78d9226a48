"""The demo meter's history: one simulated household whose every screen agrees, however often it is restarted.

A first demo run simulates the household from the first day of the previous month (one telegram a quarter for the
older days, one a minute for the last `DEMO_DAYS`), so that the history, the month peaks and 0-0:98.1.0 have
something to show. Every later run resumes the meter from the history: the same registers, running quarter and
month peaks, and the time it was not running is simulated into the history too, as a real meter goes on counting
while nobody reads it. The telegrams go through the same parser and ingest as a real meter's, so the meter's
1-0:1.6.0 and the history's highest quarter are one and the same number.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from meter_tui.p1 import parse_telegram
from meter_tui.sources.simulator import BRUSSELS, ResumePoint, SimulatedMeter, demo_serial, next_month
from meter_tui.store.database import StoreError, open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.store.localtime import local_time
from meter_tui.store.queries import last_state

DEMO_DAYS = 3
EVERY_SECONDS = 60
OLDER_EVERY_SECONDS = 900


def demo_meter(
    db: Path,
    seed: int,
    *,
    prehistory: bool = True,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> SimulatedMeter | None:
    """The demo meter at `now`, its history in `db` brought up to `now`. The caller must own the demo meter (only
    the owner writes the history). None when there is nothing to go on from and no `prehistory` is wanted: the
    live demo then starts a new meter."""
    now = now or datetime.now(BRUSSELS)
    if db.exists():
        connection = open_database(db)
        try:
            point = resume_point(connection, seed, db)
            if point is None:
                return None
            meter = SimulatedMeter(seed, resume=point)
            if meter.now < now:
                _simulate_into(connection, meter, now)
            return meter
        finally:
            connection.close()
    if not prehistory:
        return None
    return _first_history(db, seed, now, say)


def resume_point(connection: sqlite3.Connection, seed: int, db: Path) -> ResumePoint | None:
    """Where the meter was at its last stored telegram: registers, gas and water as it showed them, the running
    quarter's import and the month peaks it held. A history of another seed's household is refused (StoreError):
    going on from its registers with this seed's serial would file two households as one meter swapped."""
    state = last_state(connection)
    if state is None:
        return None
    if state.equipment_id is not None and state.equipment_id != demo_serial(seed):
        raise StoreError(f"{db}: the history of another meter ({state.equipment_id}), not of the demo household of "
                         f"--seed {seed} ({demo_serial(seed)}): give another --db, or leave --db out")  # fmt: skip
    time = local_time(state.time)
    month = time.strftime("%Y-%m")
    current = [(when, kw) for m, kw, when in state.meter_peaks if m == month and when is not None]
    closed = [
        (next_month(date.fromisoformat(f"{m}-01")), when, kw)
        for m, kw, when in state.meter_peaks
        if m < month and when is not None
    ]
    return ResumePoint(
        time=time,
        registers_wh=state.registers_wh,
        gas_m3=state.gas_l / 1000,
        water_m3=state.water_l / 1000,
        quarter_wh=state.quarter_import_wh,
        month_peak=current[0] if current else None,
        history=tuple(closed[-13:]),
    )


def _simulate_into(connection: sqlite3.Connection, meter: SimulatedMeter, now: datetime) -> None:
    """What the meter counted until `now`, into the history: a telegram a quarter, a minute for the last days."""
    ingest = Ingestor(connection, keep_raw=False)
    recent = now - timedelta(days=DEMO_DAYS)
    if meter.now < recent:
        recent = recent.replace(hour=0, minute=0, second=0, microsecond=0)
        for raw in meter.run_until(recent, every=OLDER_EVERY_SECONDS):
            ingest.add(parse_telegram(raw))
    for raw in meter.run_until(now, every=EVERY_SECONDS):
        ingest.add(parse_telegram(raw))
    ingest.finish()


def _first_history(db: Path, seed: int, now: datetime, say: Callable[[str], None]) -> SimulatedMeter | None:
    """A new demo history from the first day of the previous month. It is built beside `db` and linked into place,
    which fails if another process made one meanwhile: that one wins and no process ever sees half a history."""
    first = (now.replace(day=1) - timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    say(f"a first demo run: simulating the household since {first:%d %b %Y} into {db}")
    meter = SimulatedMeter(seed, first)
    db.parent.mkdir(parents=True, exist_ok=True)
    building = db.with_name(f".{db.name}.{os.getpid()}")
    connection = open_database(building)
    try:
        _simulate_into(connection, meter, now)
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
