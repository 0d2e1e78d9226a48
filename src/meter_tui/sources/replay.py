"""A capture file played back: bytes as the meter sent them, at real time, N x speed or as fast as possible.

Timing follows the telegrams' own timestamps (the meter clock); a rejected telegram or one without a time waits
one second of meter time, like the meter's rhythm. Each piece is due at a time fixed from the start, not after a
pause counted from the previous one, so the time the app spends on a telegram does not slow the replay down: it
plays at the speed asked for as long as the machine keeps up, and as fast as it can when it does not.

Every piece lets the event loop run, also as fast as possible, so that an app on a replay always answers its keys;
and a loop over a capture in which no telegram passes its checks ends after one pass, saying so, instead of
repeating the same rejections for ever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from meter_tui.p1.reader import TelegramReader
from meter_tui.sources.base import ByteSource, SourceError

MAX_PAUSE = 60.0  # meter seconds: the longest wait between two telegrams of a replay


class ReplaySource(ByteSource):
    """`speed` is how many meter seconds pass per real second; None plays as fast as possible."""

    def __init__(
        self,
        path: Path,
        *,
        speed: float | None = 1.0,
        loop: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.path = path
        self.speed = speed
        self.loop = loop
        pace = "as fast as possible" if speed is None else f"x{speed:g}"
        self.description = f"replay {path.name} {pace}" + (" (loop)" if loop else "")
        self._pieces: list[tuple[bytes, float]] = []
        self._good = 0  # telegrams of the capture that pass their checks
        self._index = 0
        self._clock = clock
        self._sleep = sleep
        self._due = 0.0

    async def open(self) -> None:
        try:
            data = await asyncio.to_thread(self.path.read_bytes)
        except OSError as error:
            raise SourceError(f"cannot read {self.path}: {error.strerror}") from error
        self._pieces, self._good = _pieces(data)
        self._index = 0
        self._due = self._clock()

    async def read(self) -> bytes:
        if self._index >= len(self._pieces):
            if not self.loop or not self._pieces:
                return b""
            if not self._good:
                self.end_reason = f"not looped: none of the telegrams in {self.path.name} passes its checks"
                return b""
            self._index = 0
        piece, wait = self._pieces[self._index]
        self._index += 1
        if self.speed is not None and wait > 0:
            now = self._clock()
            # More than a second behind (a stall, a suspended laptop): go on from now instead of rushing to catch up.
            self._due = max(self._due, now - 1.0) + wait / self.speed
            if self._due > now:
                await self._sleep(self._due - now)
                return piece
        await asyncio.sleep(0)  # no pause due: still let the app (its keys, its screen) run between two pieces
        return piece

    async def close(self) -> None:
        self._pieces = []


def _pieces(data: bytes) -> tuple[list[tuple[bytes, float]], int]:
    """Cut the capture at each frame's start, with the meter-time pause before each piece; and count the telegrams
    that pass their checks."""
    reader = TelegramReader()
    results = [*reader.feed(data), *reader.flush()]
    pieces: list[tuple[bytes, float]] = []
    start = 0
    previous = None
    for result in results:
        moment = result.telegram.timestamp if result.telegram is not None else None
        if previous is not None and moment is not None:
            # A pause longer than a minute is a hole in the capture (or a telegram stamped 2099), not the meter's
            # rhythm: the replay goes on after a minute of meter time instead of waiting for hours or for ever.
            wait = min(max(0.0, (moment.timestamp() - previous.timestamp())), MAX_PAUSE)
        else:
            wait = 0.0 if not pieces else 1.0
        end = result.offset + len(result.raw)
        pieces.append((data[start:end], wait))
        start = end
        if moment is not None:
            previous = moment
    if start < len(data):
        pieces.append((data[start:], 0.0))
    return pieces, sum(result.telegram is not None for result in results)
