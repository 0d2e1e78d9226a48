"""Settings: the source and the store, and the rates editor: every price of rates.json in a form, checked as you
type, saved atomically; a bad value cannot be saved and says why."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import Function, ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from meter_tui.config import shown_path
from meter_tui.energy.rates import RateBook, Rates, RatesError
from meter_tui.services.prices import PricesView
from meter_tui.sources.serial import BY_ID, stable_name
from meter_tui.ui.screens.base import MeterScreen

# (input id, label, path in the rates document, maximum). Electricity prices may be negative (down to -maximum):
# a dynamic contract's injection is paid the day-ahead price, which goes below zero on sunny spring days.
FIELDS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("import-day", "Electricity bought, day (EUR/kWh)", ("Electricity", "+", "Day"), 10.0),
    ("import-night", "Electricity bought, night (EUR/kWh)", ("Electricity", "+", "Night"), 10.0),
    ("export-day", "Injection paid, day (EUR/kWh)", ("Electricity", "-", "Day"), 10.0),
    ("export-night", "Injection paid, night (EUR/kWh)", ("Electricity", "-", "Night"), 10.0),
    ("gas", "Gas (EUR/m3)", ("Gas", "+"), 50.0),
    ("water", "Water (EUR/m3)", ("Water", "+"), 100.0),
    ("capacity", "Capacity tariff (EUR/kW/year)", ("Capacity", "+"), 1000.0),
    ("fixed", "Fixed costs (EUR/month)", ("Fixed", "+"), 10000.0),
)
SIGNED = {"import-day", "import-night", "export-day", "export-night"}
ALLOWED = {True: r"-?[0-9.,]*", False: r"[0-9.,]*"}  # the keys a price field takes, signed or not


def price(text: str) -> float:
    """A price as typed: a decimal comma (0,42) is as good as a point. Raises ValueError."""
    return float(text.strip().replace(",", "."))


class Price(Validator):
    """A number from 0 (or -maximum when `signed`) to `maximum`, with a decimal point or comma."""

    def __init__(self, maximum: float, *, signed: bool = False) -> None:
        super().__init__()
        self.maximum = maximum
        self.minimum = -maximum if signed else 0.0

    def validate(self, value: str) -> ValidationResult:
        try:
            number = price(value)
        except ValueError:
            return self.failure("must be a number, such as 0.31 or 0,31" if value.strip() else "is empty: type a price")
        if not self.minimum <= number <= self.maximum:
            return self.failure(f"must be between {self.minimum:g} and {self.maximum:g}")
        return self.success()


class PriceInput(Input):
    """A price field that says which keys it refuses instead of only ringing the bell."""

    class Refused(Message):
        def __init__(self, field: PriceInput) -> None:
            super().__init__()
            self.field = field

    def restricted(self) -> None:
        self.post_message(self.Refused(self))


def a_date(text: str) -> bool:
    """Empty (the prices in force) or a day as YYYY-MM-DD."""
    if not text:
        return True
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def period_names(book: RateBook, today: date) -> list[str]:
    """The editor's periods: the prices of rates.json's top level (until the first dated period), then each
    dated period from its day; the one in force today says so."""
    starts = [start for start, _ in book.periods[1:]]
    first = f"until {starts[0] - timedelta(days=1):%Y-%m-%d}" if starts else "all days"
    names = [first, *(f"from {start:%Y-%m-%d}" for start in starts)]
    names[in_force(book, today)] += " · today's"
    return names


def in_force(book: RateBook, today: date) -> int:
    """The index of the period whose prices apply today."""
    return max(index for index, (start, _) in enumerate(book.periods) if index == 0 or start <= today)


def editable_part(document: dict[str, Any], index: int) -> dict[str, Any]:
    """Where the prices of period `index` are written: the top level for 0, else that dated period."""
    return document if index == 0 else document["Periods"][index - 1]


def current_values(rates: Rates, today: date) -> dict[str, float]:
    """A period's prices as rates.json states them (with or without VAT, as it says); capacity as the area's
    price of this year when it names an area."""
    return {
        "import-day": rates.as_typed(rates.import_day),
        "import-night": rates.as_typed(rates.import_night),
        "export-day": rates.export_day,  # injection is never taxed
        "export-night": rates.export_night,
        "gas": rates.as_typed(rates.gas_kwh if rates.gas_kwh is not None else rates.gas_m3),
        "water": rates.as_typed(rates.water_m3),
        "capacity": rates.as_typed(rates.capacity_price(today)),
        "fixed": rates.as_typed(rates.fixed_month),
    }


def _untouched(value: float, before: float) -> bool:
    """A field shown and read back unchanged (`:g` keeps six digits): the file's own form is kept."""
    return abs(value - before) < 1e-6 * max(1.0, abs(before))


