"""`meter-tui record`: the meter read headless, for running as a service, with everything kept on SIGTERM.

It prints one line per state change, so that a journal or a log file tells what happened and when.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from meter_tui.sources.capture import CaptureWriter
from meter_tui.sources.feed import StatusEvent, TelegramEvent
from meter_tui.sources.hub import HubEvent, RoleEvent, SharedMeter


class Recorder:
    """Consumes the shared meter's events; `sinks` get every good telegram (the store, the capture files)."""

    def __init__(self, meter: SharedMeter, *, capture: Path | None = None, log: TextIO = sys.stderr) -> None:
        self.meter = meter
        self.capture = CaptureWriter(capture) if capture is not None else None
        self.log = log
        self.good = 0
        self.rejected = 0
        self.sinks: list[Callable[[TelegramEvent], None]] = []

    def _say(self, text: str) -> None:
        print(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {text}", file=self.log, flush=True)

    def handle(self, event: HubEvent) -> None:
        if isinstance(event, RoleEvent):
            who = "owner of the meter" if event.role.value == "owner" else f"following pid {event.owner_pid}"
            self._say(f"meter-tui record: {who}")
        elif isinstance(event, StatusEvent):
            extra = f": {event.detail}" if event.detail else ""
            retry = f", retry in {event.retry_in:g} s" if event.retry_in else ""
            self._say(f"{event.source}: {event.state.value}{extra}{retry}")
        elif event.result.telegram is not None:
            self.good += 1
            telegram = event.result.telegram
            if self.capture is not None:
                day = (telegram.timestamp or datetime.fromtimestamp(event.received).astimezone()).date()
                self.capture.write(event.result.raw + b"\r\n", day)
            for sink in self.sinks:
                sink(event)
        else:
            self.rejected += 1
            self._say(f"rejected telegram: {event.result.error}")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        try:
            async for event in self.meter.events():
                self.handle(event)
        except asyncio.CancelledError:
            self._say("stopping")
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            if self.capture is not None:
                self.capture.close()
            self._say(f"stopped: {self.good} telegrams, {self.rejected} rejected")
        return 0
