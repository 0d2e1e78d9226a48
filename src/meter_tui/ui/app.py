"""MeterApp: five screens as Textual modes, one worker that reads the meter, and the session that computes.

`create_app` is the one factory the command line, `textual serve` and the tests share (as posting does): the tests
hand it a fixed list of events, a fixed clock and a fixed theme; the command line hands it the shared meter.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from meter_tui.p1.telegram import Telegram
from meter_tui.session import Session
from meter_tui.sources.feed import FeedState, StatusEvent, TelegramEvent
from meter_tui.sources.hub import HubEvent, Role, RoleEvent
from meter_tui.ui.messages import MeterStatus, TelegramReceived, TelegramRejected
from meter_tui.ui.screens.history import HistoryScreen
from meter_tui.ui.screens.live import LiveScreen
from meter_tui.ui.screens.peak import PeakScreen
from meter_tui.ui.screens.settings import SettingsScreen
from meter_tui.ui.screens.telegram import TelegramScreen

STALE_SECONDS = 5.0
IN_FLIGHT = 4
RATE_WINDOW = 20  # telegrams over which the source line measures a replay's real rate
LATE_SECONDS = 2.0
SCREENS = (("l", "live", "Live"), ("h", "history", "History"), ("p", "peak", "Peak"),
           ("t", "telegram", "Telegram"), ("s", "settings", "Settings"))  # fmt: skip

if TYPE_CHECKING:
    from meter_tui.mqtt.publisher import MqttPublisher

EventSource = Callable[[], AsyncIterator[HubEvent]]
T = TypeVar("T")


class KeysScreen(ModalScreen[None]):
    """The key help: every key of every screen on one page."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        lines = [f"[b]{key}[/b]  {name}" for key, _, name in SCREENS]
        lines += [
            "",
            "[b]History[/b]  [ ] previous/next period   v day/week/month/year   c import/export/gas/water/cost",
            "[b]Telegram[/b] r raw telegram",
            "[b]Settings[/b] edit a price, then ctrl+s to save or escape to cancel",
            "",
            "[b]d[/b] light/dark theme   [b]ctrl+p[/b] command palette   [b]q[/b] quit   [b]?[/b] this help",
        ]
        yield Static("\n".join(lines), id="keys")


