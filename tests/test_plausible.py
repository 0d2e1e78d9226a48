"""Telegrams with a valid CRC that are not physically possible: refused by the parser (values, units) or held back
by the history until the next telegram confirms them (times, registers, meters), through real processes and files.

The hostile stream is one capture with every kind of crafted telegram in it; `import` and `record --replay` store
exactly the energy of its honest telegrams, to the Wh, and say why each bad one was refused."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.p1 import ImplausibleError, TelegramError, parse_telegram
from meter_tui.sources.replay import ReplaySource
from meter_tui.sources.simulator import BRUSSELS
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor
from tests.conftest import wait_for, with_crc

START = datetime(2026, 2, 3, 10, 0, 0, tzinfo=BRUSSELS)


@dataclass(slots=True)
class Meter:
    """An honest meter's state: each `tick` moves its clock and registers as a real one would."""

    moment: datetime = START
    day_wh: int = 1_000_000
    night_wh: int = 500_000
    serial: str = "1SAG1100000001"
    gas_l: int = 2_000_000
    gas_at: datetime = START
    sent: list[tuple[str, int, int, int]] = field(default_factory=list)  # honest (serial, day, night, time)

    def tick(self, seconds: int = 1, wh: int = 1) -> None:
        self.moment += timedelta(seconds=seconds)
        self.day_wh += wh
        if self.moment.second == 0 and self.moment > self.gas_at:  # a gas capture each minute
            self.gas_at = self.moment
            self.gas_l += 10

    def frame(self, stamp: str | None = None, **lines: str) -> bytes:
        """This moment's telegram; `lines` replaces lines by OBIS code ('_' for ':' and '.' in the name)."""
        stamp = stamp or _stamp(self.moment)
        body = {
            "0-0:96.1.4": "(50217)",
            "0-0:96.1.1": f"({self.serial})",
            "0-0:1.0.0": f"({stamp})",
            "1-0:1.8.1": f"({self.day_wh / 1000:010.3f}*kWh)",
            "1-0:1.8.2": f"({self.night_wh / 1000:010.3f}*kWh)",
            "1-0:2.8.1": "(000000.000*kWh)",
            "1-0:2.8.2": "(000000.000*kWh)",
            "0-0:96.14.0": "(0001)",
            "1-0:1.4.0": "(03.600*kW)",
            "1-0:1.6.0": "(260202180000W)(03.000*kW)",
            "0-0:98.1.0": "(1)(1-0:1.6.0)(1-0:1.6.0)(260101000000W)(251210120000W)(02.500*kW)",
            "1-0:1.7.0": "(03.600*kW)",
            "1-0:2.7.0": "(00.000*kW)",
            "1-0:32.7.0": "(230.0*V)",
            "1-0:31.7.0": "(015.65*A)",
            "0-1:24.1.0": "(003)",
            "0-1:24.2.3": f"({_stamp(self.gas_at)})({self.gas_l / 1000:09.3f}*m3)",
        }
        for name, value in lines.items():
            body[name.replace("_", ":", 1).replace("_", ".")] = value
        text = "\r\n".join(["/FLU5\\253769484_A", "", *(code + value for code, value in body.items()), "!"])
        return with_crc(text)

    def honest(self, count: int = 1, **tick: int) -> bytes:
        frames = b""
        for _ in range(count):
            self.tick(**tick)
            frames += self.frame()
            self.sent.append((self.serial, self.day_wh, self.night_wh, int(self.moment.timestamp())))
        return frames

    def energy_wh(self) -> int:
        """What the honest telegrams say was used: each meter's last register minus its first."""
        total = 0
        for serial in dict.fromkeys(s for s, *_ in self.sent):
            mine = [(day + night) for s, day, night, _ in self.sent if s == serial]
            total += mine[-1] - mine[0]
        return total


def _stamp(moment: datetime) -> str:
    return f"{moment.astimezone(BRUSSELS):%y%m%d%H%M%S}W"


def parsed(frame: bytes):
    return parse_telegram(frame)


