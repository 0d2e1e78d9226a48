"""Telegrams -> quarter-hours, month peaks and raw telegrams, with few commits.

Energy is the difference of the meter's cumulative registers between two telegrams, added to the quarter of the
later one: a gap (cable out, app down) loses nothing, its energy lands in the quarter where reading resumes and
that quarter is marked as a gap, never spread over quarters as invented data. A register that goes down (a new
meter), or jumps by more than any household can draw, starts a new segment instead of making negative or giant
usage. A telegram whose clock is not after the last one (a replay, a clock that jumps back) adds nothing.

A CRC-valid telegram can still lie (a meter's glitch, a bridge's bug): a telegram that does not follow the last one
accepted (its time more than a quarter ahead, a register that went down, that rose more than the connection can
carry in the time between, another meter's serial) is held back. The next telegram decides: if it follows the last
accepted one, the held one was a glitch and is refused; if it continues the held one, the change is real (a clock
set right, a new meter) and both are taken. So one telegram stamped 2099 never stops the history, a register that
reads +0.9 kWh for one second is never counted, and a dip for one second is no meter swap. A clock that jumps by
more than a day needs ten telegrams in a row to agree (`FAR_CONFIRMATIONS`): two CRC-valid telegrams stamped 2099
from a lying cable would otherwise file a quarter in 2099, and the reports would bill the 73 years between. Every
refusal is counted by reason (`IngestStats.refused`) and said (`on_refused`).

Writes are batched: everything since the last commit goes in one transaction at each 5-minute boundary of the
meter clock (an SD card wears out at one commit a second), together with the registers it was computed from. A
crash loses at most the raw telegrams of that batch; its energy is found again from the registers at the next
telegram, and the database is never left half written. The registers of each local day's first accepted telegram
go in the same transaction to `day_reading`, kept for good: the meter's own count of a day, which `audit` holds
against the quarters and Fluvius's export long after the raw telegrams are gone.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from meter_tui.energy.capacity import peak_quarter
from meter_tui.p1.plausible import allowed_wh, likely_wh
from meter_tui.p1.telegram import MonthPeak, Peak, Telegram
from meter_tui.store import raw
from meter_tui.store.database import transaction
from meter_tui.store.localtime import day_key, local_time

FLUSH_SECONDS = 300
GAP_SECONDS = 60
MAX_STEP_SECONDS = 900  # a telegram up to a quarter after the last follows it; further ahead, it waits for the next
FAR_SECONDS = 86_400  # a clock that jumps by more than a day, either way...
FAR_CONFIRMATIONS = 10  # ...is taken once this many telegrams in a row agree (10 s on a 1 Hz meter); else 2
MAX_FLOW_L_PER_HOUR = 40_000  # a G25 gas meter's most, more than any household's gas or water meter passes
MBUS_AHEAD_SECONDS = 3600  # an M-Bus reading captured later than the telegram carrying it, by more: impossible
PEAK_AHEAD_SECONDS = 3600  # the same for a month peak's time
MAX_PENDING_RAW = 3600  # raw telegrams waiting for a history that cannot be written (a full card): the last hour's
_REGISTERS = ("1-0:1.8.1", "1-0:1.8.2", "1-0:2.8.1", "1-0:2.8.2")


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
    powers: tuple[float | None, float | None] = (None, None)  # import, export kW (not stored: None after a start)


@dataclass(slots=True)
class _Held:
    """A telegram that does not follow the last accepted one, waiting for the next to confirm or refute it."""

    time: int
    registers: tuple[int | None, ...]
    equipment_id: str | None
    telegram: Telegram
    powers: tuple[float | None, float | None]
    reason: str  # why it does not follow, in a few words (the count's key)
    detail: str  # the same with its figures, for a person


@dataclass(slots=True)
class IngestStats:
    telegrams: int = 0
    skipped: int = 0  # telegrams not taken: no time, not after the last one, refused
    gaps: int = 0
    segments: int = 0
    commits: int = 0
    write_errors: int = 0
    last_error: str = ""
    refused: dict[str, int] = field(default_factory=dict)  # telegrams and readings refused, by reason


class Ingestor:
    """Feed it parsed telegrams in meter order; call `flush()` before stopping."""

    def __init__(self, connection: sqlite3.Connection, *, raw_days: int = 7, keep_raw: bool = True) -> None:
        self.connection = connection
        self.raw_days = raw_days
        self.keep_raw = keep_raw
        self.stats = IngestStats()
        self._quarters: dict[int, _Quarter] = {}
        self._raw: deque[tuple[int, bytes]] = deque(maxlen=MAX_PENDING_RAW)  # memory bounded while writes fail
        self._peaks: dict[str, tuple[float, int | None]] = {}
        self._segments: list[tuple[int, str]] = []
        self._day_readings: list[tuple[int | str | None, ...]] = []  # a local day's first telegram
        self._state = self._load_state()
        self._batch = self._state.time // FLUSH_SECONDS if self._state else None
        self.on_error: Callable[[str], None] | None = None
        self.on_refused: Callable[[str, str], None] | None = None  # (reason, what happened in words)
        self._held: list[_Held] = []  # telegrams in a row that agree, waiting for enough of them to be taken
        self._mbus_held: dict[str, tuple[int, int]] = {}  # kind -> a reading (litres, capture) waiting for the next
        self._mbus_refused: dict[str, int] = {}  # kind -> capture time of the last reading refused (said once)
        self._failed = 0  # commits failed in a row (a full disk): each is retried at the next batch
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

    @property
    def meter_time(self) -> int | None:
        """The meter time (Unix seconds) of the last telegram accepted, this run or before."""
        return self._state.time if self._state is not None else None

    def add(self, telegram: Telegram) -> None:
        """Account one telegram, or hold it back until the next one says whether it is real. Telegrams without a
        time, or not after the last one and bringing no new energy (a replay), are counted as skipped."""
        if telegram.timestamp is None:
            self.stats.skipped += 1
            return
        now = int(telegram.timestamp.timestamp())
        registers = _registers(telegram)
        state = self._state
        if state is None:
            first = _Held(now, registers, telegram.equipment_id, telegram, _powers(telegram), "not confirmed",
                          "the first telegram of a new history")  # fmt: skip
            self._hold(first)
            return
        why = _why_not(state, now, registers, telegram.equipment_id, _powers(telegram))
        if why is None:
            self._refuse_held("the telegram after it followed the last accepted one")
            self._accept(telegram, now, registers)
        elif now <= state.time and not _more_energy(state.registers, registers):
            self.stats.skipped += 1  # a replay (an import of what is known), or a clock set back: nothing new
        else:
            self._hold(_Held(now, registers, telegram.equipment_id, telegram, _powers(telegram), *why))

    def _hold(self, held: _Held) -> None:
        """Keep `held` back; take the telegrams held once enough of them continue each other: two in a row that
        agree make a new time or a new meter real, one alone does not (ten for a clock a day off)."""
        chain = self._held
        if not chain or _why_not(chain[-1], held.time, held.registers, held.equipment_id, held.powers, step=None):
            self._refuse_held("the telegram after it did not continue it")
            self._held = [held]
            return
        chain.append(held)
        if len(chain) < self._confirmations(chain[0]):
            return
        new_history = self._state is None
        if not new_history:
            after = "the next one" if len(chain) == 2 else f"the next {len(chain) - 1}"
            first = chain[0]
            self._say("confirmed", f"telegram of {_stamp(first.time)} taken, {after} confirmed it: {first.detail}")
        self._take_held()
        if new_history:
            self.flush()  # a new history's first commit at once: a kill now loses no register baseline

    def _take_held(self) -> None:
        chain, self._held = self._held, []
        for each in chain:
            self._accept(each.telegram, each.time, each.registers)

    def _confirmations(self, first: _Held) -> int:
        """How many telegrams in a row must agree before `first` (and those after it) are taken."""
        if self._state is not None and abs(first.time - self._state.time) > FAR_SECONDS:
            return FAR_CONFIRMATIONS
        return 2

    def _refuse_held(self, why: str) -> None:
        chain, self._held = self._held, []
        if chain:
            held = chain[0]
            self.stats.skipped += len(chain)
            for _ in chain:
                self._count(held.reason)
            more = f" (and the {len(chain) - 1} after it)" if len(chain) > 1 else ""
            self._say(held.reason, f"telegram of {_stamp(held.time)}{more} refused: {held.detail}; {why}")

    def _count(self, reason: str) -> None:
        self.stats.refused[reason] = self.stats.refused.get(reason, 0) + 1

    def _say(self, reason: str, text: str) -> None:
        if self.on_refused is not None:
            self.on_refused(reason, text)

    def finish(self) -> bool:
        """The end of the input: a telegram still held is refused (nothing after it confirmed it), except the
        first telegram of a new history, which nothing contradicts. Then everything is committed."""
        if self._state is None:
            self._take_held()
        self._refuse_held("no telegram came after it to confirm it")
        return self.flush()

    def _accept(self, telegram: Telegram, now: int, registers: tuple[int | None, ...]) -> None:
        """Account a telegram that follows the last one accepted (or that the next telegram confirmed)."""
        state = self._state
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
        if state is None or day_key(state.time) != day_key(now):  # the day's first: its registers kept for good
            litres = [reading[0] if reading else None for reading in (gas, water)]
            self._day_readings.append((day_key(now), now, *registers, *litres, telegram.equipment_id))
        if self.keep_raw:
            self._raw.append((now, telegram.raw))  # past MAX_PENDING_RAW the oldest goes; energy is kept whole
        self._state = _State(now, registers, gas, water, telegram.equipment_id, _powers(telegram))

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
        if elapsed > 0 and any(d > allowed_wh(elapsed) for d in deltas):
            self._new_segment(now, "a register jumped by more than a household can use")
            return
        for index, delta in enumerate(deltas):
            quarter.wh[index] += delta
        # Energy of seconds before this quarter would be put in it: a gap. Readings a quarter apart, at the ends
        # of two quarters, are not one: all that energy was used in this quarter.
        if (elapsed > GAP_SECONDS or elapsed <= 0) and any(deltas) and state.time + 1 < now - now % 900:
            quarter.gap = True
            self.stats.gaps += 1

    def _new_segment(self, now: int, reason: str) -> None:
        self.stats.segments += 1
        self._segments.append((now, reason))

    def _mbus(self, before: tuple[int, int] | None, device: object, kind: str, now: int) -> tuple[int, int] | None:
        """Gas or water: the difference between two captures goes to the quarter the later capture closes. A
        capture stamped after the telegram itself is refused; a reading that went down, or rose more than a meter
        passes in the time, waits for the next capture, as telegrams do."""
        reading = getattr(device, "reading", None)
        if reading is None or reading.time is None:
            return before
        litres = round(reading.value * 1000)
        captured = int(reading.time.timestamp())
        if captured > now + MBUS_AHEAD_SECONDS:
            if self._mbus_refused.get(kind) != captured:
                self._mbus_refused[kind] = captured
                self._count(f"{kind} stamp ahead")
                said = f"{kind} reading refused: captured {_stamp(captured)}, after the telegram's {_stamp(now)}"
                self._say(f"{kind} stamp ahead", said)
            return before
        if before is None:
            return (litres, captured)
        held = self._mbus_held.get(kind)
        if captured <= before[1] or (held is not None and captured == held[1]):
            return before  # the same capture again (every telegram repeats it for minutes), or an older one
        if _flow_fits(before, litres, captured):
            if held is not None:
                self._refuse_reading(kind, held, "the next capture followed the last accepted one")
            self._use(kind, litres - before[0], captured, before[1])
            return (litres, captured)
        if held is not None and _flow_fits(held, litres, captured):
            del self._mbus_held[kind]
            change = "went down" if held[0] < before[0] else "jumped ahead"
            self._new_segment(now, f"the {kind} meter {change}")
            self._use(kind, litres - held[0], captured, held[1])
            return (litres, captured)
        if held is not None:
            self._refuse_reading(kind, held, "the next capture did not continue it")
        self._mbus_held[kind] = (litres, captured)
        return before

    def _use(self, kind: str, litres: int, captured: int, previous: int) -> None:
        moment = captured - 1  # a capture at 12:15:00 closes the quarter 12:00-12:15
        quarter = self._quarter(moment - moment % 900)
        if kind == "gas":
            quarter.gas_l += litres
        else:
            quarter.water_l += litres
        if captured - previous > 3600:
            quarter.gap = True

    def _refuse_reading(self, kind: str, held: tuple[int, int], why: str) -> None:
        del self._mbus_held[kind]
        self._count(f"{kind} glitch")
        self._say(f"{kind} glitch", f"{kind} reading of {_stamp(held[1])} refused ({held[0] / 1000:.3f} m³); {why}")

    def _peaks_from(self, telegram: Telegram) -> None:
        """The meter's month peaks. The parser hands out the same objects while they do not change, so an
        identity check skips the work for all but the telegrams that bring news. A peak of a time or month after
        the telegram's own is impossible and refused."""
        peak = telegram.month_peak
        stamp = telegram.timestamp
        assert stamp is not None  # add() skips telegrams without a time
        if peak is not None and peak is not self._last_peak and peak.time is not None and peak.kw is not None:
            if (peak.time - stamp).total_seconds() > PEAK_AHEAD_SECONDS:
                self._count("peak stamp ahead")
                said = f"month peak refused: stamped {peak.time:%Y-%m-%d %H:%M}, after the telegram's {stamp}"
                self._say("peak stamp ahead", said)
            else:
                quarter = peak_quarter(peak.time, stamp, peak.kw)
                self._keep_peak(f"{quarter:%Y-%m}", peak.kw, int(quarter.timestamp()))
        self._last_peak = peak
        history = telegram.peak_history
        if history is not None and history is not self._last_history:
            for entry in history:
                if entry.kw is not None and entry.month <= stamp.date():
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
        except (sqlite3.Error, OverflowError) as error:
            self.stats.write_errors += 1
            self._failed += 1
            self.stats.last_error = f"cannot write the history ({self._failed} tries), kept for the next: {error}"
            if self.on_error is not None:
                self.on_error(self.stats.last_error)
            return False
        if self._failed:
            tries = "try" if self._failed == 1 else "tries"
            self._say("saved", f"history written again after {self._failed} failed {tries}: nothing was lost")
            self._failed = 0
        self.stats.commits += 1
        self.stats.last_error = ""
        # Open quarters start a new batch: what they gained is written; what the meter said of them is kept.
        self._quarters = {
            start: _Quarter(meter_average_w=q.meter_average_w) for start, q in self._quarters.items() if not q.closed
        }
        self._raw.clear()
        self._peaks.clear()
        self._segments.clear()
        self._day_readings.clear()
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
        connection.executemany(  # a day's first reading stays the first: a clock set back adds none
            "INSERT OR IGNORE INTO day_reading (day, time, import_day_wh, import_night_wh, export_day_wh,"
            " export_night_wh, gas_l, water_l, equipment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._day_readings,
        )
        if self._raw:
            raw.write_block(connection, self._raw)  # the batch's telegrams compressed together
            raw.forget_before(connection, self._raw[-1][0] - self.raw_days * 86400)
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


