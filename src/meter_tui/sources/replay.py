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
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from meter_tui.p1.reader import ReadResult, TelegramReader
from meter_tui.sources.base import ByteSource, SourceError

CHUNK = 65536
MAX_PAUSE = 60.0  # meter seconds: the longest wait between two telegrams of a replay


class ReplaySource(ByteSource):
    """`speed` is how many meter seconds pass per real second; None plays as fast as possible.

    The file is read 64 kB at a time and cut into pieces as it goes: a week's capture (600 MB) never sits in memory
    (it once did, whole and parsed: 2.9 GB for `record --replay week.p1 --fast`)."""

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
        self._file: BinaryIO | None = None
        self._cutter = _Cutter()
        self._pieces: deque[tuple[bytes, float]] = deque()
        self._clock = clock
        self._sleep = sleep
        self._due = 0.0

    async def open(self) -> None:
        try:
            self._file = await asyncio.to_thread(self.path.open, "rb")
        except OSError as error:
            raise SourceError(f"cannot read {self.path}: {error.strerror}") from error
        self._cutter = _Cutter()
        self._pieces.clear()
        self._due = self._clock()

    async def read(self) -> bytes:
        if not self._pieces and not await self._fill():
            return b""
        piece, wait = self._pieces.popleft()
        if self.speed is not None and wait > 0:
            now = self._clock()
            # More than a second behind (a stall, a suspended laptop): go on from now instead of rushing to catch up.
            self._due = max(self._due, now - 1.0) + wait / self.speed
            if self._due > now:
                await self._sleep(self._due - now)
                return piece
        await asyncio.sleep(0)  # no pause due: still let the app (its keys, its screen) run between two pieces
        return piece

    async def _fill(self) -> bool:
        """Read on until there are pieces to hand out; at the end of the file start again when looping. False at
        the end."""
        if self._file is None:
            return False
        looped = False
        while not self._pieces:
            try:
                chunk = await asyncio.to_thread(self._file.read, CHUNK)
            except OSError as error:
                raise SourceError(f"cannot read {self.path}: {error.strerror}") from error
            if chunk:
                self._pieces.extend(self._cutter.feed(chunk))
                continue
            self._pieces.extend(self._cutter.end())
            if self._pieces or not self.loop or looped:  # an empty file (or one without a byte) does not loop
                break
            if not self._cutter.good:
                self.end_reason = f"not looped: none of the telegrams in {self.path.name} passes its checks"
                break
            looped = True
            self._file.seek(0)
            self._cutter = _Cutter()
        return bool(self._pieces)

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._pieces.clear()


class _Cutter:
    """Cuts a capture, as it is read, at each frame's start, with the meter-time pause before each piece."""

    def __init__(self) -> None:
        self._reader = TelegramReader()
        self._held = bytearray()  # the bytes read and not yet handed out
        self._base = 0  # the stream offset of _held[0]
        self._previous: datetime | None = None
        self._started = False

    @property
    def good(self) -> int:
        """Telegrams that passed their checks so far (the reader counts them)."""
        return self._reader.good

    def feed(self, chunk: bytes) -> list[tuple[bytes, float]]:
        self._held += chunk
        return self._cut(self._reader.feed(chunk))

    def end(self) -> list[tuple[bytes, float]]:
        pieces = self._cut(self._reader.flush())
        if self._held:
            pieces.append((bytes(self._held), 0.0))
            self._base += len(self._held)
            self._held.clear()
        return pieces

    def _cut(self, results: list[ReadResult]) -> list[tuple[bytes, float]]:
        pieces: list[tuple[bytes, float]] = []
        start = 0
        for result in results:
            moment = result.telegram.timestamp if result.telegram is not None else None
            if self._previous is not None and moment is not None:
                # A pause longer than a minute is a hole in the capture (or a telegram stamped 2099), not the meter's
                # rhythm: the replay goes on after a minute of meter time instead of waiting for hours or for ever.
                wait = min(max(0.0, moment.timestamp() - self._previous.timestamp()), MAX_PAUSE)
            else:
                wait = 1.0 if self._started else 0.0
            end = result.offset + len(result.raw) - self._base
            pieces.append((bytes(self._held[start:end]), wait))
            start = end
            self._started = True
            if moment is not None:
                self._previous = moment
        del self._held[:start]
        self._base += start
        return pieces
