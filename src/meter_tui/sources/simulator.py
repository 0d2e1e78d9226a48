"""A simulated Belgian three-phase household meter, for the demo and for tests.

Deterministic: the load, solar and EV plans of a day and every second's noise are functions of (seed, date) and
(seed, second), so a live run that starts at any moment shows the same powers as a capture generated for that
moment. The meter's rules are kept: registers only grow, the tariff follows the local clock (weekdays
22:00-07:00 and weekends are night), 1-0:1.4.0 builds up within each clock quarter, 1-0:1.6.0 and 0-0:98.1.0 hold
the peaks of the quarters it produced and nothing else (a new meter has no history), gas and water are captured
every 5 minutes, timestamps carry S/W across DST. A quarter's average is the difference of the registers as the
telegrams show them (whole Wh), so a history built from the telegrams finds the meter's peaks to the watt.

A meter can be resumed (`ResumePoint`): from its last telegram or from a history, it goes on with the same
registers, running quarter and peaks, as a real meter does while nobody reads it. The household follows the
Belgian seasons: solar from the sun's height and the day's length, gas from heating degree days, water from
showers, taps and appliances at varying times. `truth` keeps what the simulator integrated, per local day, so
imports and reports can be checked against it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.telegram import Telegram

BRUSSELS = ZoneInfo("Europe/Brussels")
_QUARTER = 900


@dataclass(slots=True)
class DayTruth:
    """What the simulated household used on one local day (kWh and m3), as integrated by the simulator."""

    import_day_kwh: float = 0.0
    import_night_kwh: float = 0.0
    export_day_kwh: float = 0.0
    export_night_kwh: float = 0.0
    gas_m3: float = 0.0
    water_m3: float = 0.0
    peak_kw: float = 0.0
    peak_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Run:
    """An appliance run: seconds from local midnight, length, power in W, phase (0-2, or 3 for all three)."""

    start: int
    length: int
    watts: float
    phase: int


@dataclass(slots=True)
class _DayPlan:
    runs: list[_Run]
    cloudiness: float
    sunrise: int
    sunset: int
    sun: float  # the sun's height at noon as a share of the panel's full output (0.3 in December, 0.9 in June)
    heating: float  # gas m3 per hour while the heating runs
    # (start, seconds, m3, gas m3 an hour to heat it): showers, taps, toilet, appliances.
    water: list[tuple[int, int, float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """What a meter shows at its last counted second: enough to go on as if it had never stopped."""

    time: datetime
    registers_wh: tuple[int, int, int, int]  # import day, import night, export day, export night
    gas_m3: float
    water_m3: float
    quarter_wh: int  # imported so far in the running quarter (1-0:1.4.0 x 900 s)
    month_peak: tuple[datetime, float] | None
    history: tuple[tuple[datetime, datetime, float], ...]  # 0-0:98.1.0: (month closed, peak start, kW)

    @classmethod
    def from_telegram(cls, telegram: Telegram) -> ResumePoint | None:
        """From a telegram of the simulated meter; None when it lacks what the meter needs to go on."""
        registers = (telegram.import_day_kwh, telegram.import_night_kwh, telegram.export_day_kwh,
                     telegram.export_night_kwh)  # fmt: skip
        if telegram.timestamp is None or any(r is None for r in registers):
            return None
        gas, water = telegram.gas, telegram.water
        peak = telegram.month_peak
        history = tuple(
            (next_month(entry.month), entry.time, entry.kw)
            for entry in telegram.peak_history or ()
            if entry.time is not None and entry.kw is not None
        )
        return cls(
            time=telegram.timestamp,
            registers_wh=tuple(round(r * 1000) for r in registers),  # type: ignore[arg-type, operator]
            gas_m3=gas.reading.value if gas is not None and gas.reading is not None else 0.0,
            water_m3=water.reading.value if water is not None and water.reading is not None else 0.0,
            quarter_wh=round((telegram.quarter_average_kw or 0.0) * 250),
            month_peak=(peak.time, peak.kw) if peak and peak.time and peak.kw is not None else None,
            history=history,
        )


def next_month(month: date) -> datetime:
    """Midnight of the first day of the month after `month`'s: when 0-0:98.1.0 says that month closed."""
    year, number = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    return datetime(year, number, 1, tzinfo=BRUSSELS)


def demo_serial(seed: int) -> str:
    """The serial number (0-0:96.1.1, decoded) of the household of `seed`: each seed is a meter of its own."""
    return f"1SIM{seed % 10**10:010d}"


