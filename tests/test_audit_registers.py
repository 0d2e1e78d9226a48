"""The three-way audit (issue 22, point 5): the meter's own registers at each day's first telegram, the history's
quarters and a Fluvius export, side by side. The capture is the simulated meter's; the export and the register
differences are computed here from the telegrams themselves, not by meter-tui's ingest."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

from meter_tui.p1 import parse_telegram
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor
from tests.test_bills import meter_tui

FIRST = date(2026, 3, 30)  # two days of March, two of April: months and days both
DAYS = 4
EDGE = 120  # seconds of one-second telegrams either side of each midnight (a real meter's rate)
HEADER = ("From (date);From (time);Until (date);Until (time);EAN code;Meter;Meter type;Register;Volume;Unit;"
          "Validation status;Description")  # fmt: skip
REGISTERS = ("Offtake Day", "Offtake Night", "Injection Day", "Injection Night")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BRUSSELS)


def simulated_capture(path: Path) -> list[bytes]:
    """DAYS days of the simulated meter from FIRST, and the first EDGE seconds of the day after: one telegram a
    second around each midnight, one a minute in between (the quarters are the same, the capture is small)."""
    meter = SimulatedMeter(3, midnight(FIRST))
    telegrams: list[bytes] = []
    for number in range(DAYS):
        telegrams += meter.run(EDGE)
        telegrams += meter.run_until(midnight(FIRST + timedelta(days=number + 1)) - timedelta(seconds=EDGE))
        telegrams += meter.run(EDGE)
    telegrams += meter.run(EDGE)
    path.write_bytes(b"".join(telegrams))
    return telegrams


def readings(telegrams: list[bytes]) -> list[tuple[int, tuple[int, ...]]]:
    """(UTC seconds, the four registers in Wh) of each telegram, straight from the parser."""
    out = []
    for raw in telegrams:
        t = parse_telegram(raw)
        assert t.timestamp is not None
        registers = (t.import_day_kwh, t.import_night_kwh, t.export_day_kwh, t.export_night_kwh)
        out.append((int(t.timestamp.timestamp()), tuple(round(kwh * 1000) for kwh in registers)))  # type: ignore[operator]
    return out


def quarters_of(seen: list[tuple[int, tuple[int, ...]]]) -> dict[int, list[int]]:
    """Each quarter's Wh per register as Fluvius counts it: the registers at its last telegram less those at the
    last telegram before it (the first telegram for the very first quarter)."""
    out: dict[int, list[int]] = {}
    before = seen[0][1]
    for index, (when, registers) in enumerate(seen):
        start = when - when % 900
        if index + 1 == len(seen) or seen[index + 1][0] - seen[index + 1][0] % 900 != start:
            out[start] = [after - previous for after, previous in zip(registers, before, strict=True)]
            before = registers
    return out


def fluvius_export(path: Path, quarters: dict[int, list[int]], *, changed: dict[tuple[str, int], int], drop: date,
                   shift: timedelta) -> Path:  # fmt: skip
    """The quarters of the DAYS days as a Fluvius English export: quarter ('YYYY-MM-DD HH:MM', register index) ->
    Wh added, the day `drop` left out, every time moved by `shift` (Fluvius's clock and the meter's differ)."""
    lines = [HEADER]
    for start, wh in sorted(quarters.items()):
        local = datetime.fromtimestamp(start, BRUSSELS)
        if not FIRST <= local.date() < FIRST + timedelta(days=DAYS) or local.date() == drop:
            continue
        frm, until = local + shift, local + shift + timedelta(minutes=15)
        for index, name in enumerate(REGISTERS):
            volume = (wh[index] + changed.get((f"{local:%Y-%m-%d %H:%M}", index), 0)) / 1000
            lines.append(f"{frm:%d/%m/%Y;%H:%M:%S};{until:%d/%m/%Y;%H:%M:%S};=\"541448820000000000\";1SIM0000000003;"
                         f"Digital meter;{name};{volume:.3f}".replace(".", ",") + ";kWh;Read;")  # fmt: skip
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


CHANGED = {("2026-03-31 08:00", 0): 500, ("2026-03-31 19:30", 1): 2, ("2026-04-02 13:00", 2): 250}
DROPPED = date(2026, 4, 1)


def test_the_three_way_audit_finds_every_difference_and_nothing_else(tmp_path: Path):
    telegrams = simulated_capture(tmp_path / "meter.p1")
    assert meter_tui(tmp_path, "import", str(tmp_path / "meter.p1")).returncode == 0
    seen = readings(telegrams)
    export = fluvius_export(tmp_path / "fluvius.csv", quarters_of(seen), changed=CHANGED, drop=DROPPED,
                            shift=timedelta(minutes=15))  # fmt: skip
    done = meter_tui(tmp_path, "audit", str(export), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["clock_offset_quarters"] == -1 and result["problems"] == []
    assert result["difference_count"] == len(CHANGED) + 96  # the changed quarters, and the day the export lacks
    firsts: dict[str, tuple[int, ...]] = {}  # each day's first telegram's registers, from the capture
    for when, registers in seen:
        firsts.setdefault(f"{datetime.fromtimestamp(when, BRUSSELS):%Y-%m-%d}", registers)
    by_day = {d["date"]: d for d in result["days"]}
    assert list(by_day) == [f"{FIRST + timedelta(days=n)}" for n in range(DAYS)]
    for day, d in by_day.items():
        after = firsts[f"{date.fromisoformat(day) + timedelta(days=1)}"]
        meter = [b - a for a, b in zip(firsts[day], after, strict=True)]
        assert (d["registers_offtake_kwh"], d["registers_injection_kwh"]) == ((meter[0] + meter[1]) / 1000,
                                                                            (meter[2] + meter[3]) / 1000)  # fmt: skip
        for side in ("offtake", "injection"):  # one second's energy at each end of the day at most: within 1 Wh
            assert abs(d[f"registers_{side}_kwh"] - d[f"history_{side}_kwh"]) <= 0.001 + 1e-9
    wrong = {"2026-03-31": 2, "2026-04-01": 96, "2026-04-02": 1}
    assert {day: d["differing_quarters"] for day, d in by_day.items() if d["differing_quarters"]} == wrong
    assert {day: d["disagree"] for day, d in by_day.items() if d["disagree"]} == {
        day: ["registers/fluvius", "fluvius/history"] for day in wrong}  # fmt: skip
    march, april = result["months"]
    for month, number in ((march, 3), (april, 4)):  # the meter's own month peak, as its last telegram says it
        last = parse_telegram([raw for raw in telegrams if f"0-0:1.0.0(260{number}".encode() in raw][-1]).month_peak
        assert last is not None and month["meter_peak_kw"] == last.kw
    assert (march["days"], march["register_days"], april["days"], april["register_days"]) == (2, 2, 2, 2)
    for month in (march, april):
        assert month["disagree"] == ["registers/fluvius", "fluvius/history"]
        assert abs(month["registers_offtake_kwh"] - month["history_offtake_kwh"]) <= 0.002 + 1e-9
    assert by_day["2026-04-01"]["fluvius_quarters"] == 0 and by_day["2026-04-02"]["fluvius_injection_kwh"] == (
        by_day["2026-04-02"]["history_injection_kwh"] + 0.25)  # fmt: skip
    text = meter_tui(tmp_path, "audit", str(export)).stdout
    assert text.count("DIFFER: P1 vs Fluvius, Fluvius vs quarters") == 5 and "P1 vs quarters" not in text
    assert "1 of 4 days agree within 0.001 kWh; the meter's registers known for 4 of them" in text
    assert "Fluvius nothing  DIFFER" in text and "(1 quarter differs)" in text


def test_a_day_begun_before_a_restart_gets_no_later_reading_as_its_first(tmp_path: Path):
    """A day whose first telegram was not kept (a history written before day readings) is left without one: a
    reading after a restart in the middle of the day would make the day's register difference short."""
    meter = SimulatedMeter(5, midnight(FIRST) - timedelta(seconds=30))
    path = tmp_path / "h.sqlite"
    for number, telegrams in enumerate(
        (meter.run(60), list(meter.run_until(midnight(FIRST) + timedelta(days=1, minutes=1))))
    ):
        connection = open_database(path)
        if number:  # the first run's readings gone, as in a history of a meter-tui before them
            assert connection.execute("DELETE FROM day_reading").rowcount == 2  # 29 March's first, 30 March's
        ingestor = Ingestor(connection)
        for raw in telegrams:
            ingestor.add(parse_telegram(raw))
        assert ingestor.finish()
        connection.close()
    connection = open_database(path, readonly=True)
    rows = connection.execute("SELECT day, time, equipment_id FROM day_reading").fetchall()
    connection.close()
    assert [row[:2] for row in rows] == [(20260331, int(midnight(FIRST).timestamp()) + 86400 + 59)] and rows[0][2]


