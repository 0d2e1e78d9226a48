"""What every meter screen shares: the source line on top, the footer with the keys, and redraws that happen only
while the screen is shown (watchers of hidden screens still fire; they just remember to redraw on resume)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from meter_tui.services.views import Failure, Request, View
from meter_tui.ui.widgets.source_bar import SourceBar

if TYPE_CHECKING:
    from meter_tui.ui.app import MeterApp


class MeterScreen(Screen[None]):
    # A screen that shows the source's state and this process's role redraws when they change, not only with a
    # telegram (a takeover, a source that fell silent).
    SHOWS_SOURCE_STATE = False
    SHOWS_EVENTS = False  # redraws when an event is logged

    def header(self) -> ComposeResult:
        yield SourceBar(id="source")
        yield Static("", id="failure", classes="alarm", markup=False)

    def footer(self) -> ComposeResult:
        # Compact and without the palette entry (ctrl+p still opens it): every screen key fits 80 columns.
        yield Footer(compact=True, show_command_palette=False)

    @property
    def meter(self) -> MeterApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self._dirty = True
        self.query_one("#failure").display = False
        self.watch(self.app, "live", self._changed, init=False)
        self.watch(self.app, "rates_version", self._changed, init=False)
        self.watch(self.app, "theme", self._theme_changed, init=False)
        if self.SHOWS_SOURCE_STATE:
            self.watch(self.app, "source_line", self._changed, init=False)
        if self.SHOWS_EVENTS:
            self.watch(self.app, "events_logged", self._changed, init=False)
        self.redraw()

    def _changed(self, _: Any) -> None:
        if self.is_current:
            self.redraw()
        else:
            self._dirty = True

    def _theme_changed(self, _: Any) -> None:
        """Colours of numbers are the theme's: what was drawn is drawn again in the new shades."""
        self.forget_drawn()
        self._changed(None)

    def forget_drawn(self) -> None:
        """Subclasses that skip redrawing unchanged content forget what they drew."""

    def on_screen_resume(self) -> None:
        if getattr(self, "_dirty", False):
            self.redraw()

    def redraw(self) -> None:
        """Show the latest state; subclasses draw."""
        self._dirty = False

    async def fetch(self, request: Request) -> View | None:
        """The view this screen asks for, from the app; a failure is shown in its place and gives None."""
        result = await self.meter.view(request)
        failure = self.query_one("#failure", Static)
        if isinstance(result, Failure):
            failure.update(result.message)
            failure.display = True
            return None
        failure.display = False
        return result
