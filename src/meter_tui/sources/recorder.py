"""`meter-tui record`: the meter read headless, for running as a service, with everything kept on SIGTERM.

It prints one line per state change, so that a journal or a log file tells what happened and when.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from meter_tui.sources.capture import CaptureWriter
from meter_tui.sources.feed import StatusEvent
from meter_tui.sources.hub import HubEvent, Role, RoleEvent, SharedMeter
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor


class Recorder:
    """Consumes the shared meter's events: every good telegram goes to the capture files and, in the owner, to
    the history database."""

    def __init__(
        self,
        meter: SharedMeter,
        *,
        capture: Path | None = None,
        db: Path | None = None,
        raw_days: int = 7,
        log: TextIO = sys.stderr,
    ) -> None:
        self.meter = meter
        self.capture = CaptureWriter(capture) if capture is not None else None
        self.db = db
        self.raw_days = raw_days
        self.log = log
        self.good = 0
        self.rejected = 0
        self.ingestor: Ingestor | None = None
        self._owner = False

    def _say(self, text: str) -> None:
        print(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {text}", file=self.log, flush=True)

    def handle(self, event: HubEvent) -> None:
        if isinstance(event, RoleEvent):
            self._owner = event.role is Role.OWNER
            who = "owner of the meter" if self._owner else f"following pid {event.owner_pid}"
            self._say(f"meter-tui record: {who}")
            if self._owner and self.db is not None and self.ingestor is None:
                # Only the owner writes the history; followers see the same telegrams and leave it alone.
                self.ingestor = Ingestor(open_database(self.db), raw_days=self.raw_days)
                self.ingestor.on_error = self._say
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
            if self.ingestor is not None and self._owner:
                self.ingestor.add(telegram)
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
            if self.ingestor is not None:
                self.ingestor.flush()
                self.ingestor.connection.close()
            self._say(f"stopped: {self.good} telegrams, {self.rejected} rejected")
        return 0