class SettingsScreen(MeterScreen):
    SHOWS_SOURCE_STATE = True
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "leave", "Leave field / cancel", show=False)]

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="settings-body"):
            with Vertical(id="source-panel", classes="panel"):
                yield Static("", id="source-info")
            with Vertical(id="rates-panel-edit", classes="panel"), Grid(id="rates-form"):
                yield Label("Prices of the period")
                yield Select([("rates.json", 0)], id="period", allow_blank=False, value=0)
                for field_id, label, _, maximum in FIELDS:
                    signed = field_id in SIGNED
                    yield Label(label, id=f"{field_id}-label")
                    yield PriceInput(id=field_id, validators=[Price(maximum, signed=signed)], restrict=ALLOWED[signed])
                    yield Static("", id=f"{field_id}-note", classes="note")
                yield Label("From (YYYY-MM-DD, or empty)")
                day = Function(a_date, "must be a day as YYYY-MM-DD")
                yield PriceInput(id="period-from", placeholder="new prices from this day", validators=[day],
                                 restrict=r"[0-9-]*")  # fmt: skip
                yield Static("", id="period-from-note", classes="note")
            yield Static("", id="period-info")
            yield Static("", id="rates-message")
            with Horizontal(id="rates-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield from self.footer()

    def on_mount(self) -> None:
        if self.meter.read_only:
            for widget in self.query(Input):
                widget.disabled = True
            self.query_one("#save", Button).disabled = True
        self.query_one("#source-panel").border_title = "Source and history"
        self.query_one("#rates-panel-edit").border_title = "Prices: rates.json"
        self.query_one("#rates-panel-edit").border_subtitle = (
            "read-only" if self.meter.read_only else "ctrl+s save · escape leave the field"
        )
        self._fill()
        super().on_mount()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A read-only tab (served without --allow-edit) has no save key: the footer does not offer it."""
        return not (action == "save" and self.meter.read_only)

    def _fill(self, index: int | None = None) -> None:
        """The form from the prices: the period `index` (by default the one in force today)."""
        prices = self.meter.prices
        if prices is None:
            return
        book = prices.book
        self._period = in_force(book, self._today()) if index is None or index >= len(book.periods) else index
        select = self.query_one("#period", Select)
        with self.prevent(Select.Changed):
            select.set_options((name, number) for number, name in enumerate(period_names(book, self._today())))
            select.value = self._period
            select.mutate_reactive(Select.value)  # the shown name follows new options even for the same value
        rates = book.periods[self._period][1]
        for field_id, value in current_values(rates, self._today()).items():
            self.query_one(f"#{field_id}", Input).value = f"{value:g}"
        dynamic = {"import-day": rates.import_spot, "import-night": rates.import_spot,
                   "export-day": rates.export_spot, "export-night": rates.export_spot}  # fmt: skip
        for field_id, spot in dynamic.items():
            self.query_one(f"#{field_id}", Input).disabled = spot is not None or self.meter.read_only
        self.query_one("#gas-label", Label).update("Gas (EUR/kWh)" if rates.gas_kwh is not None else "Gas (EUR/m3)")
        self.query_one("#period-from", Input).value = ""
        self.query_one("#period-info", Static).update(self._editing(book))
        self._say_file(prices)
        if self.meter.read_only:
            self._say("Read-only: this tab was served without --allow-edit; the prices are shown, not changed.",
                      error=False)  # fmt: skip
            return
        self._check()

    def on_select_changed(self, event: Select.Changed) -> None:
        """Another period chosen: its prices in the form (what was typed and not saved is dropped)."""
        if isinstance(event.value, int) and event.value != getattr(self, "_period", None):
            self._fill(event.value)

    def redraw(self) -> None:
        super().redraw()
        app = self.meter
        status = app.status
        lines = [
            f"Source: {status.source if status else '-'}  ·  {status.state.value if status else 'starting'}"
            + (f": {status.detail}" if status is not None and status.detail else ""),
            f"Role: {app.role_text()}  ·  telegrams {app.good} good, "
            f"{app.rejected} rejected" + (f" (last: {app.last_rejection})" if app.last_rejection else ""),
            f"History: {shown_path(app.history_path) if app.history_path else 'not kept'}"
            + (f"  ·  {app.store_error}" if app.store_error else ""),
        ]
        if app.port is not None:
            stable = stable_name(app.port)
            lines.append(f"Stable name: {stable}" if stable else
                         f"Stable name: none found for {app.port} in {BY_ID}; a USB adapter may come back as "
                         "another ttyUSB: give --port a /dev/serial/by-id/ name")  # fmt: skip
        lines.append(f"Water leak alert: after {app.session.watch.leak.hours:g} h of water flowing without a pause "
                     "(\\[alerts] water_leak_hours in config.toml)")  # fmt: skip
        if app.publisher is not None:
            lines.append(f"MQTT: {app.publisher.settings.shown}  ·  {app.publisher.status}")
        self.query_one("#source-info", Static).update("\n".join(lines))

    def _editing(self, book: RateBook) -> str:
        """Which prices the form edits, how VAT is counted and where the capacity price comes from."""
        rates = book.periods[self._period][1]
        vat = f"prices excluding {rates.vat:.0%} VAT" if rates.typed_vat else "all-in prices (VAT included)"
        spot = " Electricity follows the day-ahead price (a Spot formula): edit it in rates.json." * rates.dynamic
        names = [name.partition(" · ")[0] for name in period_names(book, self._today())]
        which = names[self._period] if len(names) > 1 else "of all days (no dated periods)"
        return (f"Editing the prices {which} (period {self._period + 1} of {len(names)}); {vat}. "
                f"Capacity: {rates.capacity_words(self._today())}; a price typed there replaces the area's. "
                f"Electricity prices may be negative.{spot}")  # fmt: skip

    def _today(self) -> date:
        return date.fromtimestamp(self.meter.clock())

    def on_input_changed(self, _: Input.Changed) -> None:
        self._check()

    def _check(self) -> bool:
        """Every field checked; what is wrong said next to its field and under the form."""
        problems = []
        labels = [(field_id, label) for field_id, label, _, _ in FIELDS] + [("period-from", "From")]
        for field_id, label in labels:
            widget = self.query_one(f"#{field_id}", Input)
            result = widget.validate(widget.value)
            wrong = "; ".join(result.failure_descriptions) if result is not None and not result.is_valid else ""
            self._note(field_id, wrong)
            if wrong:
                problems.append(f"{label}: {wrong}")
        self.query_one("#save", Button).disabled = bool(problems) or self.meter.read_only
        self._problems = problems
        if problems:
            self._say("Cannot save. " + " | ".join(problems), error=True)
        elif self.query_one("#rates-message").has_class("alarm") and self.meter.prices is not None:
            # The value was fixed: the error goes (a refused file's own error stays until it is saved anew).
            self._say_file(self.meter.prices)
        return not problems

    def _note(self, field_id: str, text: str) -> None:
        note = self.query_one(f"#{field_id}-note", Static)
        note.update(text)
        note.set_class(bool(text), "alarm")

    def on_price_input_refused(self, event: PriceInput.Refused) -> None:
        """A key the field does not take: said next to it (the field keeps what it had)."""
        field = event.field
        allowed = (
            "digits and -"
            if field.id == "period-from"
            else "digits, . or , and -" * (field.id in SIGNED) or ("digits and . or ,")
        )
        self._note(str(field.id), f"only {allowed} go here")

    def _say_file(self, prices: PricesView) -> None:
        """Where the prices come from, or why the file was refused."""
        self._say(
            f"Refused: {prices.error}" if prices.error else f"Rates file: {shown_path(prices.path)}",
            error=bool(prices.error),
        )

    def _say(self, text: str, *, error: bool) -> None:
        message = self.query_one("#rates-message", Static)
        message.update(text)
        message.set_class(error, "alarm")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    @work(exclusive=True, group="save")
    async def action_save(self) -> None:
        prices = self.meter.prices
        if prices is None:
            return
        if not self._check():
            # Said where the eye is (the message under the form may be below the fold), and the field focused.
            self.notify("Not saved: " + " | ".join(self._problems), severity="error", timeout=8)
            first = next(f for f, _, _, _ in (*FIELDS, ("period-from", "", (), 0.0)) if self._wrong(f))
            self.query_one(f"#{first}", Input).focus()
            return
        document = copy.deepcopy(prices.book.document)
        target, start = self._target(document)
        before = current_values(prices.book.periods[self._period][1], self._today())
        for field_id, _, path, _ in FIELDS:
            field = self.query_one(f"#{field_id}", Input)
            value = price(field.value)
            if field.disabled or _untouched(value, before[field_id]):
                continue  # untouched prices keep the file's own form (an area name, a period, a Spot formula)
            node = target
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value
            if path[0] == "Capacity":
                node.pop("Area", None)  # an explicit price replaces the area's built-in one
        try:
            saved = await self.meter.save_rates(document)
        except (RatesError, OSError) as error:
            self._say(f"Not saved: {error}", error=True)
            return
        starts = [start for start, _ in saved.book.periods]
        self._fill(starts.index(date.fromisoformat(start)) if start else self._period)
        self._say(f"Saved to {shown_path(saved.path)}; costs are recomputed.", error=False)

    def _wrong(self, field_id: str) -> bool:
        return self.query_one(f"#{field_id}-note", Static).has_class("alarm")

    def _target(self, document: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Where the form's prices go: the chosen period, or with a From day another one: the period of that day
        if there is one, else a new one, so that the costs before it keep their prices."""
        start = self.query_one("#period-from", Input).value
        target = editable_part(document, self._period)
        if not start or target.get("From") == start:
            return target, ""
        periods = document.get("Periods") or []
        if same := [period for period in periods if period.get("From") == start]:
            return same[0], start
        target = {"From": start}
        document["Periods"] = sorted([*periods, target], key=lambda p: p["From"])
        return target, start

    def action_leave(self) -> None:
        """Escape in a field leaves it, so that the screen keys work again; escape outside the fields cancels."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self._fill(self._period)
        self._say("Changes cancelled; the rates file was not touched.", error=False)