def _registers(telegram: Telegram) -> tuple[int | None, ...]:
    return (
        _wh(telegram.import_day_kwh),
        _wh(telegram.import_night_kwh),
        _wh(telegram.export_day_kwh),
        _wh(telegram.export_night_kwh),
    )


def _powers(telegram: Telegram) -> tuple[float | None, float | None]:
    return (telegram.power_import_kw, telegram.power_export_kw)


def _why_not(
    before: _State | _Held,
    now: int,
    registers: tuple[int | None, ...],
    equipment_id: str | None,
    powers: tuple[float | None, float | None],
    *,
    step: int | None = MAX_STEP_SECONDS,
) -> tuple[str, str] | None:
    """None when a telegram at `now` follows `before`; else why not: (reason, the same with its figures). `step`
    is how far ahead it may be; None for a held telegram that the next one continues, whatever the gap."""
    elapsed = now - before.time
    if elapsed <= 0:
        return "time went back", f"meter time {_stamp(now)} is not after {_stamp(before.time)}"
    if before.equipment_id and equipment_id and before.equipment_id != equipment_id:
        return "meter changed", f"meter serial {equipment_id}, the last one's {before.equipment_id}"
    if step is not None and elapsed > step:
        return "time jumped", f"meter time {_duration(elapsed)} after the last accepted telegram"
    allowed = allowed_wh(elapsed)
    rise = 0
    for code, new, old in zip(_REGISTERS, registers, before.registers, strict=True):
        if new is None or old is None:
            continue
        if new < old:
            return "register went down", f"{code} went down by {old - new} Wh"
        if new - old > allowed:
            return "register jumped", f"{code} rose by {new - old} Wh in {elapsed} s, more than a connection carries"
        rise += new - old
    if elapsed > GAP_SECONDS or rise <= likely_wh(0.0, elapsed):  # what no power bound refuses: most telegrams
        return None
    return _beyond_power(before, registers, powers, elapsed)


