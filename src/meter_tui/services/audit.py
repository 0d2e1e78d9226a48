"""`meter-tui audit FLUVIUS.csv`: three counts of the same days side by side, so that a household can show where
they disagree before it disputes a bill: the meter's own registers (the difference of its readings at the first
telegram of a day and of the next day, kept by the ingest for good), the history's quarters, and Fluvius's export.
The quarters are also held against the export quarter by quarter.

A quarter differs when its offtake or injection differs by more than 0.001 kWh (both sides are whole Wh), or when
one side has it and the other does not. When the quarters line up better shifted by whole quarters, the meter's
clock and Fluvius's differ: that shift is said, as the clock offset, rather than hundreds of differences.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from meter_tui.store.fluvius import Quarters, read_export, store_export
from meter_tui.store.localtime import date_of, day_key, local_time, next_day
from meter_tui.store.queries import DayReading, day_readings, electricity_quarters

TOLERANCE_WH = 1  # 0.001 kWh: the resolution of both the export and the store
MAX_SHIFT = 8  # quarters either way tried for a clock offset (two hours)
DIFFERENCES_KEPT = 50

Pair = tuple[int, int]  # offtake Wh, injection Wh of one quarter


# The pairs of counts compared, named as in --json: the meter's registers, the history's quarters, Fluvius's export.
PAIRS = (("registers", "history"), ("registers", "fluvius"), ("fluvius", "history"))


def disagreeing(registers: Pair | None, history: Pair, fluvius: Pair) -> tuple[str, ...]:
    """The pairs whose offtake or injection differ by more than 0.001 kWh (registers only where known)."""
    sides = {"registers": registers, "history": history, "fluvius": fluvius}
    return tuple(f"{a}/{b}" for a, b in PAIRS if sides[a] is not None and not _same(sides[a], sides[b]))


@dataclass(frozen=True, slots=True)
class AuditDay:
    day: date
    fluvius: Pair  # the day's offtake and injection in Wh, as the export says
    history: Pair  # as the history's quarters say
    fluvius_quarters: int
    history_quarters: int
    differing: int  # quarters that differ (or that one side lacks)
    registers: Pair | None = None  # as the meter's registers say (None without a reading at both ends)
    readings: tuple[int, int] | None = None  # the times of the two readings (a late one spans other hours)

    @property
    def disagree(self) -> tuple[str, ...]:
        return disagreeing(self.registers, self.history, self.fluvius)


@dataclass(frozen=True, slots=True)
class AuditMonth:
    month: date
    fluvius_peak_kw: float | None
    history_peak_kw: float | None
    fluvius: Pair = (0, 0)  # the sums of the month's audited days
    history: Pair = (0, 0)
    registers: Pair | None = None  # only when every audited day of the month has its register difference
    days: int = 0
    register_days: int = 0
    meter_peak_kw: float | None = None  # the meter's own 1-0:1.6.0 / 0-0:98.1.0 for the month (all of it)

    @property
    def disagree(self) -> tuple[str, ...]:
        return disagreeing(self.registers, self.history, self.fluvius)


@dataclass(slots=True)
class Audit:
    days: list[AuditDay] = field(default_factory=list)
    months: list[AuditMonth] = field(default_factory=list)
    differences: list[tuple[int, Pair | None, Pair | None]] = field(default_factory=list)  # start, Fluvius, history
    difference_count: int = 0
    offset_quarters: int = 0  # Fluvius's quarters match the history's this many quarters later (0: aligned)
    filled: int = 0  # quarters stored from the export where the history had none (--fill)
    problems: list[str] = field(default_factory=list)


def _pairs(quarters: Quarters) -> dict[int, Pair]:
    """The export's electricity quarters (a gas-only hour says nothing of electricity)."""
    return {
        start: (v.get("import_day_wh", 0) + v.get("import_night_wh", 0),
                v.get("export_day_wh", 0) + v.get("export_night_wh", 0))
        for start, v in quarters.items() if v.keys() & {"import_day_wh", "import_night_wh", "export_day_wh",
                                                       "export_night_wh"}
    }  # fmt: skip