class MeterApp(App[None]):
    CSS_PATH = "meter.tcss"
    TITLE = "meter-tui"
    MODES = {"live": LiveScreen, "history": HistoryScreen, "peak": PeakScreen, "telegram": TelegramScreen,
             "settings": SettingsScreen}  # fmt: skip
    DEFAULT_MODE = "live"
    BINDINGS = [
        *(Binding(key, f"switch_mode('{mode}')", name) for key, mode, name in SCREENS),
        Binding("question_mark", "keys", "Keys"),
        Binding("d", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    # `var`, not `reactive`: the screens and the source bar watch these and repaint what changed; a `reactive` on the
    # app would also repaint the whole screen on every telegram.
    telegram: var[Telegram | None] = var(None, always_update=True)
    source_line: var[str] = var("starting")
    source_alarm: var[bool] = var(False)
    rates_version: var[int] = var(0)

    def __init__(
        self,
        session: Session,
        events: EventSource,
        *,
        clock: Callable[[], float] = time.time,
        theme: str = "textual-dark",
        publisher: MqttPublisher | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.publisher = publisher
        self._events = events
        self._clock = clock
        self._start_theme = theme
        self.status: StatusEvent | None = None
        self.role: Role | None = None
        self.owner_pid: int | None = None
        self._arrivals: deque[float] = deque(maxlen=RATE_WINDOW)  # when the last telegrams were received
        # Telegrams posted and not yet handled: the meter worker waits beyond a few, so a replay faster than the app
        # slows to the app's pace instead of filling the message queue (and the source line shows that pace).
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)
        self.good = 0
        self.rejected = 0
        self.last_rejection = ""
        # One thread for the history: writes and the queries that read them, in order; the UI never waits on SQLite.
        self._store_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    def on_mount(self) -> None:
        self.theme = self._start_theme
        self.read_meter()
        if self.publisher is not None:
            self.run_worker(self.publisher.run(), group="mqtt", exit_on_error=False)
        self.set_interval(1.0, self.refresh_source_line)

    @work(exclusive=True, group="meter", exit_on_error=False)
    async def read_meter(self) -> None:
        """The meter worker: every event of the shared meter becomes a message; reconnecting is the feed's job."""
        async for event in self._events():
            if isinstance(event, RoleEvent):
                self.post_message(MeterStatus(role=event.role, owner_pid=event.owner_pid))
            elif isinstance(event, StatusEvent):
                self.post_message(MeterStatus(status=event))
            elif isinstance(event, TelegramEvent):
                result = event.result
                if result.telegram is not None:
                    await self._in_flight.acquire()
                    self.post_message(TelegramReceived(result.telegram, event.received))
                elif result.error is not None:
                    self.post_message(TelegramRejected(result.error.message))

    async def on_meter_status(self, message: MeterStatus) -> None:
        if message.role is not None:
            self.role = message.role
            self.owner_pid = message.owner_pid
            if message.role is Role.OWNER:
                await self.in_store(self.session.become_owner)
        if message.status is not None:
            self.status = message.status
        self.refresh_source_line()

    async def on_telegram_received(self, message: TelegramReceived) -> None:
        self._in_flight.release()
        await self.in_store(self.session.add, message.telegram)
        self._arrivals.append(message.received)
        self.good += 1
        self.telegram = message.telegram
        self.refresh_source_line()
        # After the screens have their telegram: today's cost for MQTT is a query now and then.
        if self.publisher is not None and (values := await self.in_store(self.session.live_values)) is not None:
            self.publisher.offer(values)

    def on_telegram_rejected(self, message: TelegramRejected) -> None:
        self.rejected += 1
        self.last_rejection = message.reason
        self.refresh_source_line()

    def refresh_source_line(self) -> None:
        status = self.status
        parts = []
        alarm = False
        if status is None:
            parts.append("starting")
        else:
            state = status.state.value
            if status.state is FeedState.RECONNECTING and status.detail:
                state += f" ({status.detail})"
                alarm = True
            parts += [status.source, state]
        if self.role is Role.FOLLOWER:
            parts.append(self.role_text())
        if (received := self.received) is not None:
            age = max(0.0, self._clock() - received)
            stale = age > STALE_SECONDS
            alarm = alarm or stale
            # Seconds are counted only once a telegram is late: at one a second the line then changes with the
            # telegrams alone, and the timer's tick in between repaints nothing.
            said = f"last telegram {age:.0f} s ago" if age >= LATE_SECONDS else "last telegram now"
            parts.append(said + (" - STALE" if stale else ""))
        if (rate := self.telegram_rate()) is not None:
            parts.append(f"{rate:,.0f} telegrams/s")
        parts.append(f"{self.good} good, {self.rejected} rejected")
        if self.session.store_error:
            parts.append(f"history: {self.session.store_error}")
            alarm = True
        self.source_alarm = alarm
        self.source_line = " · ".join(parts)

    @property
    def received(self) -> float | None:
        """When the latest telegram was received."""
        return self._arrivals[-1] if self._arrivals else None

    def role_text(self) -> str:
        """This process's part, said the same way on the source line and in Settings."""
        if self.role is Role.OWNER:
            return "owner of the meter"
        if self.role is Role.FOLLOWER:
            return f"following pid {self.owner_pid}" if self.owner_pid else "following the owner"
        return "starting"

    def telegram_rate(self) -> float | None:
        """Telegrams a second over the last ones, when a replay or a fast demo sends more than one a second: the
        speed asked for is in the source's name, this is what the machine gives."""
        arrivals = self._arrivals
        if len(arrivals) < RATE_WINDOW or arrivals[-1] <= arrivals[0]:
            return None
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        return rate if rate >= 1.5 else None

    async def in_store(self, work: Callable[..., T], *args: object) -> T:
        """Run session work on the store thread: after every telegram already received, never on the UI thread."""
        return await asyncio.get_running_loop().run_in_executor(self._store_thread, work, *args)

    def action_keys(self) -> None:
        self.push_screen(KeysScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def rates_saved(self) -> None:
        """Costs everywhere are recomputed with the new prices."""
        self.rates_version += 1

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for _, mode, name in SCREENS:
            yield SystemCommand(f"{name} screen", f"Show the {name.lower()} screen", lambda m=mode: self.switch_mode(m))

    async def on_unmount(self) -> None:
        await self.in_store(self.session.close)
        self._store_thread.shutdown(wait=True)


def create_app(
    session: Session,
    events: EventSource,
    *,
    clock: Callable[[], float] = time.time,
    theme: str = "textual-dark",
    publisher: MqttPublisher | None = None,
) -> MeterApp:
    return MeterApp(session, events, clock=clock, theme=theme, publisher=publisher)