def _beyond_power(
    before: _State | _Held, registers: tuple[int | None, ...], powers: tuple[float | None, float | None], elapsed: int
) -> tuple[str, str] | None:
    """A rise of the import (or export) registers far beyond the power both telegrams report, within a minute: on
    a meter that sends every 10 s, +0.9 kWh is within what the connection carries, not what the house draws."""
    for first, side in ((0, 0), (2, 1)):
        kw = max((p[side] for p in (before.powers, powers) if p[side] is not None), default=None)
        pairs = [(new, old) for new, old in zip(registers[first : first + 2], before.registers[first : first + 2],
                                                strict=True) if new is not None and old is not None]  # fmt: skip
        rise = sum(new - old for new, old in pairs)
        if kw is not None and rise > likely_wh(kw, elapsed):
            code = _REGISTERS[first][:-2]
            return "register jumped", f"{code}.x rose by {rise} Wh in {elapsed} s at {kw:g} kW"
    return None


def _more_energy(before: tuple[int | None, ...], after: tuple[int | None, ...]) -> bool:
    """Registers that rose (none went down): a telegram stamped before the last one that is no replay of it."""
    pairs = [(new, old) for new, old in zip(after, before, strict=True) if new is not None and old is not None]
    return bool(pairs) and all(new >= old for new, old in pairs) and any(new > old for new, old in pairs)


def _flow_fits(before: tuple[int, int], litres: int, captured: int) -> bool:
    """Whether an M-Bus meter can go from `before` (litres, capture) to `litres` by `captured`."""
    used = litres - before[0]
    return 0 <= used <= MAX_FLOW_L_PER_HOUR * (captured - before[1]) / 3600 + 10


def _stamp(seconds: int) -> str:
    return f"{local_time(seconds):%Y-%m-%d %H:%M:%S}"


def _duration(seconds: int) -> str:
    for size, unit in ((86400, "days"), (3600, "h"), (60, "min")):
        if seconds >= 2 * size:
            return f"{seconds // size:,} {unit}"
    return f"{seconds} s"