def _same(a: Pair | None, b: Pair | None) -> bool:
    return a is not None and b is not None and all(abs(x - y) <= TOLERANCE_WH for x, y in zip(a, b, strict=True))


def clock_offset(fluvius: dict[int, Pair], history: dict[int, Pair]) -> int:
    """The shift, in quarters, that lines the most quarters up (0 on a tie: no offset is claimed lightly)."""

    def matches(shift: int) -> int:
        return sum(1 for start, pair in fluvius.items() if pair[0] and _same(pair, history.get(start + shift * 900)))

    scores = {shift: matches(shift) for shift in range(-MAX_SHIFT, MAX_SHIFT + 1)}
    best = max(scores, key=lambda shift: (scores[shift], shift == 0))
    return best if scores[best] > scores[0] else 0


def audit(connection: sqlite3.Connection, path: Path, *, fill: bool = False) -> Audit:
    """The export against the history over the export's days: per day, per month's peak, each differing quarter,
    the clock offset; with `fill`, the export's quarters stored where the history has none (never over data)."""
    quarters, parsed = read_export(path)
    result = Audit(problems=parsed.problems)
    fluvius = _pairs(quarters)
    if not fluvius:
        return result
    reach = MAX_SHIFT * 900
    around = electricity_quarters(connection, min(fluvius) - reach, max(fluvius) + reach)
    result.offset_quarters = clock_offset(fluvius, around)
    shift = result.offset_quarters * 900
    aligned = {start + shift: pair for start, pair in fluvius.items()}
    first, last = min(aligned), max(aligned)
    _compare(result, aligned, {start: pair for start, pair in around.items() if first <= start <= last})
    _with_registers(result, day_readings(connection, result.days[0].day, next_day(result.days[-1].day)))
    meter = dict(connection.execute("SELECT month, kw FROM month_peak WHERE source = 'meter'").fetchall())
    result.months = [replace(m, meter_peak_kw=meter.get(f"{m.month:%Y-%m}")) for m in result.months]
    if fill:  # at Fluvius's own times: the export is what the bill is made of
        absent = {start: values for start, values in quarters.items() if start in fluvius and start not in around}
        result.filled = len(absent)
        store_export(connection, [absent])
    return result


def _compare(result: Audit, fluvius: dict[int, Pair], history: dict[int, Pair]) -> None:
    """Per quarter of either side, per day and per month: totals, peaks and the quarters that differ."""
    days: dict[int, list[int]] = {}  # day key: Fluvius Wh in/out, history Wh in/out, quarters each, differing
    peaks: dict[date, list[int]] = {}
    for start in sorted(fluvius.keys() | history.keys()):
        ours, theirs = history.get(start), fluvius.get(start)
        tally = days.setdefault(day_key(start), [0] * 7)
        month = date_of(day_key(start)).replace(day=1)
        peak = peaks.setdefault(month, [-1, -1])
        if theirs is not None:
            tally[0], tally[1], tally[4] = tally[0] + theirs[0], tally[1] + theirs[1], tally[4] + 1
            peak[0] = max(peak[0], theirs[0] * 4)
        if ours is not None:
            tally[2], tally[3], tally[5] = tally[2] + ours[0], tally[3] + ours[1], tally[5] + 1
            peak[1] = max(peak[1], ours[0] * 4)
        if not _same(theirs, ours):
            tally[6] += 1
            result.difference_count += 1
            if len(result.differences) < DIFFERENCES_KEPT:
                result.differences.append((start, theirs, ours))
    result.days = [AuditDay(date_of(key), (t[0], t[1]), (t[2], t[3]), t[4], t[5], t[6]) for key, t in days.items()]
    result.months = [AuditMonth(month, p[0] / 1000 if p[0] >= 0 else None, p[1] / 1000 if p[1] >= 0 else None)
                     for month, p in peaks.items()]  # fmt: skip


