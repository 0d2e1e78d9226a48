"""Settings: the source and the store, and the rates editor: every price of rates.json in a form, checked as you
type, saved atomically; a bad value cannot be saved and says why."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.validation import Function, ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static

from meter_tui.config import shown_path
from meter_tui.energy.rates import RateBook, RatesError
from meter_tui.services.prices import PricesView
from meter_tui.sources.serial import BY_ID, stable_name
from meter_tui.ui.screens.base import MeterScreen

# (input id, label, path in the rates document, maximum)
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


def price(text: str) -> float:
    """A price as typed: a decimal comma (0,42) is as good as a point. Raises ValueError."""
    return float(text.strip().replace(",", "."))


class Price(Validator):
    """A number from 0 to `maximum`, with a decimal point or comma."""

    def __init__(self, maximum: float) -> None:
        super().__init__()
        self.maximum = maximum

    def validate(self, value: str) -> ValidationResult:
        try:
            number = price(value)
        except ValueError:
            return self.failure("must be a number, such as 0.31 or 0,31")
        if not 0 <= number <= self.maximum:
            return self.failure(f"must be between 0 and {self.maximum:g}")
        return self.success()


def a_date(text: str) -> bool:
    """Empty (the prices in force) or a day as YYYY-MM-DD."""
    if not text:
        return True
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def period_words(document: dict[str, Any]) -> str:
    """Which prices the editor changes when no date is given."""
    periods = document.get("Periods") or []
    if not periods:
        return "the prices of rates.json (no dated periods)"
    return f"the prices from {periods[-1].get('From')} on (period {len(periods)} of {len(periods)})"


def editable_part(document: dict[str, Any]) -> dict[str, Any]:
    """The prices in force now: the last dated period if there is one, else the top level."""
    periods = document.get("Periods") or []
    return periods[-1] if periods else document


def current_values(book: RateBook, today: date) -> dict[str, float]:
    """The prices in force as rates.json states them (with or without VAT, as it says); capacity as the area's
    price of this year when it names an area."""
    rates = book.current
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
                for field_id, label, _, maximum in FIELDS:
                    yield Label(label, id=f"{field_id}-label")
                    yield Input(id=field_id, validators=[Price(maximum)], restrict=r"[0-9.,]*")
                yield Label("From (YYYY-MM-DD, or empty)")
                day = Function(a_date, "must be a day as YYYY-MM-DD")
                yield Input(id="period-from", placeholder="new prices from this day", validators=[day],
                            restrict=r"[0-9-]*")  # fmt: skip
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

    def _fill(self) -> None:
        prices = self.meter.prices
        if prices is None:
            return
        for field_id, value in current_values(prices.book, self._today()).items():
            self.query_one(f"#{field_id}", Input).value = f"{value:g}"
        rates = prices.book.current
        dynamic = {"import-day": rates.import_spot, "import-night": rates.import_spot,
                   "export-day": rates.export_spot, "export-night": rates.export_spot}  # fmt: skip
        for field_id, spot in dynamic.items():
            self.query_one(f"#{field_id}", Input).disabled = spot is not None or self.meter.read_only
        self.query_one("#gas-label", Label).update("Gas (EUR/kWh)" if rates.gas_kwh is not None else "Gas (EUR/m3)")
        self.query_one("#period-from", Input).value = ""
        self.query_one("#period-info", Static).update(self._editing(prices.book))
        self._say_file(prices)
        if self.meter.read_only:
            self._say("Read-only: this tab was served without --allow-edit; the prices are shown, not changed.",
                      error=False)  # fmt: skip
            return
        self._check()

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
        if app.publisher is not None:
            lines.append(f"MQTT: {app.publisher.settings.shown}  ·  {app.publisher.status}")
        self.query_one("#source-info", Static).update("\n".join(lines))

    def _editing(self, book: RateBook) -> str:
        """Which prices the form edits, how VAT is counted and where the capacity price comes from."""
        rates = book.current
        vat = f"prices excluding {rates.vat:.0%} VAT" if rates.typed_vat else "all-in prices (VAT included)"
        spot = " Electricity follows the day-ahead price (a Spot formula): edit it in rates.json." * rates.dynamic
        return (f"Editing {period_words(book.document)}; {vat}. Capacity: {rates.capacity_words(self._today())}; "
                f"a price typed there replaces the area's.{spot}")  # fmt: skip

    def _today(self) -> date:
        return date.fromtimestamp(self.meter.clock())

    def on_input_changed(self, _: Input.Changed) -> None:
        self._check()

    def _check(self) -> bool:
        problems = []
        labels = [(field_id, label) for field_id, label, _, _ in FIELDS] + [("period-from", "From")]
        for field_id, label in labels:
            widget = self.query_one(f"#{field_id}", Input)
            result = widget.validate(widget.value)
            if result is not None and not result.is_valid:
                problems.append(f"{label}: {'; '.join(result.failure_descriptions)}")
        self.query_one("#save", Button).disabled = bool(problems) or self.meter.read_only
        if problems:
            self._say("Cannot save. " + " | ".join(problems), error=True)
        elif self.query_one("#rates-message").has_class("alarm") and self.meter.prices is not None:
            # The value was fixed: the error goes (a refused file's own error stays until it is saved anew).
            self._say_file(self.meter.prices)
        return not problems

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
        if not self._check() or prices is None:
            return
        document = copy.deepcopy(prices.book.document)
        start = self.query_one("#period-from", Input).value
        target = editable_part(document)
        if start and target.get("From") != start:
            # A price change from a day on: a new period, so that the costs before it keep their prices.
            target = {"From": start}
            document["Periods"] = sorted([*(document.get("Periods") or []), target], key=lambda p: p["From"])
        before = current_values(prices.book, self._today())
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
        self._say(f"Saved to {shown_path(saved.path)}; costs are recomputed.", error=False)
        self.query_one("#period-info", Static).update(self._editing(saved.book))

    def action_leave(self) -> None:
        """Escape in a field leaves it, so that the screen keys work again; escape outside the fields cancels."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self._fill()
        self._say("Changes cancelled; the rates file was not touched.", error=False)
