"""Settings: the source and the store, and the rates editor: every price of rates.json in a form, checked as you
type, saved atomically; a bad value cannot be saved and says why."""

from __future__ import annotations

import copy
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.validation import Number
from textual.widgets import Button, Input, Label, Static

from meter_tui.energy.rates import RateBook, RatesError
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


def editable_part(document: dict[str, Any]) -> dict[str, Any]:
    """The prices in force now: the last dated period if there is one, else the top level."""
    periods = document.get("Periods") or []
    return periods[-1] if periods else document


def current_values(book: RateBook) -> dict[str, float]:
    rates = book.current
    return {
        "import-day": rates.import_day,
        "import-night": rates.import_night,
        "export-day": rates.export_day,
        "export-night": rates.export_night,
        "gas": rates.gas_m3,
        "water": rates.water_m3,
        "capacity": rates.capacity_kw_year,
        "fixed": rates.fixed_month,
    }


class SettingsScreen(MeterScreen):
    SHOWS_SOURCE_STATE = True
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="settings-body"):
            yield Static("", id="source-info")
            yield Label("Rates", classes="section")
            with Grid(id="rates-form"):
                for field_id, label, _, maximum in FIELDS:
                    yield Label(label)
                    yield Input(id=field_id, validators=[Number(minimum=0, maximum=maximum)], restrict=r"[0-9.,]*")
            yield Static("", id="rates-message")
            with Horizontal(id="rates-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield from self.footer()

    def on_mount(self) -> None:
        self._fill()
        super().on_mount()

    def _fill(self) -> None:
        prices = self.meter.prices
        if prices is None:
            return
        for field_id, value in current_values(prices.book).items():
            self.query_one(f"#{field_id}", Input).value = f"{value:g}"
        refused = prices.error
        self._say(f"Refused: {refused}" if refused else f"Rates file: {prices.path}", error=bool(refused))
        self._check()

    def redraw(self) -> None:
        super().redraw()
        app = self.meter
        status = app.status
        lines = [
            f"Source: {status.source if status else '-'}  ·  {status.state.value if status else 'starting'}",
            f"Role: {app.role_text()}  ·  telegrams {app.good} good, "
            f"{app.rejected} rejected" + (f" (last: {app.last_rejection})" if app.last_rejection else ""),
            f"History: {app.history_path or 'not kept'}" + (f"  ·  {app.store_error}" if app.store_error else ""),
        ]
        if app.publisher is not None:
            lines.append(f"MQTT: {app.publisher.settings.shown}  ·  {app.publisher.status}")
        self.query_one("#source-info", Static).update("\n".join(lines))

    def on_input_changed(self, _: Input.Changed) -> None:
        self._check()

    def _check(self) -> bool:
        problems = []
        for field_id, label, _, _ in FIELDS:
            widget = self.query_one(f"#{field_id}", Input)
            result = widget.validate(widget.value)
            if result is not None and not result.is_valid:
                problems.append(f"{label}: {'; '.join(result.failure_descriptions)}")
        self.query_one("#save", Button).disabled = bool(problems)
        if problems:
            self._say("Cannot save. " + " | ".join(problems), error=True)
        return not problems

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
        target = editable_part(document)
        before = current_values(prices.book)
        for field_id, _, path, _ in FIELDS:
            value = float(self.query_one(f"#{field_id}", Input).value.replace(",", "."))
            if value == before[field_id]:
                continue  # untouched prices keep the file's own form (an area name, a period)
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
        self._say(f"Saved to {saved.path}; costs are recomputed.", error=False)

    def action_cancel(self) -> None:
        self._fill()
        self._say("Changes cancelled; the rates file was not touched.", error=False)