def _noise(seed: int, second: int) -> float:
    """A cheap, repeatable pseudo-random number in [0, 1) for one second."""
    x = (second * 2654435761 + seed * 40503 + 12345) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 2246822519) & 0xFFFFFFFF
    x ^= x >> 13
    return x / 4294967296.0


class SimulatedMeter:
    """Produces one telegram per simulated second from `start` on."""

    def __init__(
        self, seed: int = 1, start: datetime | None = None, *, pv_kwp: float = 4.0, resume: ResumePoint | None = None
    ) -> None:
        if resume is not None:
            start = resume.time + timedelta(seconds=1)
        if start is None:
            start = datetime(2026, 1, 5, 0, 0, tzinfo=BRUSSELS)
        if start.tzinfo is None:
            start = start.replace(tzinfo=BRUSSELS)
        self.seed = seed
        self.pv_kwp = pv_kwp
        self._utc = int(start.astimezone(UTC).timestamp())
        rng = random.Random(seed)
        # Registers in Wh, starting where a meter a few years old would be.
        self.import_day_wh = float(round(rng.uniform(8_000_000, 12_000_000)))
        self.import_night_wh = float(round(rng.uniform(9_000_000, 14_000_000)))
        self.export_day_wh = float(round(rng.uniform(2_000_000, 5_000_000)))
        self.export_night_wh = float(round(rng.uniform(100_000, 400_000)))
        self.gas_m3 = round(rng.uniform(4000, 9000), 3)
        self.water_m3 = round(rng.uniform(300, 900), 3)
        self._plans: dict[date, _DayPlan] = {}
        self.truth: dict[date, DayTruth] = {}
        local = self._local(self._utc)
        self._month = (local.year, local.month)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self._month_peak: tuple[datetime, float] = (month_start, 0.0)
        self._history: list[tuple[datetime, datetime, float]] = []
        if resume is not None:
            self.import_day_wh, self.import_night_wh, self.export_day_wh, self.export_night_wh = map(
                float, resume.registers_wh
            )
            self.gas_m3, self.water_m3 = resume.gas_m3, resume.water_m3
            self._month = (resume.time.year, resume.time.month)
            if resume.month_peak is not None:
                self._month_peak = resume.month_peak
            self._history = list(resume.history)
        # The running quarter's import is counted from the registers as shown (whole Wh).
        self._quarter_base = self._import_shown_wh()
        if resume is not None and self._utc % _QUARTER:
            self._quarter_base -= resume.quarter_wh
        serial = demo_serial(seed).encode().hex().upper()
        self._header = f"/FLU5\\253769484_A\r\n\r\n0-0:96.1.4(50217)\r\n0-0:96.1.1({serial})\r\n"
        self._offset = 3600
        self._offset_from = self._offset_until = 0
        self._today: tuple[int, int, int] | None = None
        self._day_plan = self._plan(local.date())
        self._day_truth = DayTruth()
        self._peak_line: str | None = None
        self._history_line: str | None = None
        self._mbus_lines: str | None = None

    @property
    def now(self) -> datetime:
        """The simulated time of the next telegram, in Europe/Brussels."""
        return self._local(self._utc)

    @staticmethod
    def _local(utc_seconds: int) -> datetime:
        return datetime.fromtimestamp(utc_seconds, UTC).astimezone(BRUSSELS)

    def _plan(self, day: date) -> _DayPlan:
        plan = self._plans.get(day)
        if plan is None:
            plan = self._plans[day] = self._make_plan(day)
            if len(self._plans) > 4:
                del self._plans[min(self._plans)]
        return plan

    def _make_plan(self, day: date) -> _DayPlan:
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        weekend = day.weekday() >= 5
        runs = [
            _Run(rng.randint(6 * 3600 + 900, 8 * 3600), 180, 2000, 0),  # kettle
            _Run(rng.randint(17 * 3600 + 1800, 18 * 3600 + 1800), 3600 + rng.randint(0, 1800), 2300, 1),  # cooking
            _Run(rng.randint(18 * 3600, 19 * 3600), 900, 1200, 2),  # oven
            _Run(rng.randint(19 * 3600, 23 * 3600), 4 * 3600, 150, 3),  # lights and television
        ]
        if weekend or rng.random() < 0.4:
            runs.append(_Run(rng.randint(9 * 3600, 15 * 3600), 5400, 500, 2))  # washing machine
            runs.append(_Run(rng.randint(9 * 3600, 15 * 3600) + 5400, 900, 2000, 2))  # its heating phase
        if rng.random() < 0.6:
            runs.append(_Run(rng.randint(20 * 3600, 22 * 3600), 7200, 1800, 0))  # dishwasher
        if rng.random() < 0.45:
            # An EV charging at 7.4 kW on L1: the run that threatens a new month peak.
            runs.append(_Run(rng.randint(17 * 3600, 21 * 3600), rng.randint(1800, 5400), 7400, 0))
        year_angle = 2 * math.pi * (day.timetuple().tm_yday - 172) / 365.0
        summer = math.cos(year_angle)  # 1 at the June solstice, -1 at the December one
        # Brussels (50.8 N): 16.5 h of day and the sun 62 degrees high at noon in June, 8 h and 16 degrees in December.
        day_length = 12.25 + 4.25 * summer
        noon_height = math.radians(39.2 + 23.44 * summer)
        noon = 13.5 * 3600
        # Heating degree days (base 16.5 C) from a day's mean temperature: 3 C mid-January, 18 C mid-July.
        temperature = 10.5 + 7.5 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 196) / 365.0) + rng.gauss(0, 2.5)
        degree_days = max(0.0, 16.5 - temperature)
        clouds = (0.1, 0.3, 0.5, 0.8, 0.95)
        cloud_weights = (3, 3, 2, 1, 1) if summer > 0.3 else (1, 1, 2, 3, 3) if summer < -0.3 else (2, 2, 2, 2, 2)
        shower = 0.9  # gas m3 an hour while hot water runs
        water = [(rng.randint(6 * 3600 + 1800, 8 * 3600), 480, rng.uniform(0.04, 0.08), shower)]  # morning shower
        water += [
            (rng.randint(19 * 3600, 22 * 3600), 480, rng.uniform(0.04, 0.08), shower) for _ in range(rng.randint(0, 2))
        ]
        water += [(rng.randint(7 * 3600, 23 * 3600), 20, 0.006, 0.0) for _ in range(rng.randint(6, 14))]  # toilet
        water += [
            (rng.randint(8 * 3600, 21 * 3600), 60, rng.uniform(0.002, 0.01), 0.0) for _ in range(rng.randint(4, 9))
        ]  # taps
        water += [(run.start, 600, 0.045, 0.0) for run in runs if run.watts == 500]  # the washing machine fills
        water += [(run.start, 300, 0.012, 0.0) for run in runs if run.watts == 1800]  # the dishwasher
        return _DayPlan(
            runs=runs,
            cloudiness=rng.choices(clouds, cloud_weights)[0],
            sunrise=int(noon - day_length * 1800),
            sunset=int(noon + day_length * 1800),
            sun=math.sin(noon_height),
            heating=0.55 * degree_days / 16.0,  # about 0.55 m3 a degree day, burnt over 16 heating hours
            water=water,
        )

    def _phase_watts(self, second: int, plan: _DayPlan) -> tuple[float, float, float]:
        """Net power per phase in W (negative = injecting) at `second` seconds after local midnight."""
        noise = _noise(self.seed, self._utc)
        base = 120.0 + 40.0 * noise + (90.0 if (second // 60) % 60 < 20 else 0.0)  # the fridge cycles
        l1, l2, l3 = base * 0.5, base * 0.3, base * 0.2
        for run in plan.runs:
            if run.start <= second < run.start + run.length:
                if run.phase == 3:
                    third = run.watts / 3
                    l1, l2, l3 = l1 + third, l2 + third, l3 + third
                elif run.phase == 0:
                    l1 += run.watts
                elif run.phase == 1:
                    l2 += run.watts
                else:
                    l3 += run.watts
        if plan.sunrise < second < plan.sunset:
            angle = math.pi * (second - plan.sunrise) / (plan.sunset - plan.sunrise)
            clouds = 1.0 - plan.cloudiness * (0.6 + 0.4 * _noise(self.seed + 7, self._utc // 120))
            share = self.pv_kwp * 1000.0 * plan.sun * (math.sin(angle) ** 1.5) * clouds * 0.95 / 3
            return (l1 - share, l2 - share, l3 - share)
        return (l1, l2, l3)

    def _clock(self) -> tuple[time.struct_time, str]:
        """Local wall-clock fields of the current second and the S/W letter; the offset is looked up hourly."""
        utc = self._utc
        if utc >= self._offset_until or utc < self._offset_from:
            moment = self._local(utc)
            offset = moment.utcoffset()
            self._offset = int(offset.total_seconds()) if offset is not None else 3600
            self._offset_from = utc - utc % 3600
            self._offset_until = self._offset_from + 3600
        return time.gmtime(utc + self._offset), ("S" if self._offset == 7200 else "W")

    def step(self, *, send: bool = True, span: int = 1) -> bytes:
        """Advance `span` seconds (1, or a whole minute that starts on one, for fast histories) at the power of the
        first, and return the telegram of the last (b"" with send=False: the meter still counts)."""
        utc = self._utc
        clock, letter = self._clock()
        today = (clock.tm_year, clock.tm_mon, clock.tm_mday)
        if today != self._today:
            self._new_day(today)
        plan, truth = self._day_plan, self._day_truth
        second = clock.tm_hour * 3600 + clock.tm_min * 60 + clock.tm_sec
        phases = self._phase_watts(second, plan)
        net = phases[0] + phases[1] + phases[2]
        night = clock.tm_wday >= 5 or clock.tm_hour >= 22 or clock.tm_hour < 7
        if net >= 0:
            wh = net * span / 3600.0
            if night:
                self.import_night_wh += wh
                truth.import_night_kwh += wh / 1000
            else:
                self.import_day_wh += wh
                truth.import_day_kwh += wh / 1000
        else:
            wh = -net * span / 3600.0
            if night:
                self.export_night_wh += wh
                truth.export_night_kwh += wh / 1000
            else:
                self.export_day_wh += wh
                truth.export_day_kwh += wh / 1000
        self._gas_and_water(second, plan, truth, span=span, clock=clock, letter=letter)
        quarter_kw = (self._import_shown_wh() - self._quarter_base) * 4 / 1000
        utc = self._utc = utc + span - 1
        if span > 1:
            clock, letter = self._clock()
        telegram = b""
        if send:
            stamp = "%02d%02d%02d%02d%02d%02d%s" % (  # noqa: UP031 - the fastest way, once a simulated second
                clock.tm_year % 100,
                clock.tm_mon,
                clock.tm_mday,
                clock.tm_hour,
                clock.tm_min,
                clock.tm_sec,
                letter,
            )
            telegram = self._format(stamp, night, phases, net, quarter_kw)
        if utc % _QUARTER == _QUARTER - 1:
            self._close_quarter(utc, quarter_kw, truth)
        self._utc += 1
        return telegram

    def _new_day(self, today: tuple[int, int, int]) -> None:
        day = date(*today)
        if (today[0], today[1]) != self._month:
            self._close_month(datetime(today[0], today[1], 1, tzinfo=BRUSSELS))
        self._today = today
        self._day_plan = self._plan(day)
        self._day_truth = self.truth.setdefault(day, DayTruth())

    def _close_quarter(self, utc: int, average_kw: float, truth: DayTruth) -> None:
        start = self._local(utc - _QUARTER + 1)
        average_kw = round(average_kw, 3)
        self._quarter_base = self._import_shown_wh()
        if average_kw > self._month_peak[1]:
            self._month_peak = (start, average_kw)
            self._peak_line = None
        if average_kw > truth.peak_kw:
            truth.peak_kw = average_kw
            truth.peak_start = start

    def _import_shown_wh(self) -> int:
        """Import as the telegrams show it, in whole Wh: what a history finds from their differences."""
        return int(self.import_day_wh) + int(self.import_night_wh)

    def _close_month(self, closed: datetime) -> None:
        peak_time, peak_kw = self._month_peak
        self._history.append((closed, peak_time, peak_kw))
        del self._history[:-13]
        self._history_line = None
        self._month = (closed.year, closed.month)
        self._month_peak = (closed, 0.0)
        self._peak_line = None

    def _gas_and_water(
        self, second: int, plan: _DayPlan, truth: DayTruth, *, span: int, clock: time.struct_time, letter: str
    ) -> None:
        heating_on = 6 * 3600 <= second < 22 * 3600
        gas = plan.heating / 3600.0 if heating_on else plan.heating / 3600.0 * 0.2
        gas += 0.15 / 57600.0 if heating_on else 0.0  # cooking
        water = 0.0
        for start, length, m3, heating in plan.water:
            if start <= second < start + length:
                water += m3 / length
                gas += heating / 3600.0
        utc = self._utc
        # Captured at the 5-minute mark, before that second is used: a day's gas is what was used in it.
        if (utc + span - 1) // 300 != (utc - 1) // 300 or self._mbus_lines is None:
            # M-Bus meters report every 5 minutes: the telegram shows the last capture and its time.
            stamp = time.strftime("%y%m%d%H%M%S", clock) + letter
            self._mbus_lines = (
                "0-1:24.1.0(003)\r\n0-1:96.1.1(37464C4F32313233303838303237)\r\n0-1:24.4.0(1)\r\n"
                f"0-1:24.2.3({stamp})({self.gas_m3:09.3f}*m3)\r\n"
                "0-2:24.1.0(007)\r\n0-2:96.1.1(3853455430303030393631313733)\r\n"
                f"0-2:24.2.1({stamp})({self.water_m3:09.3f}*m3)\r\n!"
            )
        self.gas_m3 += gas * span
        self.water_m3 += water * span
        truth.gas_m3 += gas * span
        truth.water_m3 += water * span

    def _format(
        self, stamp: str, night: bool, phases: tuple[float, float, float], net: float, quarter_kw: float
    ) -> bytes:
        if self._peak_line is None:
            peak_time, peak_kw = self._month_peak
            self._peak_line = f"1-0:1.6.0({_stamp(peak_time)})({peak_kw:06.3f}*kW)\r\n"
        if self._history_line is None:
            entries = "".join(f"({_stamp(c)})({_stamp(p)})({kw:06.3f}*kW)" for c, p, kw in self._history)
            self._history_line = f"0-0:98.1.0({len(self._history)})(1-0:1.6.0)(1-0:1.6.0){entries}\r\n"
        l1, l2, l3 = phases
        wave = 3.0 * math.sin(self._utc / 600)
        v1, v2, v3 = 230.0 + wave - 0.002 * l1, 230.5 - wave - 0.002 * l2, 229.5 + wave / 2 - 0.002 * l3
        body = (
            f"{self._header}0-0:1.0.0({stamp})\r\n"
            f"1-0:1.8.1({int(self.import_day_wh) / 1000:010.3f}*kWh)\r\n"
            f"1-0:1.8.2({int(self.import_night_wh) / 1000:010.3f}*kWh)\r\n"
            f"1-0:2.8.1({int(self.export_day_wh) / 1000:010.3f}*kWh)\r\n"
            f"1-0:2.8.2({int(self.export_night_wh) / 1000:010.3f}*kWh)\r\n"
            f"0-0:96.14.0({'0002' if night else '0001'})\r\n"
            f"1-0:1.4.0({quarter_kw:06.3f}*kW)\r\n"
            f"{self._peak_line}{self._history_line}"
            f"1-0:1.7.0({max(net, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:2.7.0({max(-net, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:21.7.0({max(l1, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:41.7.0({max(l2, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:61.7.0({max(l3, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:22.7.0({max(-l1, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:42.7.0({max(-l2, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:62.7.0({max(-l3, 0.0) / 1000:06.3f}*kW)\r\n"
            f"1-0:32.7.0({v1:05.1f}*V)\r\n1-0:52.7.0({v2:05.1f}*V)\r\n1-0:72.7.0({v3:05.1f}*V)\r\n"
            f"1-0:31.7.0({abs(l1) / v1:06.2f}*A)\r\n"
            f"1-0:51.7.0({abs(l2) / v2:06.2f}*A)\r\n"
            f"1-0:71.7.0({abs(l3) / v3:06.2f}*A)\r\n"
            "0-0:96.3.10(1)\r\n0-0:17.0.0(999.9*kW)\r\n1-0:31.4.0(999*A)\r\n0-0:96.13.0()\r\n"
            f"{self._mbus_lines}"
        ).encode("ascii")
        return body + b"%04X\r\n" % crc16_arc(body)

    def run(self, seconds: int, *, every: int = 1) -> list[bytes]:
        """`seconds` seconds of metering; a telegram every `every` seconds (tests that cover months use more)."""
        return [raw for index in range(seconds) if (raw := self.step(send=index % every == every - 1))]

    def run_until(self, end: datetime, *, every: int = 60) -> Iterator[bytes]:
        """Count on to `end` fast, a minute at a time where a minute starts, with a telegram at the last second of
        every `every` seconds (a multiple of 60) and at `end`: a history in a fraction of the time a second at a time
        takes, whose last telegram is the meter as it is at `end`, so that a live demo going on from it a second
        later brings no minute of energy that looks like a gap."""
        stop = int(end.timestamp())
        while self._utc < stop:
            utc = self._utc
            span = 60 if utc % 60 == 0 and utc + 60 <= stop else 1
            raw = self.step(send=(utc + span) % every == 0 or utc + span >= stop, span=span)
            if raw:
                yield raw


def _stamp(moment: datetime) -> str:
    """A P1 timestamp: local time and S (summer) or W (winter)."""
    offset = moment.utcoffset()
    letter = "S" if offset is not None and offset >= timedelta(hours=2) else "W"
    return moment.strftime("%y%m%d%H%M%S") + letter
