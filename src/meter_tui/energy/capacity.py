"""The Flemish capacity tariff, as pure functions over what the meter says.

A month is billed on its highest quarter-hour average import (at least 2.5 kW); the bill uses the average of the
last 12 months' peaks times a price per kW per year. Inside the running quarter, with t seconds gone, D the
meter's 1-0:1.4.0, P the power now and M the month peak so far:
    projected average if P holds:  D + P * (900 - t) / 900
    headroom (average power still allowed for the rest of the quarter without a new peak): (M - D) * 900 / (900 - t)
M is taken as at least 2.5 kW: below that a higher peak costs nothing, so it is no reason to warn. The headroom is
also capped by what the connection can carry (`connection`): near a quarter's end the formula alone allows hundreds
of kW, which no household connection delivers.

A month's billed peak counts in the 12-month average of 12 monthly bills, each 1/12 of the yearly price: over the
next 12 months it costs  kW x price per kW per year / 12, and a higher peak costs its difference the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

QUARTER_SECONDS = 900
MINIMUM_PEAK_KW = 2.5
PHASE_V = 230.0
# Fluvius' usual household connections when nothing says which one this is: a single phase of 40 A (9.2 kVA), a
# 3N400 V connection of 3x25 A (17.3 kVA, the standard for new ones), an older 3x230 V one of 3x40 A (15.9 kVA).
ASSUMED_A = {1: 40.0, 3: 25.0}
ASSUMED_DELTA_A = 40.0


@dataclass(frozen=True, slots=True)
class Connection:
    """What the connection carries, in kW, and how that is known (said beside the headroom)."""

    kw: float
    known_from: str  # "the meter's power limiter", "main_fuse 3x40", "the meter's fuse, 3x25 A", "assumed 3x25 A"
    assumed: bool = False


# The Flemish capacity tariff exists from this month on (VREG: "Sinds 2023 ..."): a month before it has no capacity
# charge, no 2.5 kW floor, and its peak does not count in the 12-month average of the months after it.
CAPACITY_START = date(2023, 1, 1)


def capacity_billed(month: date) -> bool:
    """Whether the month of `month` is under the capacity tariff (from January 2023 on)."""
    return month.replace(day=1) >= CAPACITY_START


@dataclass(frozen=True, slots=True)
class QuarterForecast:
    start: datetime
    seconds_in: int
    seconds_left: int
    average_kw: float
    power_kw: float
    projected_kw: float
    threshold_kw: float
    headroom_kw: float
    new_peak_certain: bool
    new_peak_likely: bool
    connection: Connection | None = None  # what the connection carries

    @property
    def limit_kw(self) -> float | None:
        return self.connection.kw if self.connection is not None else None

    @property
    def progress(self) -> float:
        return self.seconds_in / QUARTER_SECONDS

    @property
    def allowed_kw(self) -> float:
        """The average power still allowed for the rest of the quarter: the headroom, within the connection."""
        return min(self.headroom_kw, self.limit_kw) if self.limit_kw is not None else self.headroom_kw

    @property
    def limited(self) -> bool:
        """The connection, not the month peak, sets what may be drawn."""
        return self.limit_kw is not None and self.limit_kw < self.headroom_kw


def peak_cost_eur(kw: float, price_kw_year: float) -> float:
    """What a month peak adds to the capacity bills of the next 12 months (floored at 2.5 kW like the bill)."""
    return max(kw, MINIMUM_PEAK_KW) * price_kw_year / 12


def extra_peak_cost_eur(new_kw: float, month_peak_kw: float | None, price_kw_year: float) -> float:
    """What a quarter of `new_kw` would add over the next 12 months, above the month peak so far (0 if below)."""
    return max(peak_cost_eur(new_kw, price_kw_year) - peak_cost_eur(month_peak_kw or 0.0, price_kw_year), 0.0)


def connection(
    limiter_kw: float | None, main_fuse: str | None, *, meter_fuse_a: float | None = None, phases: int = 3,
    grid_v: int | None = None,
) -> Connection:  # fmt: skip
    """What the connection carries, from the best thing known: the meter's power limiter (0-0:17.0.0, 99.999 =
    none), else `main_fuse` as 'PxA' from the config (3x40: three phases of 40 A), else the meter's fuse
    supervision (1-0:31.4.0, 999.99 = none) on its `phases`, else a usual Fluvius connection of that many phases,
    said to be assumed. `grid_v` 230 is a three-phase 3x230 V grid (no neutral): √3 x 230 V per ampere."""
    if limiter_kw is not None and 0 < limiter_kw < 99.9:
        return Connection(limiter_kw, "the meter's power limiter")
    if main_fuse:
        count, _, amps = main_fuse.lower().partition("x")
        return Connection(_fuse_kw(int(count), float(amps), grid_v), f"main_fuse {main_fuse}")
    count = 3 if phases >= 2 else 1
    if meter_fuse_a is not None and 0 < meter_fuse_a < 999:
        return Connection(_fuse_kw(count, meter_fuse_a, grid_v), f"the meter's fuse, {count}x{meter_fuse_a:g} A")
    amps = ASSUMED_DELTA_A if count == 3 and grid_v == 230 else ASSUMED_A[count]
    return Connection(_fuse_kw(count, amps, grid_v), f"assumed {count}x{amps:g} A", assumed=True)


def _fuse_kw(phases: int, amps: float, grid_v: int | None) -> float:
    volts = math.sqrt(3) * PHASE_V if phases == 3 and grid_v == 230 else phases * PHASE_V
    return volts * amps / 1000


def peak_quarter(stamp: datetime, seen: datetime, kw: float) -> datetime:
    """The start of the quarter a 1-0:1.6.0 stamp names, seen in a telegram of time `seen`.

    The stamp is the start of the peak quarter (as 0-0:98.1.0's entries show: June's peak at 1 June 00:30), and a
    quarter is only known once it is over. A stamp that a telegram shows before its quarter could have ended is the
    quarter's end: a meter showing 1 April 00:00 at 00:00:05 speaks of 31 March 23:45-24:00, March's quarter. Both
    readings agree on every other stamp, so the month a peak is filed under is right for either kind of firmware.
    A zero is no peak but the register reset at the month's start, stamped with it: it names its own month.
    """
    quarter = timedelta(seconds=QUARTER_SECONDS)
    if kw > 0 and seen.astimezone(UTC) < stamp.astimezone(UTC) + quarter:
        return (stamp.astimezone(UTC) - quarter).astimezone(stamp.tzinfo)
    return stamp


def quarter_start(moment: datetime) -> datetime:
    """The clock quarter (:00, :15, :30, :45) that `moment` falls in, in the zone of `moment`."""
    utc = moment.astimezone(UTC)
    floored = utc - timedelta(minutes=utc.minute % 15, seconds=utc.second, microseconds=utc.microsecond)
    return floored.astimezone(moment.tzinfo)


def forecast(
    moment: datetime, average_kw: float, power_kw: float, month_peak_kw: float | None,
    limit: Connection | None = None,
) -> QuarterForecast:  # fmt: skip
    """The running quarter at `moment` (meter time) from the meter's own 1-0:1.4.0, 1-0:1.7.0 and 1-0:1.6.0."""
    start = quarter_start(moment)
    seconds_in = min(int((moment - start).total_seconds()), QUARTER_SECONDS)
    left = QUARTER_SECONDS - seconds_in
    threshold = max(month_peak_kw or 0.0, MINIMUM_PEAK_KW)
    projected = average_kw + power_kw * left / QUARTER_SECONDS
    headroom = max((threshold - average_kw) * QUARTER_SECONDS / left, 0.0) if left > 0 else 0.0
    certain = average_kw > threshold
    return QuarterForecast(
        start=start,
        seconds_in=seconds_in,
        seconds_left=left,
        average_kw=average_kw,
        power_kw=power_kw,
        projected_kw=projected,
        threshold_kw=threshold,
        headroom_kw=headroom,
        new_peak_certain=certain,
        new_peak_likely=certain or projected > threshold,
        connection=limit,
    )