def test_a_history_without_day_readings_is_audited_on_two_counts(tmp_path: Path):
    """A history of a meter-tui before day readings, opened read-only (not migrated): the P1 count is said unknown,
    the quarters and the export are still held against each other."""
    telegrams = simulated_capture(tmp_path / "meter.p1")
    assert meter_tui(tmp_path, "import", str(tmp_path / "meter.p1")).returncode == 0
    with sqlite3.connect(tmp_path / "h.sqlite") as connection:
        connection.execute("DROP TABLE day_reading")
        connection.execute("PRAGMA user_version = 4")
    export = fluvius_export(tmp_path / "fluvius.csv", quarters_of(readings(telegrams)), changed=CHANGED,
                            drop=DROPPED, shift=timedelta(0))  # fmt: skip
    done = meter_tui(tmp_path, "audit", str(export), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert all(d["registers_offtake_kwh"] is None and "registers/history" not in d["disagree"] for d in result["days"])
    assert [d["date"] for d in result["days"] if d["disagree"]] == ["2026-03-31", "2026-04-01", "2026-04-02"]
    assert [m["register_days"] for m in result["months"]] == [0, 0]
    assert "the meter's registers known for 0 of them" in meter_tui(tmp_path, "audit", str(export)).stdout


def test_a_night_without_telegrams_is_said_where_the_p1_count_spans_it(tmp_path: Path):
    """No telegram from 23:00 to 09:00 (the cable out): the history puts the night's energy in the 09:00 quarter,
    Fluvius has the true quarters; the P1 count of the first day runs to 09:00 the next and says so, and the two
    days' P1 counts together are Fluvius's."""
    telegrams = simulated_capture(tmp_path / "full.p1")
    cut = (midnight(DROPPED) - timedelta(hours=1)).timestamp(), (midnight(DROPPED) + timedelta(hours=9)).timestamp()
    kept = [raw for raw, (when, _) in zip(telegrams, readings(telegrams), strict=True) if not cut[0] < when < cut[1]]
    (tmp_path / "meter.p1").write_bytes(b"".join(kept))
    assert meter_tui(tmp_path, "import", str(tmp_path / "meter.p1")).returncode == 0
    export = fluvius_export(tmp_path / "fluvius.csv", quarters_of(readings(telegrams)), changed={},
                            drop=date(2000, 1, 1), shift=timedelta(0))  # fmt: skip
    result = json.loads(meter_tui(tmp_path, "audit", str(export), "--json").stdout)
    by_day = {d["date"]: d for d in result["days"]}
    assert {day: d["disagree"] for day, d in by_day.items() if d["disagree"]} == {
        "2026-03-31": ["registers/history", "registers/fluvius", "fluvius/history"],
        "2026-04-01": ["registers/history", "registers/fluvius", "fluvius/history"]}  # fmt: skip
    assert by_day["2026-03-31"]["registers_read"] == ["2026-03-31T00:00:00+02:00", "2026-04-01T09:00:59+02:00"]
    two = [by_day[day] for day in ("2026-03-31", "2026-04-01")]
    assert abs(sum(d["registers_offtake_kwh"] - d["fluvius_offtake_kwh"] for d in two)) <= 0.002 + 1e-9
    text = meter_tui(tmp_path, "audit", str(export)).stdout
    assert "(P1 read 2026-03-31 00:00 to 2026-04-01 09:00)" in text
    assert "(P1 read 2026-04-01 09:00 to 2026-04-02 00:00)" in text and text.count("(P1 read") == 2
