"""The Flemish capacity tariff, as pure functions over what the meter says.

A month is billed on its highest quarter-hour average import (at least 2.5 kW); the bill uses the average of the
last 12 months' peaks times a price per kW per year. Inside the running quarter, with t seconds gone, D the
meter's 1-0:1.4.0, P the power now and M the month peak so far:
    projected average if P holds:  D + P * (900 - t) / 900
    headroom (average power still allowed for the rest of the quarter without a new peak): (M - D) * 900 / (900 - t)
M is taken as at least 2.5 kW: below that a higher peak costs nothing, so it is no reason to warn. The headroom is
also capped by what the connection can carry (the meter's power limiter 0-0:17.0.0 when set, else the main fuse).

A month's billed peak counts in the 12-month average of 12 monthly bills, each 1/12 of the yearly price: over the
next 12 months it costs  kW x price per kW per year / 12, and a higher peak costs its difference the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

QUARTER_SECONDS = 900
MINIMUM_PEAK_KW = 2.5


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
    limit_kw: float | None = None  # what the connection carries, when known

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


def connection_kw(limiter_kw: float | None, fuse: str | None) -> float | None:
    """What the connection carries: the meter's power limiter (0-0:17.0.0) when it is set (99.999 means none),
    else a main fuse given as 'PxA' (3x40: three phases of 40 A at 230 V), else None."""
    if limiter_kw is not None and 0 < limiter_kw < 99.9:
        return limiter_kw
    if fuse:
        phases, _, amps = fuse.lower().partition("x")
        return int(phases) * float(amps) * 230 / 1000
    return None


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
    moment: datetime, average_kw: float, power_kw: float, month_peak_kw: float | None, limit_kw: float | None = None
) -> QuarterForecast:
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
        limit_kw=limit_kw,
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

    Months without any data are left out of the average (a new meter has fewer than 12 months).
    """
    by_month = {peak.month: peak for peak in peaks}
    window = [by_month[m] for m in months_back(as_of.replace(day=1), 12) if m in by_month]
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
