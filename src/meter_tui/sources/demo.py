"""The built-in demo meter, live: one simulated telegram a second, on the wall clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from meter_tui.sources.base import ByteSource
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter


class DemoSource(ByteSource):
    """A `SimulatedMeter` that starts at the current second and sends each telegram when its second comes.

    `speed` > 1 plays simulated seconds faster than real ones (for trying the app out and for tests).
    """

    def __init__(
        self, seed: int = 1, *, speed: float = 1.0, start: datetime | None = None, meter: SimulatedMeter | None = None
    ) -> None:
        self.seed = seed
        self.speed = speed
        self.start = start
        self.description = f"demo meter (seed {seed})" + (f" x{speed:g}" if speed != 1 else "")
        self._meter = meter
        self._catch_up = meter is not None and speed == 1
        self._due = 0.0

    async def open(self) -> None:
        if self._meter is None:
            start = self.start or datetime.fromtimestamp(int(time.time()), UTC).astimezone(BRUSSELS)
            self._meter = SimulatedMeter(self.seed, start)
        elif self._catch_up:
            # A meter handed over with the demo's history behind it was stopped a moment ago at "now": it counts on
            # to the present second first, once.
            self._catch_up = False
            wall = int(time.time())
            while self._meter.now.timestamp() < wall:
                self._meter.step(send=False)
        self._due = time.monotonic()

    async def read(self) -> bytes:
        if self._meter is None:
            await self.open()
        assert self._meter is not None
        delay = self._due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._due += 1.0 / self.speed
        return self._meter.step()

    async def close(self) -> None:
        """Keeps the simulated meter: a reopened demo goes on from where it was, as a real meter would."""
