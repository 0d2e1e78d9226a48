"""Telegrams -> quarter-hours, month peaks and raw telegrams, with few commits.

Energy is the difference of the meter's cumulative registers between two telegrams, added to the quarter of the
later one: a gap (cable out, app down) loses nothing, its energy lands in the quarter where reading resumes and
that quarter is marked as a gap, never spread over quarters as invented data. A register that goes down (a new
meter), or jumps by more than any household can draw, starts a new segment instead of making negative or giant
usage. A telegram whose clock is not after the last one (a replay, a clock that jumps back) adds nothing.

Writes are batched: everything since the last commit goes in one transaction at each 5-minute boundary of the
meter clock (an SD card wears out at one commit a second), together with the registers it was computed from. A
crash loses at most the raw telegrams of that batch; its energy is found again from the registers at the next
telegram, and the database is never left half written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from meter_tui.energy.capacity import peak_quarter
from meter_tui.p1.telegram import MonthPeak, Peak, Telegram
from meter_tui.store.database import transaction
from meter_tui.store.localtime import day_key

FLUSH_SECONDS = 300
GAP_SECONDS = 60
MAX_HOUSEHOLD_W = 100_000  # no Belgian connection draws more: a larger jump is a meter swap, not usage


@dataclass(slots=True)
class _Quarter:
    """What the quarter gained since the last commit."""

    wh: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    gas_l: int = 0
    water_l: int = 0
    max_w: int | None = None
    gap: bool = False
    meter_average_w: int | None = None  # 1-0:1.4.0 seen in the quarter's last seconds
    closed: bool = False


@dataclass(slots=True)
class _State:
    time: int
    registers: tuple[int | None, ...]
    gas: tuple[int, int] | None  # (litres, capture time)
    water: tuple[int, int] | None
    equipment_id: str | None


@dataclass(slots=True)
class IngestStats:
    telegrams: int = 0
    skipped: int = 0
    gaps: int = 0
    segments: int = 0
    commits: int = 0
    write_errors: int = 0
    last_error: str = ""


class Ingestor:
    """Feed it parsed telegrams in meter order; call `flush()` before stopping."""

    def __init__(self, connection: sqlite3.Connection, *, raw_days: int = 7, keep_raw: bool = True) -> None:
        self.connection = connection
        self.raw_days = raw_days
        self.keep_raw = keep_raw
        self.stats = IngestStats()
        self._quarters: dict[int, _Quarter] = {}
        self._raw: list[tuple[int, bytes]] = []
        self._peaks: dict[str, tuple[float, int | None]] = {}
        self._segments: list[tuple[int, str]] = []
        self._state = self._load_state()
        self._batch = self._state.time // FLUSH_SECONDS if self._state else None
        self.on_error: Callable[[str], None] | None = None
        self._last_peak: Peak | None = None
        self._last_history: tuple[MonthPeak, ...] | None = None

    def _load_state(self) -> _State | None:
        row = self.connection.execute(
            "SELECT time, import_day_wh, import_night_wh, export_day_wh, export_night_wh,"
            " gas_l, gas_time, water_l, water_time, equipment_id FROM meter_state WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        gas = (row[5], row[6]) if row[5] is not None else None
        water = (row[7], row[8]) if row[7] is not None else None
        return _State(row[0], tuple(row[1:5]), gas, water, row[9])

    def _quarter(self, start: int) -> _Quarter:
        quarter = self._quarters.get(start)
        if quarter is None:
            quarter = self._quarters[start] = _Quarter()
        return quarter

    def add(self, telegram: Telegram) -> None:
        """Account one telegram. Telegrams without a time, or not after the last one, are counted as skipped."""
        if telegram.timestamp is None:
            self.stats.skipped += 1
            return
        now = int(telegram.timestamp.timestamp())
        state = self._state
        if state is not None and now <= state.time:
            self.stats.skipped += 1
            return
        self.stats.telegrams += 1
        start = now - now % 900
        for open_start, open_quarter in self._quarters.items():
            if open_start < start:
                open_quarter.closed = True  # before a flush, so that the flush writes its final average
        batch = now // FLUSH_SECONDS
        if self._batch is not None and batch != self._batch:
            self.flush()
        self._batch = batch
        quarter = self._quarter(start)
        registers = (
            _wh(telegram.import_day_kwh),
            _wh(telegram.import_night_kwh),
            _wh(telegram.export_day_kwh),
            _wh(telegram.export_night_kwh),
        )
        if state is not None:
            self._energy(state, registers, now, quarter, telegram)
        power = telegram.power_import_kw
        if power is not None:
            watts = round(power * 1000)
            quarter.max_w = watts if quarter.max_w is None else max(quarter.max_w, watts)
        if telegram.quarter_average_kw is not None and now - start >= 885:
            quarter.meter_average_w = round(telegram.quarter_average_kw * 1000)
        gas = self._mbus(state.gas if state else None, telegram.gas, "gas", now)
        water = self._mbus(state.water if state else None, telegram.water, "water", now)
        self._peaks_from(telegram)
        if self.keep_raw:
            self._raw.append((now, telegram.raw))
        self._state = _State(now, registers, gas, water, telegram.equipment_id)

    def _energy(
        self, state: _State, registers: tuple[int | None, ...], now: int, quarter: _Quarter, t: Telegram
    ) -> None:
        if state.equipment_id and t.equipment_id and state.equipment_id != t.equipment_id:
            self._new_segment(now, f"meter changed from {state.equipment_id} to {t.equipment_id}")
            return
        elapsed = now - state.time
        deltas = [
            (new - old) if new is not None and old is not None else 0
            for new, old in zip(registers, state.registers, strict=True)
        ]
        if any(d < 0 for d in deltas):
            self._new_segment(now, "a register went down (meter replaced or reset)")
            return
        if any(d > MAX_HOUSEHOLD_W * elapsed / 3600 + 1000 for d in deltas):
            self._new_segment(now, "a register jumped by more than a household can use")
            return
        for index, delta in enumerate(deltas):
            quarter.wh[index] += delta
        # Energy of seconds before this quarter would be put in it: a gap. Readings a quarter apart, at the ends
        # of two quarters, are not one: all that energy was used in this quarter.
        if elapsed > GAP_SECONDS and any(deltas) and state.time + 1 < now - now % 900:
            quarter.gap = True
            self.stats.gaps += 1

    def _new_segment(self, now: int, reason: str) -> None:
        self.stats.segments += 1
        self._segments.append((now, reason))

    def _mbus(self, before: tuple[int, int] | None, device: object, kind: str, now: int) -> tuple[int, int] | None:
        """Gas or water: the difference between two captures goes to the quarter the later capture closes."""
        reading = getattr(device, "reading", None)
        if reading is None or reading.time is None:
            return before
        litres = round(reading.value * 1000)
        captured = int(reading.time.timestamp())
        if before is not None and captured > before[1]:
            used = litres - before[0]
            if used > 0 and used < 100_000:
                moment = captured - 1  # a capture at 12:15:00 closes the quarter 12:00-12:15
                quarter = self._quarter(moment - moment % 900)
                if kind == "gas":
                    quarter.gas_l += used
                else:
                    quarter.water_l += used
                if captured - before[1] > 3600:
                    quarter.gap = True
            elif used < 0:
                self._new_segment(now, f"the {kind} meter went down")
        if before is None or captured >= before[1]:
            return (litres, captured)
        return before

    def _peaks_from(self, telegram: Telegram) -> None:
        """The meter's month peaks. The parser hands out the same objects while they do not change, so an
        identity check skips the work for all but the telegrams that bring news."""
        peak = telegram.month_peak
        if peak is not None and peak is not self._last_peak and peak.time is not None and peak.kw is not None:
            assert telegram.timestamp is not None  # add() skips telegrams without a time
            quarter = peak_quarter(peak.time, telegram.timestamp, peak.kw)
            self._keep_peak(f"{quarter:%Y-%m}", peak.kw, int(quarter.timestamp()))
        self._last_peak = peak
        history = telegram.peak_history
        if history is not None and history is not self._last_history:
            for entry in history:
                if entry.kw is not None:
                    when = int(entry.time.timestamp()) if entry.time is not None else None
                    self._keep_peak(entry.month.strftime("%Y-%m"), entry.kw, when)
            self._last_history = history

    def _keep_peak(self, month: str, kw: float, when: int | None) -> None:
        """A month's peak only rises: after a meter swap the new meter's lower 1-0:1.6.0 is not the month's."""
        known = self._peaks.get(month)
        if known is None or kw >= known[0]:
            self._peaks[month] = (kw, when)

    def pending(self) -> dict[int, tuple[int, ...]]:
        """What the open batch holds per quarter start, not yet committed: (4 registers in Wh, gas l, water l)."""
        return {start: (*q.wh, q.gas_l, q.water_l) for start, q in self._quarters.items()}

    def flush(self) -> bool:
        """Commit everything gathered; on a write error (disk full, read-only) keep it for the next try."""
        if self._state is None:
            return True
        try:
            transaction(self.connection, self._write)
        except sqlite3.Error as error:
            self.stats.write_errors += 1
            self.stats.last_error = f"cannot write the history: {error}"
            if self.on_error is not None:
                self.on_error(self.stats.last_error)
            return False
        self.stats.commits += 1
        self.stats.last_error = ""
        # Open quarters start a new batch: what they gained is written; what the meter said of them is kept.
        self._quarters = {
            start: _Quarter(meter_average_w=q.meter_average_w) for start, q in self._quarters.items() if not q.closed
        }
        self._raw.clear()
        self._peaks.clear()
        self._segments.clear()
        return True

    def _write(self, connection: sqlite3.Connection) -> None:
        rows = [
            (start, day_key(start), *q.wh, q.gas_l, q.water_l, q.max_w, int(q.gap))
            for start, q in self._quarters.items()
        ]
        connection.executemany(
            "INSERT INTO quarter (start, day, import_day_wh, import_night_wh, export_day_wh, export_night_wh,"
            " gas_l, water_l, max_w, gap) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(start) DO UPDATE SET"
            " import_day_wh = import_day_wh + excluded.import_day_wh,"
            " import_night_wh = import_night_wh + excluded.import_night_wh,"
            " export_day_wh = export_day_wh + excluded.export_day_wh,"
            " export_night_wh = export_night_wh + excluded.export_night_wh,"
            " gas_l = gas_l + excluded.gas_l, water_l = water_l + excluded.water_l,"
            " max_w = max(coalesce(max_w, excluded.max_w), coalesce(excluded.max_w, max_w)),"
            " gap = max(gap, excluded.gap), source = 'p1'",
            rows,
        )
        closed = [(q.meter_average_w, start) for start, q in self._quarters.items() if q.closed]
        connection.executemany(
            # The meter's own 1-0:1.4.0 wins; energy x 4 only for a quarter without it and without a gap. A quarter
            # touched again later (a gas capture closing it) keeps the average it has.
            "UPDATE quarter SET average_w = CASE WHEN ?1 IS NOT NULL THEN ?1"
            " WHEN average_w IS NULL AND gap = 0 THEN (import_day_wh + import_night_wh) * 4 ELSE average_w END"
            " WHERE start = ?2",
            closed,
        )
        connection.executemany(
            "INSERT INTO month_peak (month, kw, time, source) VALUES (?, ?, ?, 'meter')"
            " ON CONFLICT(month) DO UPDATE SET"
            " time = CASE WHEN excluded.kw >= kw THEN coalesce(excluded.time, time) ELSE time END,"
            " kw = max(kw, excluded.kw), source = 'meter'",
            [(month, kw, when) for month, (kw, when) in self._peaks.items()],
        )
        connection.executemany("INSERT INTO segment (time, reason) VALUES (?, ?)", self._segments)
        if self._raw:
            connection.executemany("INSERT INTO raw_telegram (time, data) VALUES (?, ?)", self._raw)
            connection.execute("DELETE FROM raw_telegram WHERE time < ?", (self._raw[-1][0] - self.raw_days * 86400,))
        state = self._state
        assert state is not None
        gas = state.gas or (None, None)
        water = state.water or (None, None)
        connection.execute(
            "INSERT OR REPLACE INTO meter_state (id, time, import_day_wh, import_night_wh, export_day_wh,"
            " export_night_wh, gas_l, gas_time, water_l, water_time, equipment_id)"
            " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (state.time, *state.registers, *gas, *water, state.equipment_id),
        )


def _wh(kwh: float | None) -> int | None:
    return round(kwh * 1000) if kwh is not None else None
