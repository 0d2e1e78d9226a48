"""The line at the top of every screen: which source, its state, this process's role, the telegram age, counts."""

from __future__ import annotations

from meter_tui.ui.widgets.readout import Readout


class SourceBar(Readout):
    """Shows `app.source_line`; the app recomputes it once a second and when the state changes."""

    def on_mount(self) -> None:
        self.watch(self.app, "source_line", self.show)
        self.watch(self.app, "source_alarm", self._alarm)

    def _alarm(self, alarm: bool) -> None:
        self.set_class(alarm, "alarm")
