"""The event log: what happened while nobody was looking (a history error, a rejected telegram, prices saved, a
worker restarted), with the meter's time when there is one. In memory, newest last, at most `EVENTS_KEPT`; the
owner also keeps them in the history, from which the next start restores them."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from meter_tui.energy.capacity import MINIMUM_PEAK_KW, QuarterForecast
from meter_tui.p1.telegram import MbusReading, Telegram

EVENTS_KEPT = 200


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    time: datetime
    severity: str  # "information", "warning" or "error", as Textual's notifications
    text: str


class EventLog:
    def __init__(self, kept: int = EVENTS_KEPT) -> None:
        self._events: deque[LoggedEvent] = deque(maxlen=kept)
        self.count = 0  # events ever logged: a screen redraws when it changes

    def add(self, text: str, severity: str = "information", at: datetime | None = None) -> LoggedEvent:
        event = LoggedEvent(at or datetime.now().astimezone(), severity, text)
        self._events.append(event)
        self.count += 1
        return event

    def restore(self, older: list[LoggedEvent]) -> None:
        """Events of earlier runs (from the history), before those of this one."""
        self._events = deque([*older, *self._events], maxlen=self._events.maxlen)
        self.count += len(older)

    def newest_first(self) -> tuple[LoggedEvent, ...]:
        return tuple(reversed(self._events))


class Throttle:
    """Repeated lines of one kind (a rejected telegram, a source that fails) said at most `burst` times per
    `interval`; the rest are counted and said as one line, "N more like this", when the interval is over. A stream
    of tiny bogus frames, or a flood of connections, then writes a few lines a minute instead of megabytes of log
    on an SD card, and the lines that matter stay findable."""

    def __init__(
        self, say: Callable[[str], None], *, interval: float = 60.0, burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._say = say
        self.interval = interval
        self.burst = burst
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def __call__(self, kind: str, text: str) -> None:
        now = self._clock()
        self.tick(now)
        window = self._windows.get(kind)
        if window is None:
            window = self._windows[kind] = _Window(now)
        if window.said < self.burst:
            window.said += 1
            self._say(text)
        else:
            window.held += 1
            window.last = text

    def tick(self, now: float | None = None) -> None:
        """End the intervals that are over, saying what each held back (call it now and then: on every event)."""
        now = self._clock() if now is None else now
        for kind, window in list(self._windows.items()):
            if now - window.start >= self.interval:
                del self._windows[kind]
                self._summary(window)

    def flush(self) -> None:
        """Say everything held back (at stop)."""
        windows, self._windows = self._windows, {}
        for window in windows.values():
            self._summary(window)

    def _summary(self, window: _Window) -> None:
        if window.held:
            self._say(f"{window.held} more like this in {self.interval:g} s, the last: {window.last}")


@dataclass(slots=True)
class _Window:
    start: float
    said: int = 0
    held: int = 0
    last: str = ""


SOLAR_SECONDS = 300  # export (or none) this long before solar production is said to start (or stop)


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """Something the telegrams say happened, in words, for the event log (and a notification if not information)."""

    severity: str
    text: str


WATER_LEAK_HOURS = 2.0  # water flowing this long without a pause is said to be a leak (config: [alerts])


class LeakWatch:
    """Water that never stops: a water meter's 5-minute readings that go up every time, without one that stands
    still, for `hours` (a running toilet, a burst pipe in the garden) is said once, until the water pauses."""

    def __init__(self, hours: float = WATER_LEAK_HOURS) -> None:
        self.hours = hours
        self._seen: tuple[datetime, float] | None = None  # the latest reading: its time and value
        self._since: tuple[datetime, float] | None = None  # the reading the flow started from
        self._said = False

    def observe(self, reading: MbusReading | None, events: list[MeterEvent]) -> None:
        if reading is None or reading.time is None or (self._seen is not None and reading.time <= self._seen[0]):
            return  # no water meter, or the same 5-minute reading again
        before, self._seen = self._seen, (reading.time, reading.value)
        if before is None:
            return
        if reading.value <= before[1]:  # a pause: the water stood still for five minutes
            self._since, self._said = None, False
            return
        if self._since is None:
            self._since = before
        hours = (reading.time - self._since[0]).total_seconds() / 3600
        if hours >= self.hours and not self._said:
            self._said = True
            litres = (reading.value - self._since[1]) * 1000
            events.append(MeterEvent("warning", f"Water leak? Water has flowed without a pause for {hours:.1f} h, "
                                                f"since {self._since[0]:%H:%M} ({litres:.0f} l)"))  # fmt: skip


class MeterWatch:
    """Finds the events in the stream of telegrams: a new month peak (the meter's 1-0:1.6.0 goes up), a quarter
    heading for one (once per quarter), a new day peak (a finished quarter above the day's earlier ones), solar
    production starting and stopping, a water leak. Pure bookkeeping over what the meter said; runs on the store
    thread."""

    def __init__(self) -> None:
        self._peak: tuple[datetime | None, float | None] | None = None
        self._warned_quarter: datetime | None = None
        self._quarter: tuple[datetime, float] | None = None  # the running quarter's start and its latest 1-0:1.4.0
        self._day_best: tuple[object, float] | None = None  # (day, highest finished quarter of it)
        self._exporting: bool | None = None
        self._since: datetime | None = None  # when export started or stopped, before it counts
        self.leak = LeakWatch()

    def observe(
        self, telegram: Telegram, status: QuarterForecast | None, day_best: float | None = None
    ) -> list[MeterEvent]:
        """One telegram and the running quarter's forecast from it; `day_best` seeds the day's highest finished
        quarter (from the history) on the first telegram of a day."""
        time = telegram.timestamp
        if time is None:
            return []
        events: list[MeterEvent] = []
        peak = telegram.month_peak
        self._month_peak((peak.time, peak.kw) if peak is not None else None, events)
        start = status.start if status is not None else None
        likely = (status.projected_kw, status.threshold_kw) if status is not None and status.new_peak_likely else None
        self._likely(start, likely, events)
        self._day_peak(time, start, status.average_kw if status is not None else None, day_best, events)
        self._solar(time, telegram.power_export_kw or 0.0, events)
        water = telegram.water
        self.leak.observe(water.reading if water is not None else None, events)
        return events

    def _month_peak(self, peak: tuple[datetime | None, float | None] | None, events: list[MeterEvent]) -> None:
        before, self._peak = self._peak, peak
        if before is None or peak is None or peak == before or peak[1] is None or peak[0] is None:
            return
        same_month = before[0] is not None and (before[0].year, before[0].month) == (peak[0].year, peak[0].month)
        if same_month and before[1] is not None and peak[1] > before[1]:
            text = f"New month peak {peak[1]:.3f} kW, the quarter of {peak[0]:%H:%M}"
            if peak[1] < MINIMUM_PEAK_KW:  # billed as 2.5 kW all the same: nothing to warn about
                events.append(MeterEvent("information", f"{text} (under {MINIMUM_PEAK_KW} kW: costs nothing)"))
            else:
                events.append(MeterEvent("warning", text))

    def _likely(self, start: datetime | None, likely: tuple[float, float] | None, events: list[MeterEvent]) -> None:
        if likely is None or start is None or start == self._warned_quarter:
            return
        self._warned_quarter = start
        projected, threshold = likely
        events.append(MeterEvent("warning", f"A new month peak is likely: the quarter of {start:%H:%M} heads for "
                                            f"{projected:.3f} kW, above {threshold:.3f} kW"))  # fmt: skip

    def _day_peak(self, time: datetime, start: datetime | None, kw: float | None, seed: float | None,
                  events: list[MeterEvent]) -> None:  # fmt: skip
        day = time.date()
        if self._day_best is None or self._day_best[0] != day:
            self._day_best = (day, seed or 0.0)
        finished, self._quarter = self._quarter, (start, kw) if start is not None and kw is not None else None
        if finished is None or start is None or finished[0] == start or finished[0].date() != day:
            return
        if finished[1] > self._day_best[1]:
            self._day_best = (day, finished[1])
            events.append(MeterEvent("information", f"New day peak {finished[1]:.3f} kW, the quarter of "
                                                    f"{finished[0]:%H:%M}"))  # fmt: skip

    def _solar(self, time: datetime, export_kw: float, events: list[MeterEvent]) -> None:
        exporting = export_kw > 0.0
        if self._exporting is None:
            self._exporting, self._since = exporting, None
            return
        if exporting == self._exporting:
            self._since = None
            return
        if self._since is None:
            self._since = time
        elif (time - self._since).total_seconds() >= SOLAR_SECONDS:
            self._exporting, self._since = exporting, None
            events.append(MeterEvent("information", f"Solar production started ({export_kw:.3f} kW out)" if exporting
                                     else "Solar production stopped: nothing exported for 5 minutes"))  # fmt: skip


def by_reason(counts: dict[str, int]) -> str:
    """Refusals counted by reason, as a source line or a log says them: ' (2 CRC, 1 impossible)'; '' for none."""
    if not counts:
        return ""
    return " (" + ", ".join(f"{count} {reason}" for reason, count in sorted(counts.items(), key=lambda i: -i[1])) + ")"
