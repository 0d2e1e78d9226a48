"""The reader path every process shares: a source's bytes -> telegrams, with reconnect, backoff and a state.

`MeterFeed.events()` yields a `StatusEvent` whenever the state changes and a `TelegramEvent` per frame, parsed or
rejected. It never raises for a device problem: it reports it, waits (doubling the wait up to a limit), reopens,
and carries on by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum

from meter_tui.p1.reader import ReadResult, TelegramReader
from meter_tui.sources.base import ByteSource, SourceError


class FeedState(StrEnum):
    CONNECTING = "connecting"
    WAITING = "waiting for data"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FINISHED = "finished"

    @property
    def lost(self) -> bool:
        """The meter is not sending (silent, unplugged, ended): what is shown or published of it is getting old."""
        return self in (FeedState.RECONNECTING, FeedState.FINISHED)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """The feed's state, with what a person needs to see: which source, why, and the running counts."""

    state: FeedState
    source: str
    detail: str = ""
    good: int = 0
    rejected: int = 0
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class TelegramEvent:
    """One frame from the meter, parsed or rejected; `received` is the wall-clock time it came in (time.time())."""

    result: ReadResult
    received: float


FeedEvent = StatusEvent | TelegramEvent


class MeterFeed:
    """Reads one source through one `TelegramReader`, reopening it when it goes away or falls silent."""

    def __init__(
        self,
        source: ByteSource,
        *,
        silence_timeout: float = 10.0,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.silence_timeout = silence_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self.reader = TelegramReader()
        self.last_error = ""

    def status(self, state: FeedState, detail: str = "", retry_in: float | None = None) -> StatusEvent:
        return StatusEvent(
            state, self.source.description, detail, self.reader.good, self.reader.rejected, retry_in=retry_in
        )

    async def events(self) -> AsyncIterator[FeedEvent]:
        """Sessions one after the other, forever (or until the source ends), with growing pauses after failures."""
        delay = self.min_backoff
        while True:
            healthy = False
            async for event in self.session():
                if isinstance(event, TelegramEvent) and event.result.telegram is not None:
                    healthy = True
                yield event
                if isinstance(event, StatusEvent) and event.state is FeedState.FINISHED:
                    return
            delay = self.min_backoff if healthy else min(delay * 2, self.max_backoff)
            yield self.status(FeedState.RECONNECTING, self.last_error, retry_in=delay)
            await asyncio.sleep(delay)

    async def session(self) -> AsyncIterator[FeedEvent]:
        """Open the source once and read until it fails, falls silent or ends. Sets `last_error` on failure."""
        self.last_error = ""
        yield self.status(FeedState.CONNECTING)
        try:
            await self.source.open()
        except SourceError as error:
            self.last_error = str(error)
            return
        state = FeedState.WAITING
        yield self.status(state)
        try:
            while True:
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel (SIGTERM) that lands as
                    # the read completes, and the process then runs on; it also costs a task per read.
                    async with asyncio.timeout(self.silence_timeout):
                        chunk = await self.source.read()
                except TimeoutError:
                    raise SourceError(f"no data for {self.silence_timeout:g} s") from None
                if not chunk:
                    for result in self.reader.flush():
                        yield TelegramEvent(result, self._clock())
                    yield self.status(FeedState.FINISHED, self.source.end_reason)
                    return
                now = self._clock()
                for result in self.reader.feed(chunk):
                    yield TelegramEvent(result, now)
                    if result.telegram is not None and state is not FeedState.CONNECTED:
                        state = FeedState.CONNECTED
                        yield self.status(state)
        except SourceError as error:
            self.last_error = str(error)
            # What was half received before the device went away is a half telegram.
            for result in self.reader.flush():
                yield TelegramEvent(result, self._clock())
        finally:
            await self.source.close()
