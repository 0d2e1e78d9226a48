"""A simulated Belgian three-phase household meter, for the demo and for tests.

Deterministic: the load, solar and EV plans of a day and every second's noise are functions of (seed, date) and
(seed, second), so a live run that starts at any moment shows the same powers as a capture generated for that
moment. The meter's rules are kept: registers only grow, the tariff follows the local clock (weekdays
22:00-07:00 and weekends are night), 1-0:1.4.0 builds up within each clock quarter, 1-0:1.6.0 and 0-0:98.1.0 hold
the peaks of the quarters produced, gas and water are captured every 5 minutes, timestamps carry S/W across DST.
`truth` keeps what the simulator integrated, per local day, so imports and reports can be checked against it.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from meter_tui.p1.crc import crc16_arc

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
    heating: float  # gas m3 per hour while the heating runs
    showers: list[int] = field(default_factory=list)


def _noise(seed: int, second: int) -> float:
    """A cheap, repeatable pseudo-random number in [0, 1) for one second."""
    x = (second * 2654435761 + seed * 40503 + 12345) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 2246822519) & 0xFFFFFFFF
    x ^= x >> 13
    return x / 4294967296.0


class SimulatedMeter:
    """Produces one telegram per simulated second from `start` on."""

    def __init__(self, seed: int = 1, start: datetime | None = None, *, pv_kwp: float = 4.0) -> None:
        if start is None:
            start = datetime(2026, 1, 5, 0, 0, tzinfo=BRUSSELS)
        if start.tzinfo is None:
            start = start.replace(tzinfo=BRUSSELS)
        self.seed = seed
        self.pv_kwp = pv_kwp
        self._utc = int(start.astimezone(UTC).timestamp())
        rng = random.Random(seed)
        # Registers in Wh, starting where a meter a few years old would be.
        self.import_day_wh = rng.uniform(8_000_000, 12_000_000) / 1000 * 1000
        self.import_night_wh = rng.uniform(9_000_000, 14_000_000) / 1000 * 1000
        self.export_day_wh = rng.uniform(2_000_000, 5_000_000) / 1000 * 1000
        self.export_night_wh = rng.uniform(100_000, 400_000) / 1000 * 1000
        self.gas_m3 = round(rng.uniform(4000, 9000), 3)
        self.water_m3 = round(rng.uniform(300, 900), 3)
        self._quarter_wh = 0.0
        self._plans: dict[date, _DayPlan] = {}
        self.truth: dict[date, DayTruth] = {}
        local = self._local(self._utc)
        self._month = (local.year, local.month)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self._month_peak: tuple[datetime, float] = (month_start, 0.0)
        if local.day > 1:
            # Started mid-month: the days before had a peak too.
            peak_day = rng.randint(1, local.day - 1)
            self._month_peak = (month_start.replace(day=peak_day, hour=18, minute=30), round(rng.uniform(2.0, 4.5), 3))
        self._history = self._initial_history(rng, local)
        serial = f"1SIM{seed % 10**10:010d}".encode().hex().upper()
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

    def _initial_history(self, rng: random.Random, local: datetime) -> list[tuple[datetime, datetime, float]]:
        """Thirteen closed months before the start, so the demo shows a full capacity-tariff picture."""
        entries = []
        year, month = local.year, local.month
        for _ in range(13):
            closed = datetime(year, month, 1, tzinfo=BRUSSELS)
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            day = rng.randint(1, 27)
            peak = datetime(year, month, day, rng.choice((7, 8, 17, 18, 19, 20)), rng.choice((0, 15, 30, 45)))
            entries.append((closed, peak.replace(tzinfo=BRUSSELS), round(rng.uniform(2.1, 6.4), 3)))
        entries.reverse()
        return entries

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
        day_length = 12.25 + 4.25 * math.cos(year_angle)
        noon = 13.5 * 3600
        heating = max(0.0, 0.35 - 0.3 * math.cos(year_angle)) * (1.0 + 0.3 * rng.random())
        return _DayPlan(
            runs=runs,
            cloudiness=rng.choice((0.1, 0.3, 0.5, 0.8, 0.95)),
            sunrise=int(noon - day_length * 1800),
            sunset=int(noon + day_length * 1800),
            heating=heating,
            showers=[rng.randint(6 * 3600 + 1800, 8 * 3600), rng.randint(20 * 3600, 22 * 3600)],
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
            share = self.pv_kwp * 1000.0 * (math.sin(angle) ** 1.5) * clouds * 0.85 / 3
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

    def step(self, *, send: bool = True) -> bytes:
        """Advance one second and return that second's telegram (b"" with send=False: the meter still counts)."""
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
            wh = net / 3600.0
            if night:
                self.import_night_wh += wh
                truth.import_night_kwh += wh / 1000
            else:
                self.import_day_wh += wh
                truth.import_day_kwh += wh / 1000
            self._quarter_wh += wh
        else:
            wh = -net / 3600.0
            if night:
                self.export_night_wh += wh
                truth.export_night_kwh += wh / 1000
            else:
                self.export_day_wh += wh
                truth.export_day_kwh += wh / 1000
        self._gas_and_water(second, plan, truth, clock=clock, letter=letter)
        quarter_kw = self._quarter_wh * 4 / 1000
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
        if self._today is not None and (today[0], today[1]) != self._month:
            self._close_month(datetime(today[0], today[1], 1, tzinfo=BRUSSELS))
        self._today = today
        self._day_plan = self._plan(day)
        self._day_truth = self.truth.setdefault(day, DayTruth())

    def _close_quarter(self, utc: int, average_kw: float, truth: DayTruth) -> None:
        start = self._local(utc - _QUARTER + 1)
        average_kw = round(average_kw, 3)
        if average_kw > self._month_peak[1]:
            self._month_peak = (start, average_kw)
            self._peak_line = None
        if average_kw > truth.peak_kw:
            truth.peak_kw = average_kw
            truth.peak_start = start
        self._quarter_wh = 0.0

    def _close_month(self, closed: datetime) -> None:
        peak_time, peak_kw = self._month_peak
        self._history.append((closed, peak_time, peak_kw))
        del self._history[:-13]
        self._history_line = None
        self._month = (closed.year, closed.month)
        self._month_peak = (closed, 0.0)
        self._peak_line = None

    def _gas_and_water(
        self, second: int, plan: _DayPlan, truth: DayTruth, *, clock: time.struct_time, letter: str
    ) -> None:
        heating_on = 6 * 3600 <= second < 22 * 3600
        gas = plan.heating / 3600.0 if heating_on else plan.heating / 3600.0 * 0.2
        water = 0.0
        for shower in plan.showers:
            if shower <= second < shower + 480:
                gas += 0.9 / 3600.0
                water += 0.06 / 480
        if 19 * 3600 <= second < 19 * 3600 + 600:
            water += 0.02 / 600
        self.gas_m3 += gas
        self.water_m3 += water
        truth.gas_m3 += gas
        truth.water_m3 += water
        if self._utc % 300 == 0 or self._mbus_lines is None:
            # M-Bus meters report every 5 minutes: the telegram shows the last capture and its time.
            stamp = time.strftime("%y%m%d%H%M%S", clock) + letter
            self._mbus_lines = (
                "0-1:24.1.0(003)\r\n0-1:96.1.1(37464C4F32313233303838303237)\r\n0-1:24.4.0(1)\r\n"
                f"0-1:24.2.3({stamp})({self.gas_m3:09.3f}*m3)\r\n"
                "0-2:24.1.0(007)\r\n0-2:96.1.1(3853455430303030393631313733)\r\n"
                f"0-2:24.2.1({stamp})({self.water_m3:09.3f}*m3)\r\n!"
            )

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
            f"1-0:1.8.1({self.import_day_wh / 1000:010.3f}*kWh)\r\n"
            f"1-0:1.8.2({self.import_night_wh / 1000:010.3f}*kWh)\r\n"
            f"1-0:2.8.1({self.export_day_wh / 1000:010.3f}*kWh)\r\n"
            f"1-0:2.8.2({self.export_night_wh / 1000:010.3f}*kWh)\r\n"
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


def _stamp(moment: datetime) -> str:
    """A P1 timestamp: local time and S (summer) or W (winter)."""
    offset = moment.utcoffset()
    letter = "S" if offset is not None and offset >= timedelta(hours=2) else "W"
    return moment.strftime("%y%m%d%H%M%S") + letter