@dataclass(frozen=True, slots=True)
class MonthPeakValue:
    month: date  # first day of the month
    kw: float
    time: datetime | None
    source: str  # "meter" (1-0:1.6.0 / 0-0:98.1.0) or "quarters" (computed from stored quarters)

    @property
    def billed_kw(self) -> float:
        return max(self.kw, MINIMUM_PEAK_KW)


@dataclass(frozen=True, slots=True)
class CapacitySummary:
    months: tuple[MonthPeakValue, ...]  # the months that count, oldest first (at most 12)
    average_kw: float
    price_kw_year: float

    @property
    def yearly_cost(self) -> float:
        return self.average_kw * self.price_kw_year

    @property
    def monthly_cost(self) -> float:
        return self.yearly_cost / 12


def months_back(month: date, count: int) -> list[date]:
    """`count` months ending with `month`, oldest first."""
    result = []
    year, number = month.year, month.month
    for _ in range(count):
        result.append(date(year, number, 1))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return result[::-1]


def capacity_summary(peaks: Iterable[MonthPeakValue], as_of: date, price_kw_year: float) -> CapacitySummary:
    """The 12 months up to and including the month of `as_of`, each floored at 2.5 kW, and their average.

    Months without any data are left out of the average (a new meter has fewer than 12 months), and so are the
    months before the tariff started: the first bills of 2023 average the months of 2023 only. A month before the
    tariff has no capacity at all: an average of 0 kW, no 2.5 kW floor.
    """
    if not capacity_billed(as_of):
        return CapacitySummary((), 0.0, price_kw_year)
    by_month = {peak.month: peak for peak in peaks}
    window = [by_month[m] for m in months_back(as_of.replace(day=1), 12) if m in by_month and capacity_billed(m)]
    average = sum(p.billed_kw for p in window) / len(window) if window else MINIMUM_PEAK_KW
    return CapacitySummary(tuple(window), average, price_kw_year)


def running_peak(
    moment: datetime, stamp: datetime | None, kw: float | None, known: MonthPeakValue | None
) -> MonthPeakValue | None:
    """The running month's peak at `moment`: the meter's 1-0:1.6.0 (`stamp`, `kw`) when it speaks of this month
    (at a month's start it may still show last month's), or `known`, the history's, when that is higher (the
    meter before a swap, a whole quarter the store saw)."""
    month = moment.date().replace(day=1)
    best = known if known is not None and known.month == month else None
    if stamp is not None and kw is not None:
        start = peak_quarter(stamp, moment, kw)
        if start.date().replace(day=1) == month and (best is None or kw >= best.kw - 0.001):
            best = MonthPeakValue(month, kw, start, "meter")
    return best
