"""`meter-tui record`: the meter read headless, for running as a service, with everything kept on SIGTERM.

It prints one line per state change, so that a journal or a log file tells what happened and when.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from meter_tui.services.events import Throttle, by_reason
from meter_tui.services.session import Session
from meter_tui.sources.capture import CaptureWriter
from meter_tui.sources.feed import StatusEvent
from meter_tui.sources.hub import HubEvent, Role, RoleEvent, SharedMeter

if TYPE_CHECKING:
    from meter_tui.mqtt.publisher import MqttPublisher


class Recorder:
    """Consumes the shared meter's events: every good telegram goes to the capture files, to the session (which
    writes the history in the owner) and, when asked, to MQTT."""

    def __init__(
        self,
        meter: SharedMeter,
        session: Session,
        *,
        capture: Path | None = None,
        publisher: MqttPublisher | None = None,
        log: TextIO = sys.stderr,
    ) -> None:
        self.meter = meter
        self.session = session
        self.capture = CaptureWriter(capture) if capture is not None else None
        self.publisher = publisher
        self.log = log
        self.good = 0
        self.rejected = 0
        self.throttle = Throttle(self.say)  # rejected telegrams and failing sources: a few lines a minute at most
        self.reasons: dict[str, int] = {}  # rejected telegrams by reason (CRC, impossible value, wrong unit, ...)
        self.read_error = ""  # why the history cannot be read for today's costs, as last said

    def _read_error(self, error: str) -> None:
        """Said once when the history cannot be read (and once when it can again); recording goes on."""
        if error != self.read_error:
            self.read_error = error
            self.say(f"history {error}; MQTT goes on without today's costs" if error else "history readable again")

    def say(self, text: str) -> None:
        print(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {text}", file=self.log, flush=True)

    def handle(self, event: HubEvent) -> None:
        self.throttle.tick()
        if isinstance(event, RoleEvent):
            owner = event.role is Role.OWNER
            who = "owner of the meter" if owner else f"following pid {event.owner_pid}"
            self.say(f"meter-tui record: {who}")
            if owner:
                # Only the owner writes the history; followers see the same telegrams and leave it alone.
                self.session.history.on_error = self.say
                # A glitching meter refused every second would fill the log: a few lines a minute of each reason.
                self.session.history.on_refused = lambda reason, text: self.throttle(f"refused {reason}", text)
                error = self.session.become_owner()
                if error:
                    self.say(f"history not kept: {error}")
        elif isinstance(event, StatusEvent):
            extra = f": {event.detail}" if event.detail else ""
            retry = f", retry in {event.retry_in:g} s" if event.retry_in else ""
            self.throttle(f"status {event.state.value}", f"{event.source}: {event.state.value}{extra}{retry}")
            if event.state.lost and self.publisher is not None:
                self.publisher.meter_lost()  # MQTT says `offline` until telegrams come again
        elif event.result.telegram is not None:
            self.good += 1
            telegram = event.result.telegram
            if self.capture is not None:
                day = (telegram.timestamp or datetime.fromtimestamp(event.received).astimezone()).date()
                self.capture.write(event.result.raw + b"\r\n", day)
            self.session.add(telegram)
            for note in self.session.history.take_notes():  # a backup written, a history taken over
                self.say(note)
            if self.publisher is not None and (values := self.session.live_values()) is not None:
                self.publisher.offer(values)
                self._read_error(self.session.read_error)
        else:
            self.rejected += 1
            self.throttle("rejected", f"rejected telegram: {event.result.error}")
            reason = event.result.error.reason if event.result.error is not None else "framing"
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        publishing = asyncio.create_task(self.publisher.run()) if self.publisher is not None else None
        if self.meter.note:
            self.say(f"meter-tui record: {self.meter.note}")
        refused = self.session.prices.view.error
        if refused and self.publisher is not None:
            self.say(f"costs use the example prices: {refused}")
        status = 0
        try:
            async for event in self.meter.events():
                self.handle(event)
        except asyncio.CancelledError:
            self.say("stopping")
        except Exception as error:  # a bug: said in one line, what was gathered is saved, and the exit status says it
            self.say(f"stopping on an unexpected error: {type(error).__name__}: {error}")
            status = 1
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            if self.capture is not None:
                self.capture.close()
            if publishing is not None:
                publishing.cancel()
                await asyncio.wait([publishing], timeout=3)
            self.session.close()
            self.throttle.flush()
            refused = self.session.history.refused
            self.say(f"stopped: {self.good} telegrams, {self.rejected} rejected{by_reason(self.reasons)}"
                     + (f"; the history refused{by_reason(refused)}" if refused else ""))  # fmt: skip
        return status