def register_difference(this: DayReading | None, after: DayReading | None) -> Pair | None:
    """A day's offtake and injection by the meter's own registers: the next day's first reading less this day's.
    None without both, across a change of meter, or where a register is unknown or went down (a reset)."""
    if this is None or after is None or this.equipment_id != after.equipment_id:
        return None
    pairs = zip(this.registers_wh, after.registers_wh, strict=True)
    deltas = [b - a for a, b in pairs if a is not None and b is not None]
    if len(deltas) != len(this.registers_wh) or min(deltas) < 0:
        return None
    return (deltas[0] + deltas[1], deltas[2] + deltas[3])


def _with_registers(result: Audit, readings: dict[date, DayReading]) -> None:
    """Each day's register difference beside its quarters, and the months' sums of the three counts."""
    days = []
    for d in result.days:
        this, after = readings.get(d.day), readings.get(next_day(d.day))
        registers = register_difference(this, after)
        span = (this.time, after.time) if registers is not None and this and after else None
        days.append(replace(d, registers=registers, readings=span))
    result.days = days
    by_month: dict[date, list[AuditDay]] = {}
    for d in result.days:
        by_month.setdefault(d.day.replace(day=1), []).append(d)
    months = []
    for m in result.months:
        days = by_month.get(m.month, [])
        known = [d.registers for d in days if d.registers is not None]
        months.append(replace(m, fluvius=_sum(d.fluvius for d in days), history=_sum(d.history for d in days),
                              registers=_sum(known) if len(known) == len(days) else None, days=len(days),
                              register_days=len(known)))  # fmt: skip
    result.months = months


def _sum(pairs: Iterable[Pair]) -> Pair:
    total = [0, 0]
    for offtake, injection in pairs:
        total[0] += offtake
        total[1] += injection
    return (total[0], total[1])


def _kwh(pair: Pair | None) -> list[float] | None:
    return [pair[0] / 1000, pair[1] / 1000] if pair is not None else None


def _counts(registers: Pair | None, history: Pair, fluvius: Pair) -> dict[str, float | None]:
    """The three counts in kWh under their --json names (the registers' null where unknown)."""
    counts: dict[str, float | None] = {}
    for name, pair in (("registers", registers), ("history", history), ("fluvius", fluvius)):
        counts[f"{name}_offtake_kwh"] = pair[0] / 1000 if pair is not None else None
        counts[f"{name}_injection_kwh"] = pair[1] / 1000 if pair is not None else None
    return counts


def audit_json(result: Audit) -> dict[str, Any]:
    return {
        "clock_offset_quarters": result.offset_quarters,
        "days": [
            {"date": d.day.isoformat(), **_counts(d.registers, d.history, d.fluvius),
             "fluvius_quarters": d.fluvius_quarters, "history_quarters": d.history_quarters,
             "differing_quarters": d.differing, "disagree": list(d.disagree),
             "registers_read": [local_time(t).isoformat() for t in d.readings] if d.readings else None}
            for d in result.days
        ],
        "months": [
            {"month": m.month.strftime("%Y-%m"), **_counts(m.registers, m.history, m.fluvius), "days": m.days,
             "register_days": m.register_days, "disagree": list(m.disagree), "meter_peak_kw": m.meter_peak_kw,
             "fluvius_peak_kw": m.fluvius_peak_kw, "history_peak_kw": m.history_peak_kw}
            for m in result.months
        ],
        "differences": [
            {"start": local_time(start).isoformat(), "fluvius_kwh": _kwh(theirs), "history_kwh": _kwh(ours)}
            for start, theirs, ours in result.differences
        ],
        "difference_count": result.difference_count,
        "filled_quarters": result.filled,
        "problems": result.problems,
    }  # fmt: skip
