"""MeterApp: the screens of the screens table as Textual modes, a supervised worker that reads the meter, and the
session that computes views on the store thread.

`create_app` is the one factory the command line, `textual serve` and the tests share (as posting does): the tests
hand it a fixed list of events, a fixed clock and a fixed theme; the command line hands it the shared meter.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from meter_tui.config import shown_path
from meter_tui.p1.values import BRUSSELS
from meter_tui.services.events import EVENTS_KEPT, EventLog, LoggedEvent, Throttle, by_reason
from meter_tui.services.prices import PricesView
from meter_tui.services.session import Session
from meter_tui.services.views import Failure, LiveView, Request, View
from meter_tui.sources.feed import FeedState, StatusEvent, TelegramEvent
from meter_tui.sources.hub import HubEvent, Role, RoleEvent
from meter_tui.store.database import StoreError
from meter_tui.ui.messages import MeterStatus, TelegramReceived, TelegramRejected
from meter_tui.ui.palette import css_variables
from meter_tui.ui.screens import SCREENS

STALE_SECONDS = 5.0
IN_FLIGHT = 4
RATE_WINDOW = 20  # telegrams over which the source line measures a replay's real rate
LATE_SECONDS = 2.0
DETAIL_SHOWN = 32  # characters of a reconnect's reason on the source line
WITH_WEEKDAY = 100  # columns from which the meter's time on the source line has its weekday
SOURCE_MIN = 12  # characters of the source's name the source line keeps, however narrow
RESTART_FIRST, RESTART_MAX = 1.0, 60.0  # seconds before a worker that died is started again, doubling

if TYPE_CHECKING:
    from meter_tui.mqtt.publisher import MqttPublisher

EventSource = Callable[[], AsyncIterator[HubEvent]]
T = TypeVar("T")


class KeysScreen(ModalScreen[None]):
    """The key help, written from the screens table and the bindings: it cannot fall behind them."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        lines = [Text.assemble((entry.key, "bold"), f"  {entry.title:<9} {entry.summary}") for entry in SCREENS]
        for entry in SCREENS:
            # The screen's own keys, not those every Textual screen inherits (tab, copy).
            own = [b for b in vars(entry.screen).get("BINDINGS", []) if b.description]
            if own := [b for b in own if not (b.action == "save" and self.app.read_only)]:
                lines.append(Text.assemble((f"{entry.title}: ", "bold"), _described(own)))
        general = [b for b in self.app.BINDINGS if isinstance(b, Binding) and "switch_mode" not in b.action]
        lines += [Text(), _described(general), Text.assemble(("ctrl+p", "bold"), " command palette")]
        with VerticalScroll(id="keys-box"):
            yield Static(Text("\n").join(lines), id="keys")


def _described(bindings: list[Binding]) -> Text:
    """`key description` for each binding, the key in bold; the keys of one description together (←/→ columns)."""
    groups: dict[str, list[str]] = {}
    for binding in bindings:
        groups.setdefault(binding.description.lower(), []).extend(
            KEY_NAMES.get(key, key) for key in binding.key.split(",")
        )
    parts: list[Text | tuple[str, str] | str] = []
    for description, keys in groups.items():
        parts += [("/".join(keys), "bold"), f" {description}   "]
    text = Text.assemble(*parts)
    text.rstrip()
    return text


KEY_NAMES = {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]", "left": "←",
             "right": "→", "up": "↑", "down": "↓", "pageup": "pgup", "pagedown": "pgdn"}  # fmt: skip


def ellipsized(text: str, room: int) -> str:
    """`text` in at most `room` characters, cut in its middle: a path keeps its start and its file name."""
    if len(text) <= room:
        return text
    head = (room - 1) // 2
    return text[:head] + "…" + text[len(text) - (room - 1 - head) :]