# -- values and units -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("1-0:1.7.0", "(NaN*kW)"),
        ("1-0:1.7.0", "(inf*kW)"),
        ("1-0:1.7.0", "(1e30*kW)"),
        ("1-0:1.7.0", "(500.000*kW)"),  # more than three phases at 400 A carry
        ("1-0:1.8.1", "(Infinity*kWh)"),
        ("1-0:1.8.2", "(-00001.000*kWh)"),
        ("1-0:1.4.0", "(nan*kW)"),
        ("1-0:1.6.0", "(260202180000W)(NaN*kW)"),
        ("1-0:1.6.0", "(260202180000W)(1e300*kW)"),
        ("0-0:98.1.0", "(1)(1-0:1.6.0)(1-0:1.6.0)(260101000000W)(251210120000W)(1e300*kW)"),
        ("0-1:24.2.3", "(260203100000W)(1e30*m3)"),
        ("0-1:24.2.3", "(260203100000W)(nan*m3)"),
        ("1-0:32.7.0", "(1000.0*V)"),
        ("1-0:31.7.0", "(5000*A)"),
    ],
)
def test_a_value_no_household_connection_can_measure_is_refused_with_its_line(code: str, value: str):
    frame = Meter().frame(**{code.replace(":", "_", 1).replace(".", "_"): value})
    with pytest.raises(ImplausibleError) as refused:
        parse_telegram(frame)
    assert refused.value.reason == "impossible" and refused.value.code == code
    assert "impossible value" in refused.value.message


def test_units_are_checked_against_the_quantities_table_and_w_wh_still_converted():
    with pytest.raises(ImplausibleError) as refused:
        parse_telegram(Meter().frame(**{"1-0_1_8_1": "(000001.000*MWh)"}))
    assert refused.value.reason == "wrong unit" and "'MWh', expected 'kWh'" in refused.value.message
    with pytest.raises(ImplausibleError):
        parse_telegram(Meter().frame(**{"1-0_32_7_0": "(230.0*A)"}))
    converted = parse_telegram(Meter().frame(**{"1-0_1_7_0": "(3600*W)", "1-0_1_8_1": "(1000000*Wh)"}))
    assert (converted.power_import_kw, converted.import_day_kwh) == (3.6, 1000.0)
    lower = parse_telegram(Meter().frame(**{"1-0_1_7_0": "(03.600*kw)", "1-0_32_7_0": "(230.0*v)"}))
    assert lower.power_import_kw == 3.6 and lower.phases[0].voltage_v == 230.0


