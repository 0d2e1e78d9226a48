"""What each colour means, the same on every screen: import, export, cost, gas, water, alarm.

The stylesheet reads them as `$m-import` and so on (`MeterApp.get_css_variables`); tables and rich text take them
from `styled`. Each theme has its own shades, so a number reads as well on the light background as on the dark.
"""

from __future__ import annotations

from rich.text import Text

DARK = {
    "import": "#ffa62b",
    "export": "#4ebf71",
    "cost": "#e8c547",
    "gas": "#d183e8",
    "water": "#4fb3ff",
    "alarm": "#ff5f6d",
    "muted": "#9e9e9e",
}
LIGHT = {
    "import": "#b35900",
    "export": "#1e7a3a",
    "cost": "#8a6500",
    "gas": "#8e3fa8",
    "water": "#0061a8",
    "alarm": "#c0202f",
    "muted": "#606060",
}


def colours(dark: bool) -> dict[str, str]:
    return DARK if dark else LIGHT


def css_variables(dark: bool) -> dict[str, str]:
    return {f"m-{meaning}": colour for meaning, colour in colours(dark).items()}


def styled(text: str, meaning: str | None, dark: bool, *, bold: bool = False, right: bool = True) -> Text:
    """A table cell or a figure: right-aligned unless told otherwise, in the colour of what it is."""
    style = colours(dark)[meaning] if meaning else ""
    if bold:
        style = f"bold {style}".strip()
    return Text(text, style=style, justify="right" if right else "left")


def rgb(meaning: str, dark: bool) -> tuple[int, int, int]:
    """The colour as plotext wants it."""
    colour = colours(dark)[meaning]
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
