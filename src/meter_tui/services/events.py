"""The event log: what happened while nobody was looking (a history error, a rejected telegram, prices saved, a
worker restarted), with the meter's time when there is one. Kept in memory, newest last, at most `EVENTS_KEPT`."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

EVENTS_KEPT = 200


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    time: datetime
    severity: str  # "information", "warning" or "error", as Textual's notifications
    text: str


class EventLog:
    def __init__(self, kept: int = EVENTS_KEPT) -> None:
        self._events: deque[LoggedEvent] = deque(maxlen=kept)
        self.count = 0  # events ever logged: a screen redraws when it changes

    def add(self, text: str, severity: str = "information", at: datetime | None = None) -> LoggedEvent:
        event = LoggedEvent(at or datetime.now().astimezone(), severity, text)
        self._events.append(event)
        self.count += 1
        return event

    def newest_first(self) -> tuple[LoggedEvent, ...]:
        return tuple(reversed(self._events))
