"""The terminal side of `meter-tui audit FLUVIUS.csv`: the export against the history, in lines that fit a
terminal, or as JSON."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

from meter_tui.services.audit import Audit, AuditDay, Pair, audit, audit_json
from meter_tui.store.database import StoreError, open_database
from meter_tui.store.localtime import local_time

LATE = time(0, 1)  # a day's first reading after this: its telegrams did not start at midnight
SHOWN = 10  # differing quarters listed in the text; --json lists more, and both count them all


def run_audit(db: Path, export: Path, *, as_json: bool, fill: bool) -> int:
    if not db.exists():
        raise StoreError(f"{db}: no history yet (record or import first)")
    if not export.is_file():
        raise StoreError(f"{export}: cannot read: no such file")
    connection = open_database(db, readonly=not fill)
    try:
        result = audit(connection, export, fill=fill)
    except (ValueError, OSError, UnicodeError) as error:  # not an export, unreadable: one line, no traceback
        raise StoreError(f"{export}: cannot audit: {error}") from None
    finally:
        connection.close()
    if not result.days:
        raise StoreError(f"{export}: no electricity quarter to audit (a Fluvius quarter-hour export is needed)")
    if as_json:
        print(json.dumps(audit_json(result), indent=2))
    else:
        print("\n".join(_lines(export, result)))
    return 0


NAMES = {"registers": "P1", "history": "quarters", "fluvius": "Fluvius"}


def _kwh(pair: Pair | None) -> str:
    return f"{pair[0] / 1000:.3f}/{pair[1] / 1000:.3f} kWh" if pair is not None else "nothing"


def _flags(disagree: tuple[str, ...]) -> str:
    """Which counts disagree, in the words of the text ('P1 vs quarters'), or nothing when all agree."""
    pairs = [" vs ".join(NAMES[side] for side in pair.split("/")) for pair in disagree]
    return f"  DIFFER: {', '.join(pairs)}" if pairs else ""


def _three(registers: Pair | None, history: Pair, fluvius: Pair | None) -> str:
    """The three counts; a day Fluvius has no quarter of says 'nothing' rather than 0.000."""
    meter = _kwh(registers) if registers is not None else "no readings"
    return f"P1 {meter}, quarters {_kwh(history)}, Fluvius {_kwh(fluvius)}"


def _late(day: AuditDay) -> str:
    """The readings' times when one is not in the first minute of its day: the P1 count then spans other hours
    (no telegram at midnight), which explains a difference with the quarters."""
    if day.readings is None or all(local_time(t).time() < LATE for t in day.readings):
        return ""
    first, after = (local_time(t) for t in day.readings)
    return f" (P1 read {first:%Y-%m-%d %H:%M} to {after:%Y-%m-%d %H:%M})"


def _lines(export: Path, result: Audit) -> list[str]:
    """Offset, each month's three counts and peaks, the days that differ, the first quarters that do, the count."""
    lines = [*result.problems, f"{export.name}: the meter's registers (P1), the history's quarters and Fluvius, "
             "offtake/injection:"]  # fmt: skip
    offset = result.offset_quarters
    lines.append("clock: the quarters line up" if offset == 0 else
                 f"clock: Fluvius's quarters match the history's {abs(offset)} quarter(s) "
                 f"{'later' if offset > 0 else 'earlier'}: the meter's clock and Fluvius's differ by "
                 f"{abs(offset) * 15} minutes; the quarters are compared so shifted")  # fmt: skip
    lines.extend(_month_lines(result))
    flagged = [d for d in result.days if d.differing or d.disagree]
    for d in flagged:
        quarters = f" ({d.differing} quarter{'s differ' if d.differing > 1 else ' differs'})" if d.differing else ""
        fluvius = d.fluvius if d.fluvius_quarters else None
        lines.append(f"{d.day}: {_three(d.registers, d.history, fluvius)}{_late(d)}{_flags(d.disagree)}{quarters}")
    agreeing = len(result.days) - len(flagged)
    known = sum(1 for d in result.days if d.registers is not None)
    lines.append(f"{agreeing} of {len(result.days)} days agree within 0.001 kWh; the meter's registers known for "
                 f"{known} of them (its first telegram of the day and of the next one recorded)")  # fmt: skip
    for start, theirs, ours in result.differences[:SHOWN]:
        lines.append(f"  {local_time(start):%Y-%m-%d %H:%M%z}: Fluvius {_kwh(theirs)}, history {_kwh(ours)}")
    if result.difference_count > SHOWN:
        lines.append(f"  ... and {result.difference_count - SHOWN:,} more (--json lists the first 50)")
    lines.append(f"{result.difference_count:,} quarters differ by more than 0.001 kWh" if result.difference_count
                 else "every quarter agrees within 0.001 kWh")  # fmt: skip
    if result.filled:
        lines.append(f"filled {result.filled:,} quarters from the export where the history had none")
    return lines


def _month_lines(result: Audit) -> list[str]:
    lines = []
    for m in result.months:
        peaks = [f"{kw:.3f} kW" if kw is not None else "no data"
                 for kw in (m.meter_peak_kw, m.fluvius_peak_kw, m.history_peak_kw)]  # fmt: skip
        partial = f" (P1 readings for {m.register_days} of {m.days} days)" if m.registers is None else ""
        lines.append(f"{m.month:%Y-%m}: {_three(m.registers, m.history, m.fluvius)}{partial}{_flags(m.disagree)}; "
                     f"month peak P1 {peaks[0]}, Fluvius {peaks[1]}, quarters {peaks[2]}")  # fmt: skip
    return lines
