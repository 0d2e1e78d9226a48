"""One process's view of the meter, split by job: the prices, the history, the live state. Front ends (the app,
`record`) hand it every telegram and ask it for views; it runs on one thread (the app's store thread), so nothing
it holds is shared with the UI: the UI gets immutable views.

The history is written only when this process owns the meter; followers read what the owner wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from meter_tui.config import Config
from meter_tui.energy.capacity import (
    Connection,
    MonthPeakValue,
    QuarterForecast,
    capacity_summary,
    connection,
    extra_peak_cost_eur,
    forecast,
    peak_cost_eur,
    quarter_start,
    running_peak,
)
from meter_tui.energy.costs import Cost, Usage
from meter_tui.energy.invoice import invoice
from meter_tui.energy.pricing import DayPricer
from meter_tui.energy.rates import RateBook, RatesError, load_rates
from meter_tui.p1 import parse_telegram
from meter_tui.p1.errors import TelegramError
from meter_tui.p1.quantities import LiveValues
from meter_tui.p1.telegram import Telegram
from meter_tui.services.events import MeterEvent, MeterWatch
from meter_tui.services.history import DayUsage, History
from meter_tui.services.live import SPARK_SECONDS, LiveState
from meter_tui.services.prices import Prices, PricesView
from meter_tui.services.views import (
    AlwaysOn,
    BillRequest,
    BillView,
    Column,
    Failure,
    HistoryRequest,
    HistoryView,
    LiveView,
    PeakRequest,
    PeakView,
    Request,
    TelegramRequest,
    TelegramView,
    View,
    add_months,
    commodity_value,
    period,
    phase_warnings,
    telegram_view,
)
from meter_tui.store.database import StoreError

TODAY_EVERY = timedelta(seconds=10)  # of meter time, between two queries of today's usage and cost


OVERVIEW_EVERY = 5  # seconds of meter time between two overviews of the Live screen (its bar moves 1% in 9 s)
NIGHT_HOURS = (0, 6)  # the hours in which the always-on power is looked for: the house asleep
NIGHT_SHARE = (5 * 9 + 2 * 24) / (7 * 24)  # the hours of a week at the night tariff (22-07 weekdays, weekends)


class UnknownRequest(TypeError):
    """A screen asked for a view that no entry of VIEWS builds (a bug, never bad input)."""


def open_session(config: Config, db_path: Path, rates_path: Path) -> Session:
    """The core from the settings, the one way every front end (the app, `record`, serve's tabs through the app)
    gets it: a setting added here reaches them all, so `record` cannot publish a headroom that ignores the fuse."""
    session = Session(db_path, rates_path, raw_days=config.store.raw_days, main_fuse=config.meter.main_fuse)
    session.watch.leak.hours = config.alerts.water_leak_hours
    return session


class Session:
    def __init__(
        self, db_path: Path | None, rates_path: Path, *, raw_days: int = 7, main_fuse: str | None = None
    ) -> None:
        self.main_fuse = main_fuse  # what the connection carries when the meter sets no power limit
        self.prices = Prices(rates_path)
        self.history = History(db_path, raw_days=raw_days)
        self.live = LiveState()
        self.owner = False
        self._today: tuple[datetime, RateBook, Column] | None = None
        self.watch = MeterWatch()
        self._watched_day: date | None = None
        self._data_days: tuple[date, date] | None = None  # the history's first and last day, as of the last query
        self._stored_peak: tuple[datetime, MonthPeakValue | None] | None = None  # (quarter asked in, month's peak)
        self._spot: tuple[int, float | None] | None = None  # (quarter start, its day-ahead price) for costs now
        self.read_error = ""  # why today's usage cannot be read from the history ('' when it can)
        self._always_on: tuple[datetime, AlwaysOn | None] | None = None  # (hour asked in, the figure)
        self._overview_tick: int | None = None

    # -- the meter -------------------------------------------------------------------------------------------
    def become_owner(self) -> str:
        """Write the history from now on; returns why it cannot be ('' when it can)."""
        self.owner = True
        self.history.open_for_writing()
        return self.store_error

    def add(self, telegram: Telegram) -> None:
        """Take a telegram: the latest, and into the history when this process owns the meter."""
        self.live.add(telegram)
        if self.owner:
            self.history.add(telegram)

    def add_viewed(self, telegram: Telegram) -> LiveView:
        """Take a telegram and return the live view of it."""
        if self.live.latest is None:
            self._seed_powers(telegram)
        self.add(telegram)
        today = self._today_if_readable()
        error = self.read_error or self.store_error
        status = self._forecast(telegram)
        values = self._values(telegram, today.cost.total if today is not None else None, status)
        since = self._data_days[0] if self._data_days else None
        events = self._events(telegram, status)
        return LiveView(values, self.live.powers(), phase_warnings(telegram), today, error, since, events,
                        tuple(self.history.refused.items()), self.always_on(telegram),
                        self._overview(telegram))  # fmt: skip

    def _overview(self, t: Telegram) -> PeakView | None:
        """The Peak view for the Live screen's overview, once every OVERVIEW_EVERY seconds of meter time (on the
        store thread, in the order of the telegrams: the same telegram gives the same overview every run)."""
        tick = int(t.timestamp.timestamp()) // OVERVIEW_EVERY if t.timestamp is not None else None
        if tick is None or tick == self._overview_tick:
            return None
        self._overview_tick = tick
        try:
            return self.peak_view()
        except (sqlite3.Error, StoreError):
            return None  # the Peak screen says why; the overview waits for the next one

    def always_on(self, t: Telegram) -> AlwaysOn | None:
        """The lowest quarter of the last night (00:00-06:00) and its EUR a year; looked up once an hour."""
        if t.timestamp is None:
            return None
        key = t.timestamp.replace(minute=0, second=0, microsecond=0)
        if self._always_on is None or self._always_on[0] != key:
            try:
                self._always_on = (key, self._lowest_night_quarter(t.timestamp))
            except (sqlite3.Error, StoreError):
                self._always_on = (key, None)
        return self._always_on[1]

    def _lowest_night_quarter(self, now: datetime) -> AlwaysOn | None:
        night = now.date() if now.hour >= NIGHT_HOURS[0] + 1 else now.date() - timedelta(days=1)
        quarters = [q for q in self.history.quarters_of(night) if NIGHT_HOURS[0] <= q.start.hour < NIGHT_HOURS[1]
                    and not q.gap and q.start + timedelta(minutes=15) <= now]  # fmt: skip
        if len(quarters) < 4:  # less than an hour of the night: no figure rather than a wrong one
            return None
        lowest = min(quarters, key=lambda q: q.usage.import_kwh)
        rates = self.book.on(night)
        price = NIGHT_SHARE * rates.import_night + (1 - NIGHT_SHARE) * rates.import_day
        kw = lowest.usage.import_kwh * 4
        return AlwaysOn(kw, lowest.start, kw * 24 * 365 * price)

    def _seed_powers(self, first: Telegram) -> None:
        """The ten-minute chart from the history's raw telegrams before the first one of this run: a restart
        does not empty it. A history that cannot be read leaves it empty."""
        if first.timestamp is None:
            return
        try:
            raws = self.history.raw_before(int(first.timestamp.timestamp()), SPARK_SECONDS)
        except (sqlite3.Error, StoreError):
            return
        parsed = []
        for raw in raws:
            try:
                parsed.append(parse_telegram(raw))
            except TelegramError:
                continue  # a damaged raw telegram is a second less in the chart
        self.live.seed(parsed)

    def _values(self, t: Telegram, today_eur: float | None, status: QuarterForecast | None) -> LiveValues:
        """The telegram with its costs and the capacity tariff's running quarter: what MQTT publishes."""
        if status is None or t.timestamp is None:
            return LiveValues(t, self.cost_per_hour(), today_eur)
        peak = self.month_peak(t)
        price = self.book.on(t.timestamp.date()).capacity_price(t.timestamp.date())
        return LiveValues(t, self.cost_per_hour(), today_eur, forecast_kw=status.projected_kw,
                          headroom_kw=status.allowed_kw, month_peak_so_far_kw=peak.kw if peak else None,
                          new_peak_likely=status.new_peak_likely,
                          forecast_cost_eur=extra_peak_cost_eur(status.projected_kw, peak.kw if peak else None,
                                                                price))  # fmt: skip

    def _events(self, telegram: Telegram, status: QuarterForecast | None) -> tuple[MeterEvent, ...]:
        """What this telegram says happened (a new month or day peak, a likely new peak, solar on or off)."""
        seed = None
        if telegram.timestamp is not None and telegram.timestamp.date() != self._watched_day:
            self._watched_day = telegram.timestamp.date()
            try:
                averages = [q.average_kw for q in self.history.quarters_of(self._watched_day) if q.average_kw]
            except (sqlite3.Error, StoreError):
                averages = []
            seed = max(averages, default=None)
        notes = [MeterEvent("information", note) for note in self.history.take_notes()]
        return (*self.watch.observe(telegram, status, seed), *notes)

    def _forecast(self, t: Telegram) -> QuarterForecast | None:
        if t.timestamp is None or t.quarter_average_kw is None:
            return None
        peak = self.month_peak(t)
        return forecast(t.timestamp, t.quarter_average_kw, t.power_import_kw or 0.0, peak.kw if peak else None,
                        meter_connection(t, self.main_fuse))  # fmt: skip

    def month_peak(self, t: Telegram) -> MonthPeakValue | None:
        """The running month's peak so far (`running_peak`); the history is asked once a quarter."""
        if t.timestamp is None:
            return None
        month = t.timestamp.date().replace(day=1)
        quarter = quarter_start(t.timestamp)
        if self._stored_peak is None or self._stored_peak[0] != quarter:
            try:
                stored = {p.month: p for p in self.history.month_peaks(None)}.get(month)
            except (sqlite3.Error, StoreError):
                stored = None
            self._stored_peak = (quarter, stored)
        peak = t.month_peak
        return running_peak(t.timestamp, peak.time if peak else None, peak.kw if peak else None, self._stored_peak[1])

    def log_event(self, time: int, severity: str, text: str) -> None:
        """An event of the app's log, into the history (by the owner, with its next batch)."""
        self.history.log_event(time, severity, text)

    def past_events(self, limit: int) -> list[tuple[int, str, str]]:
        """The events kept in the history by earlier runs, oldest first; none when it cannot be read."""
        try:
            return self.history.events(limit)
        except (sqlite3.Error, StoreError):
            return []

    def close(self) -> None:
        self.history.close()

    @property
    def latest(self) -> Telegram | None:
        return self.live.latest

    @property
    def now(self) -> datetime | None:
        return self.live.now

    @property
    def store_error(self) -> str:
        return self.history.error

    # -- prices ----------------------------------------------------------------------------------------------
    @property
    def book(self) -> RateBook:
        return self.prices.book

    def save_rates(self, document: dict[str, Any]) -> PricesView:
        return self.prices.save(document)

    def cost_per_hour(self) -> float | None:
        now = self.now
        if now is None or not self.book.on(now.date()).dynamic:
            return self.live.cost_per_hour(self.book)
        start = int(quarter_start(now).timestamp())
        if self._spot is None or self._spot[0] != start:
            try:
                self._spot = (start, self.history.spot_price(start))
            except (sqlite3.Error, StoreError):
                self._spot = (start, None)
        return self.live.cost_per_hour(self.book, self._spot[1])

    def live_values(self) -> LiveValues | None:
        """The latest telegram and its costs (without today's when the history cannot be read: see `read_error`)."""
        if self.latest is None:
            return None
        today = self._today_if_readable()
        return self._values(self.latest, today.cost.total if today is not None else None, self._forecast(self.latest))

    def _today_if_readable(self) -> Column | None:
        """Today so far, or None with `read_error` saying why: a damaged history never stops live data."""
        try:
            today = self.today_so_far()
        except (sqlite3.Error, StoreError) as failure:
            self.read_error = f"cannot be read: {self.history.explain(failure)}"
            return None
        self.read_error = ""
        return today

    # -- the history -----------------------------------------------------------------------------------------
    def _pricer(self) -> DayPricer:
        return self.history.pricer(self.book, self.latest)

    def columns(self, as_of: date) -> list[Column]:
        """The original's table: Day-3, Day-2, Day-1, Today, Week, Month, Year, each with its usage and cost."""
        year_start = as_of.replace(month=1, day=1)
        by_day = self.history.usage_by_day(year_start, as_of)
        pricer = self._pricer()
        columns = [_one_day(f"{day:%a %d}", by_day, day, pricer)
                   for back in (3, 2, 1) if (day := as_of - timedelta(days=back))]  # fmt: skip
        columns.append(_one_day(f"Today {as_of:%d}", by_day, as_of, pricer))
        columns.append(_span(f"Week {as_of:%V}", by_day, as_of - timedelta(days=as_of.weekday()), as_of, pricer))
        columns.append(_span(f"{as_of:%b}", by_day, as_of.replace(day=1), as_of, pricer))
        columns.append(_span(f"{as_of:%Y}", by_day, year_start, as_of, pricer))
        return columns

    def today_column(self, day: date) -> Column:
        """Usage and cost of one day so far, including what the open batch has not committed yet."""
        return _one_day("Today", self.history.usage_by_day(day, day), day, self._pricer())

    def today_so_far(self) -> Column | None:
        """Today's usage and cost as of the latest telegram, for the live screen and MQTT alike: queried again
        every TODAY_EVERY of meter time, at midnight and when the prices change, else the last answer."""
        now = self.now
        if now is None:
            return None
        last = self._today
        if (
            last is None
            or last[1] is not self.book
            or now.date() != last[0].date()
            or not timedelta(0) <= now - last[0] < TODAY_EVERY
        ):
            last = self._today = (now, self.book, self.today_column(now.date()))
            self._data_days = self.history.span()
        return last[2]

    def day_series(self, first: date, last: date) -> list[tuple[date, Usage, Cost]]:
        by_day = self.history.usage_by_day(first, last)
        pricer = self._pricer()
        series = []
        day = first
        while day <= last:
            usage = by_day.get(day, (Usage(), None, None))[0]
            series.append((day, usage, pricer.day(day, usage)))
            day += timedelta(days=1)
        return series

    # -- views -----------------------------------------------------------------------------------------------
    def view(self, request: Request) -> View | Failure | None:
        """The view a screen asks for, as of the latest telegram; None before the first one; a Failure, in words,
        when the history cannot be read. A request no view answers is a bug, raised as UnknownRequest: a new
        screen whose request was not added to VIEWS must fail at once, not draw nothing."""
        build = VIEWS.get(type(request))
        if build is None:
            raise UnknownRequest(f"no view answers a {type(request).__name__}: add it to VIEWS in {__name__}")
        try:
            return build(self, request)
        except (sqlite3.DatabaseError, StoreError) as error:
            return Failure(f"The history cannot be read: {self.history.explain(error)}")

    def telegram_view(self) -> TelegramView | None:
        return telegram_view(self.latest) if self.latest is not None else None

    def peak_view(self) -> PeakView | None:
        t = self.latest
        if t is None or t.timestamp is None:
            return None
        peaks = self.history.month_peaks(t)
        today = t.timestamp.date()
        month_peak = self.month_peak(t)
        status = self._forecast(t)
        price = self.book.on(today).capacity_price(today)
        peak_kw = month_peak.kw if month_peak else None
        return PeakView(
            forecast=status,
            month_peak_kw=peak_kw,
            month_peak_time=month_peak.time if month_peak else None,
            months=tuple(peaks[-13:]),
            capacity=capacity_summary(peaks, today, price),
            today=tuple(self.history.quarters_of(today)),
            month_peak_cost_eur=peak_cost_eur(peak_kw or 0.0, price),
            forecast_extra_eur=extra_peak_cost_eur(status.projected_kw, peak_kw, price) if status else 0.0,
            price_note=words if "built in" in (words := self.book.on(today).capacity_words(today)) else "",
        )

    def contracts(self) -> tuple[list[tuple[str, RateBook]], list[str]]:
        """rates.json, then every contracts/*.json beside it (other offers to hold against it); and the files
        refused, each with why."""
        books: list[tuple[str, RateBook]] = [(self.prices.path.name, self.book)]
        refused = []
        for path in sorted(self.prices.path.parent.glob("contracts/*.json")):
            try:
                books.append((path.stem, load_rates(path)))
            except RatesError as error:
                refused.append(str(error))
        return books, refused

    def bill_view(self, request: BillRequest) -> BillView | None:
        now = self.now
        if now is None:
            return None
        month = add_months(now.date().replace(day=1), request.offset)
        contracts, refused = self.contracts()
        first = add_months(month, -11)
        last = add_months(month, 1) - timedelta(days=1)
        comparison = self.history.compare(contracts, first, last, now.date())
        months = comparison.months if comparison is not None else ()
        shown = next((m for m in months if m.month == month), None)
        costs = shown.costs if shown is not None else tuple(Cost() for _ in contracts)
        quarters = (shown.quarters.known, shown.quarters.expected) if shown is not None else (0, 0)
        pairs = zip(costs, contracts, strict=True)
        invoices = tuple(invoice(month, cost, book.on(month).vat, quarters) for cost, (_, book) in pairs)
        return BillView(
            month,
            tuple(name for name, _ in contracts),
            invoices,
            tuple(
                (m.month, tuple(c.total for c in m.costs), tuple(c.unpriced_quarters for c in m.costs)) for m in months
            ),
            self.book.on(month).capacity_words(month),
            tuple(refused),
        )

    def history_view(self, request: HistoryRequest) -> HistoryView | None:
        now = self.now
        if now is None:
            return None
        today = now.date()
        first, last, label = period(request, today)
        commodity = request.commodity
        points: list[tuple[float, float]]  # x: an hour of the day, a day of the week (0: Monday), of the month, a month
        if request.view == "day":
            pricer = self._pricer()
            points = [
                (q.start.hour + q.start.minute / 60,
                 commodity_value(commodity, q.usage, pricer.energy(q.start.date(), q.usage)))
                for q in self.history.quarters_of(last)
            ]  # fmt: skip
        else:
            series = self.day_series(first, last)
            if request.view == "year":
                months: dict[int, float] = {}
                for day, usage, cost in series:
                    months[day.month] = months.get(day.month, 0.0) + commodity_value(commodity, usage, cost)
                points = list(months.items())
            elif request.view == "week":  # by the day's place in the week: a week across two months stays in order
                points = [((day - first).days, commodity_value(commodity, usage, cost)) for day, usage, cost in series]
            else:
                points = [(day.day, commodity_value(commodity, usage, cost)) for day, usage, cost in series]
        return HistoryView(request, label, tuple(self.columns(today)), self.book.current.gas_kwh_per_m3,
                           tuple(points), self.history.span(), first, last)  # fmt: skip


