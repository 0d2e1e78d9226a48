"""What every meter source is: something that opens, hands out chunks of bytes, and closes.

Sources only move bytes. Framing and parsing happen once, in `MeterFeed`, whatever the bytes came from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class SourceError(Exception):
    """The source cannot be opened, or went away (cable out, socket closed, owner gone). Worth retrying."""


class ByteSource(ABC):
    """A meter's byte stream. `read` must be safe to cancel: the feed cancels it when the meter stays silent."""

    description: str
    """What the status line shows: '/dev/ttyUSB0 115200 8N1', 'demo meter (seed 1)', ..."""

    end_reason: str = "end of the source"
    """What the feed says when `read` has given b'': why the source ended."""

    @abstractmethod
    async def open(self) -> None:
        """Open the device; raise SourceError if it cannot be opened."""

    @abstractmethod
    async def read(self) -> bytes:
        """The next chunk of bytes; b'' when the source has ended for good (a replay without loop);
        SourceError when the device went away."""

    @abstractmethod
    async def close(self) -> None:
        """Release the device; never raises."""
