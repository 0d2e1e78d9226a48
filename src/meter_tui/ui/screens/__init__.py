"""The screens table: one row per screen, from which the app's modes, keys, command palette entries and key help,
and the snapshot tests' list of screens, are all derived. A new screen is one module and one row here."""

from __future__ import annotations

from dataclasses import dataclass

from meter_tui.ui.screens.base import MeterScreen
from meter_tui.ui.screens.events import EventsScreen
from meter_tui.ui.screens.history import HistoryScreen
from meter_tui.ui.screens.live import LiveScreen
from meter_tui.ui.screens.peak import PeakScreen
from meter_tui.ui.screens.settings import SettingsScreen
from meter_tui.ui.screens.telegram import TelegramScreen


@dataclass(frozen=True, slots=True)
class ScreenEntry:
    key: str
    mode: str
    title: str
    screen: type[MeterScreen]
    summary: str


SCREENS: tuple[ScreenEntry, ...] = (
    ScreenEntry("l", "live", "Live", LiveScreen, "power in and out, phases, costs now and today, gas and water"),
    ScreenEntry("h", "history", "History", HistoryScreen, "usage and cost per day, week, month and year, charts"),
    ScreenEntry("p", "peak", "Peak", PeakScreen, "the running quarter, the month peak and the capacity tariff"),
    ScreenEntry("t", "telegram", "Telegram", TelegramScreen, "the latest telegram, object by object"),
    ScreenEntry("s", "settings", "Settings", SettingsScreen, "the source, the history, and the prices"),
    ScreenEntry("e", "events", "Events", EventsScreen, "what happened, newest first, with the meter's time"),
)