def test_parse_prints_valid_json_for_every_frame_of_a_hostile_capture(tmp_path: Path):
    capture = tmp_path / "nan.cap"
    meter = Meter()
    capture.write_bytes(meter.honest() + meter.frame(**{"1-0_1_7_0": "(NaN*kW)"}) + meter.honest())
    done = subprocess.run([sys.executable, "-m", "meter_tui", "parse", str(capture)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]  # NaN would not load as strict JSON
    assert [("error" in r) for r in records] == [False, True, False]
    assert "impossible value nan kW" in records[1]["error"] and records[1]["offset"] > 0
    assert "NaN" not in done.stdout


# -- the history's hold-back -----------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path):
    connection = open_database(tmp_path / "meter.sqlite")
    yield connection
    connection.close()


def stored_wh(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT coalesce(sum(import_day_wh + import_night_wh), 0) FROM quarter").fetchone()[0]


def feed(ingest: Ingestor, frames: bytes) -> None:
    for raw in frames.split(b"\r\n/"):
        ingest.add(parse_telegram(raw if raw.startswith(b"/") else b"/" + raw))


def test_one_telegram_stamped_2099_or_2070_never_stops_the_history(db):
    meter = Meter()
    ingest = Ingestor(db)
    said: list[str] = []
    ingest.on_refused = lambda _reason, text: said.append(text)
    feed(ingest, meter.honest(5))
    meter.tick()
    ingest.add(parsed(meter.frame(stamp="990203100006W")))  # 2099
    feed(ingest, meter.honest(5))
    meter.tick()
    ingest.add(parsed(meter.frame(stamp="700101010001W")))  # "year 70": 2070
    feed(ingest, meter.honest(300))
    ingest.finish()
    assert stored_wh(db) == meter.energy_wh() == 311
    assert ingest.stats.refused == {"time jumped": 2}
    assert sum("2099-02-03 10:00:06 refused: meter time" in line for line in said) == 1
    stored_time = db.execute("SELECT time FROM meter_state").fetchone()[0]
    assert stored_time == meter.sent[-1][3]  # the meter time stored is the honest one, not 2098


def test_a_gas_reading_stamped_2099_is_refused_and_gas_goes_on(db):
    meter = Meter()
    ingest = Ingestor(db)
    feed(ingest, meter.honest(50))
    meter.tick()
    ingest.add(parsed(meter.frame(**{"0-1_24_2_3": "(990203100000W)(99999.999*m3)"})))
    feed(ingest, meter.honest(200))
    ingest.finish()
    assert ingest.stats.refused == {"gas stamp ahead": 1}
    assert db.execute("SELECT sum(gas_l) FROM quarter").fetchone()[0] == meter.gas_l - 2_000_000 == 40


def gas(meter: Meter, m3: float) -> bytes:
    """The meter's telegram with a gas capture of `m3` taken now."""
    return meter.frame(**{"0-1_24_2_3": f"({_stamp(meter.moment)})({m3:09.3f}*m3)"})


def test_a_gas_glitch_is_refused_and_a_new_gas_meter_is_confirmed_by_its_next_capture(db):
    meter = Meter()
    ingest = Ingestor(db)
    said: list[str] = []
    ingest.on_refused = lambda _reason, text: said.append(text)
    for m3 in (2000.010, 2050.000, 2000.020, 2000.030, 12.000, 12.010, 12.020):  # +50 m³ in a minute, then a swap
        meter.tick(seconds=60)
        ingest.add(parsed(gas(meter, m3)))
    ingest.finish()
    assert ingest.stats.refused == {"gas glitch": 1}
    assert any("gas reading of" in line and "refused (2050.000 m³)" in line for line in said), said
    assert db.execute("SELECT sum(gas_l) FROM quarter").fetchone()[0] == 4 * 10  # every honest step: 10 l
    assert [r[0] for r in db.execute("SELECT reason FROM segment")] == ["the gas meter went down"]


def test_a_month_peak_stamped_after_its_telegram_is_not_stored(db):
    meter = Meter()
    ingest = Ingestor(db)
    feed(ingest, meter.honest(3))
    meter.tick()
    ingest.add(parsed(meter.frame(**{"1-0_1_6_0": "(990202180000W)(09.000*kW)"})))
    feed(ingest, meter.honest(3))
    ingest.finish()
    assert ingest.stats.refused == {"peak stamp ahead": 1}
    assert dict(db.execute("SELECT month, kw FROM month_peak").fetchall()) == {"2025-12": 2.5, "2026-02": 3.0}


def test_a_one_telegram_register_glitch_up_or_down_is_no_energy_and_no_meter_swap(db):
    meter = Meter()
    ingest = Ingestor(db)
    feed(ingest, meter.honest(5))
    meter.tick()
    ingest.add(parsed(meter.frame(**{"1-0_1_8_1": f"({(meter.day_wh + 900) / 1000:010.3f}*kWh)"})))  # +0.9 kWh
    feed(ingest, meter.honest(3))
    meter.tick()
    ingest.add(parsed(meter.frame(**{"1-0_1_8_1": f"({(meter.day_wh - 500) / 1000:010.3f}*kWh)"})))  # a dip
    feed(ingest, meter.honest(3))
    ingest.finish()
    assert stored_wh(db) == meter.energy_wh() == 12
    assert ingest.stats.refused == {"register jumped": 1, "register went down": 1}
    assert ingest.stats.segments == 0 and db.execute("SELECT count(*) FROM segment").fetchone()[0] == 0


def test_on_a_ten_second_meter_a_glitch_within_the_connection_but_beyond_the_power_is_held(db):
    meter = Meter()
    ingest = Ingestor(db)
    feed(ingest, meter.honest(3, seconds=10, wh=10))
    meter.tick(seconds=10, wh=10)
    ingest.add(parsed(meter.frame(**{"1-0_1_8_1": f"({(meter.day_wh + 900) / 1000:010.3f}*kWh)"})))  # 3.6 kW says
    feed(ingest, meter.honest(3, seconds=10, wh=10))
    feed(ingest, meter.honest(1, seconds=10, wh=60))  # a surprising rise, but the next telegram continues it
    feed(ingest, meter.honest(3, seconds=10, wh=10))
    ingest.finish()
    assert stored_wh(db) == meter.energy_wh() == 150
    assert ingest.stats.refused == {"register jumped": 1} and ingest.stats.segments == 0


def test_a_real_meter_swap_and_a_real_clock_correction_are_confirmed_by_the_next_telegram(db):
    meter = Meter()
    ingest = Ingestor(db)
    feed(ingest, meter.honest(5))
    feed(ingest, meter.honest(1, seconds=7200))  # the clock set right, two hours on
    feed(ingest, meter.honest(5))
    meter.serial, meter.day_wh, meter.night_wh = "1SAG1100000002", 5_000, 0  # a new meter
    feed(ingest, meter.honest(5))
    feed(ingest, meter.honest(1, seconds=-1800, wh=20))  # set back half an hour, registers going on
    feed(ingest, meter.honest(5))
    ingest.finish()
    assert stored_wh(db) == meter.energy_wh()
    assert ingest.stats.refused == {}
    reasons = [r[0] for r in db.execute("SELECT reason FROM segment")]
    assert reasons == ["meter changed from 1SAG1100000001 to 1SAG1100000002"]


def test_a_new_history_whose_first_telegram_is_stamped_2099_starts_from_the_honest_ones(db):
    meter = Meter()
    ingest = Ingestor(db)
    meter.tick()
    ingest.add(parsed(meter.frame(stamp="990203100001W")))
    feed(ingest, meter.honest(10))
    ingest.finish()
    assert ingest.stats.refused == {"not confirmed": 1}
    assert stored_wh(db) == meter.energy_wh() == 9
    assert db.execute("SELECT time FROM meter_state").fetchone()[0] == meter.sent[-1][3]


def test_a_brand_new_history_commits_its_first_telegrams_at_once(db):
    meter = Meter()
    ingest = Ingestor(db)
    feed(ingest, meter.honest(2))
    assert db.execute("SELECT import_day_wh FROM meter_state").fetchone() == (meter.day_wh,)


# -- the hostile stream, through real processes ------------------------------------------------------------------

REJECTED = {"impossible": 11, "wrong unit": 2}
REFUSED = {"time jumped": 2, "time went back": 1, "register jumped": 1, "register went down": 1, "gas stamp ahead": 1}


def hostile_capture(path: Path) -> Meter:
    """Honest telegrams with every kind of crafted one between them, each with a valid CRC."""
    meter = Meter()
    parts = [meter.honest(30)]

    def crafted(stamp: str | None = None, **lines: str) -> None:
        meter.tick()
        parts.append(meter.frame(stamp, **lines))
        parts.append(meter.honest(3))

    crafted("990203100031W")  # 2099
    crafted("000102120000W")  # 2000: before the last accepted one
    crafted("700101010001W")  # "year 70"
    for code, value in (
        ("1-0_1_7_0", "(NaN*kW)"), ("1-0_1_8_2", "(Infinity*kWh)"), ("1-0_1_8_1", "(1e30*kWh)"),
        ("1-0_1_4_0", "(NaN*kW)"), ("1-0_1_6_0", "(260202180000W)(NaN*kW)"),
        ("1-0_1_6_0", "(260202180000W)(1e300*kW)"),
        ("0-0_98_1_0", "(1)(1-0:1.6.0)(1-0:1.6.0)(260101000000W)(251210120000W)(1e300*kW)"),
        ("0-1_24_2_3", "(260203100000W)(1e30*m3)"), ("1-0_32_7_0", "(1000.0*V)"), ("1-0_31_7_0", "(5000*A)"),
        ("1-0_1_7_0", "(500.000*kW)"), ("1-0_1_8_1", "(001000.100*MWh)"), ("1-0_31_7_0", "(15.65*kW)"),
    ):  # fmt: skip
        crafted(**{code: value})
    crafted(**{"1-0_1_8_1": f"({(meter.day_wh + 901) / 1000:010.3f}*kWh)"})  # +0.9 kWh for one telegram
    crafted(**{"1-0_1_8_1": f"({(meter.day_wh - 499) / 1000:010.3f}*kWh)"})  # a dip for one telegram
    meter.tick()
    parts.append(meter.frame(**{"0-1_24_2_3": "(990203100000W)(99999.999*m3)"}))  # gas stamped 2099...
    meter.sent.append((meter.serial, meter.day_wh, meter.night_wh, int(meter.moment.timestamp())))  # ...power fine
    parts.append(meter.honest(60))
    parts.append(meter.honest(1, seconds=7200))  # a real clock correction
    parts.append(meter.honest(10))
    meter.serial, meter.day_wh, meter.night_wh = "1SAG1100000002", 5_000, 0  # a real meter swap
    parts.append(meter.honest(10))
    path.write_bytes(b"".join(parts))
    return meter


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"METER_TUI_DATA_DIR": str(tmp_path / "data"), "METER_TUI_RUN_DIR": str(tmp_path / "run"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "meter_tui", *args], capture_output=True, text=True, timeout=120,
                          env=env, check=False)  # fmt: skip


def check_history(db: Path, meter: Meter) -> None:
    connection = open_database(db, readonly=True)
    try:
        assert stored_wh(connection) == meter.energy_wh()
        assert connection.execute("SELECT sum(gas_l) FROM quarter").fetchone()[0] == meter.gas_l - 2_000_000
        peaks = dict(connection.execute("SELECT month, kw FROM month_peak").fetchall())
        assert peaks == {"2025-12": 2.5, "2026-02": 3.0}  # no NaN, no 1e300
        assert [r[0] for r in connection.execute("SELECT reason FROM segment")] == [
            "meter changed from 1SAG1100000001 to 1SAG1100000002"
        ]
        assert connection.execute("SELECT time FROM meter_state").fetchone()[0] == meter.sent[-1][3]
    finally:
        connection.close()


def test_import_of_the_hostile_stream_stores_exactly_the_honest_energy_and_says_why(tmp_path: Path):
    capture = tmp_path / "hostile.cap"
    meter = hostile_capture(capture)
    done = run(tmp_path, "import", str(capture), "--db", str(tmp_path / "m.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = done.stderr.strip().splitlines()[-1]
    assert "13 rejected (11 impossible, 2 wrong unit)" in summary, summary
    for reason, count in REFUSED.items():
        assert f"{count} {reason}" in summary, summary
    assert "wrong unit 'MWh', expected 'kWh'" in done.stderr and "impossible value nan kW" in done.stderr
    check_history(tmp_path / "m.sqlite", meter)


def test_record_replay_of_the_hostile_stream_stores_the_honest_energy_and_logs_each_refusal(tmp_path: Path):
    capture = tmp_path / "hostile.cap"
    meter = hostile_capture(capture)
    done = run(tmp_path, "record", "--replay", str(capture), "--fast", "--db", str(tmp_path / "m.sqlite"), "--rates",
               str(tmp_path / "rates.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    log = done.stderr
    assert "Traceback" not in log
    stopped = next(line for line in log.splitlines() if "stopped:" in line)
    assert "13 rejected (11 impossible, 2 wrong unit)" in stopped, stopped
    for reason, count in REFUSED.items():
        assert f"{count} {reason}" in stopped, stopped
    assert "2099-02-03 10:00:31 refused: meter time 26," in log and "days after the last accepted" in log
    assert "refused: 1-0:1.8.1 rose by 901 Wh in 1 s" in log
    assert "refused: 1-0:1.8.1 went down by 499 Wh" in log
    assert "gas reading refused: captured 2099-02-03 10:00:00" in log
    assert "taken, the next one confirmed it: meter time 2 h" in log
    check_history(tmp_path / "m.sqlite", meter)


def test_a_new_history_killed_just_after_its_first_telegrams_keeps_its_register_baseline(tmp_path: Path):
    """SIGKILL a minute before the first 5-minute save: the registers are stored, and a later run counts the
    energy from them to the Wh."""
    capture = tmp_path / "slow.cap"
    meter = Meter()
    capture.write_bytes(meter.honest(120))
    db = tmp_path / "m.sqlite"
    env = {"METER_TUI_DATA_DIR": str(tmp_path / "data"), "METER_TUI_RUN_DIR": str(tmp_path / "run"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # fmt: skip
    command = [sys.executable, "-m", "meter_tui", "record", "--replay", str(capture), "--db", str(db), "--rates",
               str(tmp_path / "rates.json")]  # fmt: skip
    record = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)

    def baseline() -> tuple[int, int] | None:
        if not db.exists():
            return None
        try:
            connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                return connection.execute("SELECT import_day_wh, time FROM meter_state").fetchone()
            finally:
                connection.close()
        except sqlite3.Error:
            return None

    try:
        wait_for(baseline, "the first commit of a new history", 60)
    finally:
        record.send_signal(signal.SIGKILL)
        record.wait(10)
    day_wh, _ = baseline()
    assert day_wh in [day for _, day, _, _ in meter.sent[:10]]  # from the first telegrams, well before 5 minutes
    done = run(tmp_path, "import", str(capture), "--db", str(db))
    assert done.returncode == 0, done.stderr
    connection = open_database(db, readonly=True)
    try:
        assert stored_wh(connection) == meter.energy_wh()  # nothing lost: from the first register on
    finally:
        connection.close()


def test_nan_in_a_month_peak_never_stops_saving(tmp_path: Path):
    """The telegram is refused by the parser; the history commits the ones around it."""
    meter = Meter()
    capture = tmp_path / "peak.cap"
    first = meter.honest(300)
    meter.tick()
    capture.write_bytes(first + meter.frame(**{"1-0_1_6_0": "(260202180000W)(NaN*kW)"}) + meter.honest(400))
    db = tmp_path / "m.sqlite"
    done = run(tmp_path, "record", "--replay", str(capture), "--fast", "--db", str(db), "--rates",
               str(tmp_path / "rates.json"))  # fmt: skip
    assert done.returncode == 0 and "cannot write" not in done.stderr, done.stderr
    connection = open_database(db, readonly=True)
    try:
        assert stored_wh(connection) == meter.energy_wh() == 700
        assert connection.execute("SELECT time FROM meter_state").fetchone()[0] == meter.sent[-1][3]
    finally:
        connection.close()


def test_an_error_of_the_parser_is_always_a_telegram_error():
    with pytest.raises(TelegramError):
        parse_telegram(Meter().frame(**{"1-0_1_7_0": "(1e999*kW)"}))


async def test_a_replay_at_real_time_does_not_wait_for_a_telegram_stamped_2099(tmp_path: Path):
    meter = Meter()
    capture = tmp_path / "future.cap"
    first = meter.honest(2)
    meter.tick()
    capture.write_bytes(first + meter.frame(stamp="990203100003W") + meter.honest(2))
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    source = ReplaySource(capture, speed=1.0, clock=lambda: now[0], sleep=sleep)
    await source.open()
    while await source.read():
        pass
    assert now[0] <= 60 + 3  # a minute for the hole, a second for each step of the meter


def test_a_refused_line_is_never_remembered_by_the_parser_s_line_memory():
    honest = Meter().frame()
    bad = Meter().frame(**{"1-0_1_7_0": "(NaN*kW)"})
    for _ in range(3):  # the honest lines around it are remembered; the bad one is read, and refused, every time
        parse_telegram(honest)
        with pytest.raises(ImplausibleError):
            parse_telegram(bad)


def test_a_cable_that_lies_twice_about_the_year_files_no_quarter_in_2099(tmp_path: Path):
    """Two CRC-valid telegrams stamped 2099 in a row (three stamped 2000) agree with each other, yet a clock a day
    off needs ten in a row: no quarter in 2099 (the report would bill 73 years of fixed fees). A meter unread for
    two days (the Pi off) is taken after ten telegrams, its energy exact."""
    meter = Meter()
    parts = [meter.honest(100)]
    for stamps in (["990203100000W", "990203100001W"], ["000102000000W", "000102000001W", "000102000002W"]):
        for stamp in stamps:
            meter.tick()
            parts.append(meter.frame(stamp))
        parts.append(meter.honest(50))
    parts.append(meter.honest(1, seconds=2 * 86_400, wh=9_000))
    parts.append(meter.honest(20))
    capture = tmp_path / "liar.cap"
    capture.write_bytes(b"".join(parts))
    done = run(tmp_path, "import", str(capture), "--db", str(tmp_path / "m.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "(and the 1 after it) refused: meter time 26," in done.stderr
    assert "(and the 2 after it) refused: meter time 2000-01-02" in done.stderr
    assert "taken, the next 9 confirmed it: meter time 2 d" in done.stderr, done.stderr
    connection = open_database(tmp_path / "m.sqlite", readonly=True)
    try:
        assert stored_wh(connection) == meter.energy_wh()
        first, last = connection.execute("SELECT min(start), max(start) FROM quarter").fetchone()
        assert START.timestamp() <= first and last < meter.moment.timestamp()
    finally:
        connection.close()