class MeterApp(App[None]):
    CSS_PATH = "meter.tcss"
    TITLE = "meter-tui"
    MODES = {entry.mode: entry.screen for entry in SCREENS}
    DEFAULT_MODE = SCREENS[0].mode
    BINDINGS = [
        *(Binding(entry.key, f"switch_mode('{entry.mode}')", entry.title) for entry in SCREENS),
        Binding("question_mark", "keys", "Keys"),
        Binding("d", "toggle_theme", "Light/dark theme", show=False),
        Binding("q", "quit", "Quit", show=False),  # in the key help: the footer's 80 columns go to the screens
    ]

    # `var`, not `reactive`: the screens and the source bar watch these and repaint what changed; a `reactive` on the
    # app would also repaint the whole screen on every telegram.
    live: var[LiveView | None] = var(None, always_update=True)
    prices: var[PricesView | None] = var(None)
    source_line: var[str] = var("starting")
    source_alarm: var[bool] = var(False)
    rates_version: var[int] = var(0)
    events_logged: var[int] = var(0)

    def __init__(
        self,
        session: Session,
        events: EventSource,
        *,
        clock: Callable[[], float] = time.time,
        theme: str = "textual-dark",
        publisher: MqttPublisher | None = None,
        read_only: bool = False,
        port: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self._notes = notes  # what happened before the app started (folders made private), for the event log
        self.port = port  # the meter's serial port, when it is read from one
        self.read_only = read_only  # a served tab without --allow-edit: the prices cannot be changed here
        # The session lives on the store thread: the app calls it only through `in_store` and shows its views.
        self.session = session
        self.publisher = publisher
        self._events = events
        self._clock = clock
        self._start_theme = theme
        self.status: StatusEvent | None = None
        self._lost = False  # the meter was lost and is not back yet
        self._stale = False  # the latest telegram is older than STALE_SECONDS
        self.role: Role | None = None
        self.owner_pid: int | None = None
        self._arrivals: deque[float] = deque(maxlen=RATE_WINDOW)  # when the last telegrams were received
        # Telegrams posted and not yet handled: the meter worker waits beyond a few, so a replay faster than the app
        # slows to the app's pace instead of filling the message queue (and the source line shows that pace).
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)
        self.good = 0
        self.rejected = 0
        # A stream of bogus frames would push every other event out of the log: a few lines a minute at most.
        self.rejections = Throttle(self.log_event)
        self.reasons: dict[str, int] = {}  # telegrams the parser rejected, by reason
        self.history_refused: dict[str, int] = {}  # telegrams (and readings) the history refused, by reason
        self.last_rejection = ""
        self.store_error = ""
        self.history_path = session.history.db_path  # said on the settings screen; fixed for the app's life
        # Before the store thread runs, the UI may read the session once: the prices to start with.
        self.set_reactive(MeterApp.prices, session.prices.view)
        self.event_log = EventLog()
        # One thread for the history: writes and the queries that read them, in order; the UI never waits on SQLite.
        self._store_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables and the meanings' colours ($m-import, $m-export, ...) in its shades."""
        return {**super().get_css_variables(), **css_variables(self.current_theme.dark)}

    @property
    def dark(self) -> bool:
        return self.current_theme.dark

    def on_mount(self) -> None:
        self.theme = self._start_theme
        if self.prices is not None and self.prices.error:
            self.log_event(f"rates.json refused, the example prices are used: {self.prices.error}", "error")
        for note in self._notes:
            self.log_event(note)
        self.run_worker(self._restore_events(), group="events")
        self.run_worker(self._supervised("meter reader", self.read_meter), group="meter")
        if self.publisher is not None:
            self.run_worker(self._supervised("MQTT publisher", self.publisher.run), group="mqtt")
        self.set_interval(1.0, self.refresh_source_line)

    async def _restore_events(self) -> None:
        """The events of earlier runs, from the history, under this run's."""
        stored = await self.in_store(self.session.past_events, EVENTS_KEPT)
        self.event_log.restore(
            [LoggedEvent(datetime.fromtimestamp(time, BRUSSELS), severity, text) for time, severity, text in stored]
        )
        self.events_logged = self.event_log.count

    async def _supervised(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` until it returns; when it dies, say so (notification and event log) and start it again after
        a pause that doubles up to a minute, so that a bug met on every start does not spin."""
        delay = RESTART_FIRST
        while True:
            try:
                await work()
            except Exception as error:  # any failure: a person is told and the worker comes back
                self.log_event(f"{name} stopped ({type(error).__name__}: {error}); restarting in {delay:g} s", "error")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESTART_MAX)
            else:
                return

    def log_event(self, text: str, severity: str = "information", *, notify: bool = False) -> None:
        """Into the event log, at the meter's time when there is one; warnings and errors (and what asks for it)
        also as a notification."""
        live = self.live
        event = self.event_log.add(text, severity, live.telegram.timestamp if live is not None else None)
        self.events_logged = self.event_log.count
        if not self._store_thread._shutdown:  # an event while the app closes is not kept
            self._store_thread.submit(self.session.log_event, int(event.time.timestamp()), severity, text)
        if notify or severity != "information":
            self.notify(text, severity=severity, timeout=8)  # type: ignore[arg-type]

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
                    # Rejections wait their turn too: a source of nothing but bad data cannot flood the queue.
                    await self._in_flight.acquire()
                    self.post_message(TelegramRejected(result.error.message, result.error.reason))

    async def on_meter_status(self, message: MeterStatus) -> None:
        if message.role is not None:
            self.role = message.role
            self.owner_pid = message.owner_pid
            if message.role is Role.OWNER:
                self._history_error(await self.in_store(self.session.become_owner))
        if message.status is not None:
            self._meter_state(message.status)
            if message.status.state.lost and self.publisher is not None:
                self.publisher.meter_lost()  # MQTT says `offline` until telegrams come again
            self.status = message.status
        self.refresh_source_line()

    def _meter_state(self, now: StatusEvent) -> None:
        """The meter lost (with the whole reason, which the source line shortens) and back."""
        if now.state is FeedState.RECONNECTING and not self._lost:
            self._lost = True
            self.log_event(f"meter lost: {now.source}: {now.detail or 'no reason given'}", "warning")
        elif now.state is FeedState.CONNECTED and self._lost:
            self._lost = False
            self.log_event(f"meter back: {now.source}", "information", notify=True)
        elif now.state is FeedState.FINISHED:
            self.log_event(f"{now.source}: {now.detail}", "information", notify=True)

    async def on_telegram_received(self, message: TelegramReceived) -> None:
        self._in_flight.release()
        try:
            view = await self.in_store(self.session.add_viewed, message.telegram)
        except (sqlite3.Error, StoreError, OSError) as error:
            self._store_failed(error)
            return
        finally:
            self._arrivals.append(message.received)
            self.good += 1
        self.live = view
        self.history_refused = dict(view.refused)
        for event in view.events:
            self.log_event(event.text, event.severity)
        self._history_error(view.history_error)
        self.refresh_source_line()
        if self.publisher is not None:
            self.publisher.offer(view.values)

    def _history_error(self, error: str) -> None:
        """The history's state (a full disk, a locked file, or '' when all is well): a new error is said once."""
        if error and error != self.store_error:
            self.log_event(f"history: {error}", "error")
        self.store_error = error

    def _store_failed(self, error: Exception) -> None:
        self._history_error(str(error))
        self.refresh_source_line()

    async def view(self, request: Request) -> View | Failure | None:
        """The view a screen asks for, computed on the store thread. A failing query is shown in the screen and
        logged; it never ends the app."""
        try:
            return await self.in_store(self.session.view, request)
        except (sqlite3.Error, StoreError, OSError) as error:
            self._store_failed(error)
            return Failure(f"The history cannot be read: {error}")

    async def save_rates(self, document: dict[str, Any]) -> PricesView:
        """Check and save rates.json (raises RatesError or OSError); every cost then follows the new prices."""
        if self.read_only:
            raise PermissionError("this app is read-only (served without --allow-edit)")
        self.prices = await self.in_store(self.session.save_rates, document)
        self.rates_version += 1
        self.log_event(f"prices saved to {shown_path(self.prices.path)}", notify=True)
        return self.prices

    def on_telegram_rejected(self, message: TelegramRejected) -> None:
        self._in_flight.release()
        self.rejected += 1
        self.reasons[message.kind] = self.reasons.get(message.kind, 0) + 1
        self.last_rejection = message.reason
        self.rejections("rejected", f"telegram rejected: {message.reason}")
        self.refresh_source_line()

    def refresh_source_line(self) -> None:
        """The source line: the meter's time, the source, its state, the role, the telegram age and the counts.
        The source's name is shortened (in its middle) to what the line has room for: the state and the counts
        stay in sight, whatever the name (a replay of a file in a long path)."""
        status = self.status
        alarm = False
        state = "starting"
        if status is not None:
            state = status.state.value
            if status.state in (FeedState.RECONNECTING, FeedState.FINISHED) and status.detail:
                # Short here, so that the line fits 80 columns; whole in Settings and the event log.
                state += f" ({ellipsized(status.detail, DETAIL_SHOWN)})"
                alarm = status.state is FeedState.RECONNECTING
        parts = [state, *self._age_and_counts()]
        if self.store_error:
            parts.append(f"history: {self.store_error}")
            alarm = True
        alarm = alarm or self._stale
        if status is not None:
            room = self.size.width - 2 - len(" · ".join(parts)) - len(" · ") - len(self._meter_time())
            parts.insert(0, ellipsized(status.source, max(room, SOURCE_MIN)))
        self.source_alarm = alarm
        self.source_line = self._meter_time() + " · ".join(parts)

    def _meter_time(self) -> str:
        """The meter's own date and time (its clock, as the original's header shows it), first on the line."""
        live = self.live
        stamp = live.telegram.timestamp if live is not None else None
        if stamp is None:
            return ""
        return (
            f"{stamp:%a %Y-%m-%d %H:%M:%S} │ " if self.size.width >= WITH_WEEKDAY else f"{stamp:%Y-%m-%d %H:%M:%S} │ "
        )

    def _age_and_counts(self) -> list[str]:
        parts = []
        if self.role is Role.FOLLOWER:
            parts.append(self.role_text())
        self._stale = False
        if (received := self.received) is not None:
            age = max(0.0, self._clock() - received)
            self._stale = age > STALE_SECONDS
            # Said only once a telegram is late (the meter's clock in front shows a fresh one): at one a second the
            # line then changes with the telegrams alone, and the timer's tick in between repaints nothing.
            if age >= LATE_SECONDS:
                parts.append(f"last telegram {age:.0f} s ago" + (" - STALE" if self._stale else ""))
        if (rate := self.telegram_rate()) is not None:
            parts.append(f"{rate:,.0f} telegrams/s")
        refused = dict(self.reasons)
        for reason, count in self.history_refused.items():
            refused[reason] = refused.get(reason, 0) + count
        parts.append(f"{self.good} good, {sum(refused.values())} rejected{by_reason(refused)}")
        return parts

    @property
    def received(self) -> float | None:
        """When the latest telegram was received."""
        return self._arrivals[-1] if self._arrivals else None

    def clock(self) -> float:
        """The wall clock (fixed in tests): for what is dated by today, such as this year's capacity price."""
        return self._clock()

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

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for entry in SCREENS:
            yield SystemCommand(f"{entry.title} screen", entry.summary.capitalize(),
                                lambda mode=entry.mode: self.switch_mode(mode))  # fmt: skip

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
    read_only: bool = False,
    port: str | None = None,
    notes: tuple[str, ...] = (),
) -> MeterApp:
    return MeterApp(session, events, clock=clock, theme=theme, publisher=publisher, read_only=read_only, port=port,
                    notes=notes)  # fmt: skip
