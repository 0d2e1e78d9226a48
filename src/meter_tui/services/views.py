"""What the screens show, as immutable values: computed on the store thread, handed to the UI whole.

A screen asks for a view with a request (a frozen value saying which period, which commodity) and gets back a view
that it only has to draw; the live view comes with every telegram. Nothing here knows Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from meter_tui.energy.capacity import CapacitySummary, MonthPeakValue, QuarterForecast
from meter_tui.energy.costs import Cost, Usage
from meter_tui.energy.invoice import Invoice
from meter_tui.p1.quantities import LiveValues, describe
from meter_tui.p1.telegram import Telegram, values_of
from meter_tui.p1.values import decode_octets, parse_timestamp
from meter_tui.services.events import MeterEvent
from meter_tui.store.queries import QuarterRow

VIEWS = ("day", "week", "month", "year")
COMMODITIES = ("import", "export", "gas", "water", "cost")
UNITS = {"import": "kWh", "export": "kWh", "gas": "m3", "water": "m3", "cost": "EUR"}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the usage/cost table: a name, the days it covers, what was used and what it cost."""

    name: str
    usage: Usage
    cost: Cost
    peak_kw: float | None = None
    peak_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlwaysOn:
    """The power that never goes off (fridge, router, standby): the lowest quarter of the last night, and what it
    costs in a year at the prices in force."""

    kw: float
    start: datetime  # the quarter it was measured in
    eur_year: float

    def words(self) -> str:
        return f"always on {self.kw:.3f} kW ({self.start:%H:%M} last night): {self.eur_year:.0f} EUR/year"


@dataclass(frozen=True, slots=True)
class LiveView:
    """The latest telegram with everything the live screen and MQTT say about it."""

    values: LiveValues
    powers_kw: tuple[float, ...]  # import minus export, one a telegram, the last ten minutes
    warnings: tuple[str, ...]
    today: Column | None
    history_error: str = ""  # why the history is not kept or read right now
    since: date | None = None  # the first day the history holds
    events: tuple[MeterEvent, ...] = ()  # what this telegram says happened
    refused: tuple[tuple[str, int], ...] = ()  # what the history refused so far: (reason, count)
    always_on: AlwaysOn | None = None
    peak: PeakView | None = None  # the running quarter and the month peaks, on the first telegram of OVERVIEW_EVERY s

    @property
    def telegram(self) -> Telegram:
        return self.values.telegram


@dataclass(frozen=True, slots=True)
class PeakRequest:
    pass


@dataclass(frozen=True, slots=True)
class PeakView:
    forecast: QuarterForecast | None
    month_peak_kw: float | None
    month_peak_time: datetime | None
    months: tuple[MonthPeakValue, ...]
    capacity: CapacitySummary
    today: tuple[QuarterRow, ...]
    month_peak_cost_eur: float = 0.0  # what the month peak so far adds to the next 12 months' capacity bills
    forecast_extra_eur: float = 0.0  # what the forecast quarter would add on top, if it became the month peak
    price_note: str = ""  # said when the capacity price is another year's (no figure built in for this one)


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """Which period (`view`, shifted `offset` periods back or forth from today's) and which commodity to chart."""

    view: str = "month"
    offset: int = 0
    commodity: str = "import"


@dataclass(frozen=True, slots=True)
class HistoryView:
    request: HistoryRequest
    label: str  # the period in words
    columns: tuple[Column, ...]
    gas_kwh_per_m3: float | None
    points: tuple[tuple[float, float], ...]  # the chart: (x, value); x is an hour, a day of month or a month
    data_days: tuple[date, date] | None = None  # the first and the last day the history holds
    first: date | None = None  # the period charted
    last: date | None = None

    @property
    def unit(self) -> str:
        return UNITS[self.request.commodity]

    @property
    def beyond_data(self) -> str:
        """'no data after 28 Nov' when the period charted lies wholly outside the history, else ''."""
        if self.first is None or self.last is None:
            return ""
        if self.data_days is None:
            return "no data yet"
        if self.first > self.data_days[1]:
            return f"no data after {self.data_days[1]:%d %b %Y}"
        if self.last < self.data_days[0]:
            return f"no data before {self.data_days[0]:%d %b %Y}"
        return ""


@dataclass(frozen=True, slots=True)
class TelegramRequest:
    pass


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """One object of a telegram as the inspector shows it."""

    code: str
    label: str
    value: str  # readable: units, dates; a long value summarised
    description: str
    attention: bool
    detail: str = ""  # all of it, for the detail panel: the readable whole and the object as sent


@dataclass(frozen=True, slots=True)
class TelegramView:
    telegram: Telegram
    rows: tuple[ObjectRow, ...]


@dataclass(frozen=True, slots=True)
class Failure:
    """A view that could not be computed, and why, in words for the person looking at the screen."""

    message: str


@dataclass(frozen=True, slots=True)
class BillRequest:
    """The month `offset` months from the meter's, split as the invoice splits it, and the contracts compared."""

    offset: int = 0


@dataclass(frozen=True, slots=True)
class BillView:
    month: date
    names: tuple[str, ...]  # rates.json first, then contracts/*.json beside it
    invoices: tuple[Invoice, ...]  # the month under each contract
    months: tuple[tuple[date, tuple[float, ...], tuple[int, ...]], ...]  # 12 months: totals and unpriced quarters
    capacity_words: str
    refused: tuple[str, ...] = ()  # contract files that could not be used, with why


Request = PeakRequest | HistoryRequest | TelegramRequest | BillRequest
View = PeakView | HistoryView | TelegramView | BillView


