"""A value on screen that changes every second: a line (or a few) whose height the stylesheet fixes."""

from __future__ import annotations

from rich.console import RenderableType
from textual.widgets import Static


class Readout(Static):
    """Repaints only itself, and only when its text changes.

    A plain `Static.update` asks for a layout pass of the whole screen; at one telegram a second those layouts were
    most of the live screen's CPU. A readout's height is fixed in the stylesheet (one line unless a rule says
    otherwise), so a new value can never change the layout and a repaint of its own lines is enough.
    """

    _shown: RenderableType | None = None

    DEFAULT_CSS = """
    Readout {
        height: 1;
    }
    """

    def show(self, text: RenderableType) -> None:
        """Show `text` (or any rich renderable, which callers show only when it changed)."""
        if isinstance(text, str) and text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)
