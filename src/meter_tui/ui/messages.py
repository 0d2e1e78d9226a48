"""Messages from the meter worker to the app and its screens."""

from __future__ import annotations

from textual.message import Message

from meter_tui.p1.telegram import Telegram
from meter_tui.sources.feed import StatusEvent
from meter_tui.sources.hub import Role


class TelegramReceived(Message):
    """A good telegram from the meter (owned here or followed)."""

    def __init__(self, telegram: Telegram, received: float) -> None:
        super().__init__()
        self.telegram = telegram
        self.received = received


class TelegramRejected(Message):
    def __init__(self, reason: str, kind: str = "framing") -> None:
        super().__init__()
        self.reason = reason
        self.kind = kind  # the reason in a word or two, for the counts on the source line


class MeterStatus(Message):
    """The source's state changed, or this process's role (owner or follower)."""

    def __init__(
        self, status: StatusEvent | None = None, role: Role | None = None, owner_pid: int | None = None
    ) -> None:
        super().__init__()
        self.status = status
        self.role = role
        self.owner_pid = owner_pid
