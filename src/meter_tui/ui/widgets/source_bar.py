"""The line at the top of every screen: which source, its state, this process's role, the telegram age, counts."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class SourceBar(Static):
    """Shows `app.source_line`; the app recomputes it once a second and when the state changes."""

    line: reactive[str] = reactive("")

    def on_mount(self) -> None:
        self.watch(self.app, "source_line", self._update)
        self.watch(self.app, "source_alarm", self._alarm)

    def _update(self, line: str) -> None:
        self.update(line)

    def _alarm(self, alarm: bool) -> None:
        self.set_class(alarm, "alarm")