def phase_warnings(telegram: Telegram) -> tuple[str, ...]:
    """What needs attention: a phase without voltage, a breaker that is off or waits for a press."""
    warnings = []
    if dead := telegram.dead_phases():
        names = ", ".join(f"L{n}" for n in dead)
        warnings.append(f"No voltage on {names}" + (" (on a 3x230 V grid L2 reads 0 V)" if dead == (2,) else ""))
    if telegram.breaker == 0:
        warnings.append("Main breaker is OFF")
    elif telegram.breaker == 2:
        warnings.append("Breaker ready to reconnect: press the button on the meter")
    return tuple(warnings)


_VOLTAGE_PHASE = {"1-0:32.7.0": 1, "1-0:52.7.0": 2, "1-0:72.7.0": 3}


def attention(telegram: Telegram, code: str, values: tuple[str, ...]) -> bool:
    """Objects a person should look at: a breaker or valve not on, a phase without voltage, a message."""
    first = values[0] if values else ""
    if (code.endswith(":96.3.10") and code.startswith("0-0")) or code.endswith(":24.4.0"):
        return first not in ("1", "")
    if code in _VOLTAGE_PHASE:
        return _VOLTAGE_PHASE[code] in telegram.dead_phases()
    return code == "0-0:96.13.0" and first != ""


# Thresholds a meter sends for "not set": the power limiter at 99.999 kW (999.9 on some), the fuse at 999.99 A.
_NO_LIMIT = {"0-0:17.0.0": 99.999, "1-0:31.4.0": 999.0}


def shown_value(code: str, values: tuple[str, ...]) -> str:
    """A value as a person reads it: text for hex strings, a date for a timestamp, a number with its unit,
    `kW at <time>` for a peak, `<reading> at <time>` for an M-Bus meter, "none" for a limit that is not set."""
    if code in ("0-0:96.1.1", "0-0:96.1.2", "0-0:96.13.0") or code.endswith((":96.1.1", ":96.1.2")):
        return decode_octets(values[0]) if values else ""
    if code in _NO_LIMIT and values and _number(values[0]) >= _NO_LIMIT[code]:
        return "none"
    try:
        if len(values) == 1:
            return _readable(values[0])
        if len(values) == 2 and _is_stamp(values[0]):  # 1-0:1.6.0 and the M-Bus readings: (time)(quantity)
            stamp = parse_timestamp(values[0])
            return f"{_readable(values[1])} at {stamp:%d %b %H:%M}" if stamp else _readable(values[1])
    except ValueError:
        pass
    return " ".join(values)


def _number(text: str) -> float:
    """The number of `999.9*kW`, or 0 when there is none."""
    try:
        return float(text.partition("*")[0])
    except ValueError:
        return 0.0


def _is_stamp(text: str) -> bool:
    return len(text) == 13 and text[:12].isdigit() and text[12] in "SW"


def _readable(text: str) -> str:
    if _is_stamp(text):
        stamp = parse_timestamp(text)
        return f"{stamp:%Y-%m-%d %H:%M:%S}" if stamp is not None else "none"
    number, star, unit = text.partition("*")
    if not star:
        return text
    float(number)  # a ValueError for what is not a number
    whole, dot, decimals = number.partition(".")
    return f"{whole.lstrip('0') or '0'}{dot}{decimals} {unit}"


def _peaks_summary(telegram: Telegram) -> tuple[str, str]:
    """0-0:98.1.0 in a row ('13 months, max 5.834 kW in 2024-02') and whole, a month a line."""
    peaks = [p for p in telegram.peak_history or () if p.kw is not None]
    if not peaks:
        return "no month peaks yet", ""
    best = max(peaks, key=lambda p: p.kw or 0.0)
    months = len(telegram.peak_history or ())
    summary = f"{months} month{'s' if months != 1 else ''}, max {best.kw:.3f} kW in {best.month:%Y-%m}"
    lines = [f"{p.month:%Y-%m}  {p.kw:7.3f} kW" + (f"  {p.time:%d %b %H:%M}" if p.time else "") for p in peaks]
    return summary, "\n".join(lines)


def telegram_view(telegram: Telegram) -> TelegramView:
    rows = []
    for code, sent in telegram.objects:
        values = values_of(sent)
        row = describe(code)
        if code == "0-0:98.1.0" and telegram.peak_history is not None:
            value, whole = _peaks_summary(telegram)
        else:
            value, whole = shown_value(code, values), ""
        detail = "\n".join(part for part in (whole or value, f"sent: {code}{sent}") if part)
        rows.append(ObjectRow(code, row.label, value, row.description, attention(telegram, code, values), detail))
    return TelegramView(telegram, tuple(rows))


def period(request: HistoryRequest, today: date) -> tuple[date, date, str]:
    """The first and last day of the requested period, and its name."""
    view = request.view
    if view == "day":
        day = today + timedelta(days=request.offset)
        return day, day, f"{day:%A %d %B %Y}, per quarter-hour"
    if view == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=request.offset)
        return monday, monday + timedelta(days=6), f"week of {monday:%d %B %Y}, per day"
    if view == "month":
        month = add_months(today.replace(day=1), request.offset)
        return month, add_months(month, 1) - timedelta(days=1), f"{month:%B %Y}, per day"
    year = date(today.year + request.offset, 1, 1)
    return year, date(year.year, 12, 31), f"{year.year}, per month"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def commodity_value(commodity: str, usage: Usage, cost: Cost) -> float:
    return {
        "import": usage.import_kwh,
        "export": usage.export_kwh,
        "gas": usage.gas_m3,
        "water": usage.water_m3,
        "cost": cost.total,
    }[commodity]