def _one_day(name: str, by_day: dict[date, DayUsage], day: date, pricer: DayPricer) -> Column:
    usage, peak, when = by_day.get(day, (Usage(), None, None))
    return Column(name, usage, pricer.day(day, usage), peak, when)


def _span(name: str, by_day: dict[date, DayUsage], first: date, last: date, pricer: DayPricer) -> Column:
    usage, cost, best = Usage(), Cost(), (None, None)
    day = first
    while day <= last:
        if day in by_day:
            day_usage, peak, when = by_day[day]
            usage += day_usage
            cost += pricer.day(day, day_usage)
            if peak is not None and (best[0] is None or peak > best[0]):
                best = (peak, when)
        day += timedelta(days=1)
    return Column(name, usage, cost, *best)


def meter_connection(t: Telegram, main_fuse: str | None) -> Connection:
    """What this meter's connection carries: the telegram says its limiter, its fuse supervision, its grid and how
    many phases it measures (L2 of a 3x230 V grid has no voltage of its own, but a current)."""
    phases = sum(1 for phase in t.phases if phase.voltage_v or phase.current_a)
    return connection(t.limiter_kw, main_fuse, meter_fuse_a=t.fuse_a, phases=phases, grid_v=t.grid_config_v)


# Which view answers which request: the one place a new screen's request is added.
VIEWS: dict[type, Callable[[Session, Any], View | None]] = {
    PeakRequest: lambda session, _: session.peak_view(),
    HistoryRequest: Session.history_view,
    BillRequest: Session.bill_view,
    TelegramRequest: lambda session, _: session.telegram_view(),
}
