"""The incremental framer: a byte stream in any chunking -> telegrams, each parsed or rejected with its reason.

Framing rules, from what real meters and bridges send (P1-BELGIUM.md):
- a telegram starts at '/' and ends at a line that starts with '!', followed by 0 to 4 hex CRC digits (old Dutch
  meters send none, some meters drop leading zeros, some write lowercase) and a line end;
- a '/' at the start of a line inside a telegram means the telegram was cut off and a new one began: the half one is
  rejected and reading goes on from the new '/'; a '/' inside a line (a text message) is just text;
- bytes outside a telegram are garbage and dropped; a frame that grows past `MAX_FRAME` without an end is rejected,
  so memory stays bounded whatever comes in.
When a frame fails, a telegram that starts at a later '/' inside it (garbage that held a '/' just before a real
telegram) is still recovered, but only if its own CRC proves it whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meter_tui.p1.errors import FramingError, TelegramError
from meter_tui.p1.parser import parse_telegram
from meter_tui.p1.telegram import Telegram

MAX_FRAME = 8192
"""The largest telegram accepted. Belgian telegrams are 0.3 to 1.5 kB; the biggest real one seen is 1.5 kB."""

_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]{0,4}")


@dataclass(frozen=True, slots=True)
class ReadResult:
    """One frame found in the stream: parsed into `telegram`, or rejected with `error`.

    `offset` is where the frame's '/' was in the stream (counted from the first byte fed); the error's own offset is
    counted in the stream too.
    """

    offset: int
    raw: bytes
    telegram: Telegram | None = None
    error: TelegramError | None = None


class TelegramReader:
    """Feed it bytes as they come; it returns every telegram completed by those bytes."""

    def __init__(self, *, verify_crc: bool = True, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._base = 0  # stream offset of self._buffer[0]
        self._in_frame = False
        self._scan = 0  # where to go on looking for the end of the current frame
        self._verify_crc = verify_crc
        self._max_frame = max_frame
        self.good = 0
        self.rejected = 0
        self.garbage_bytes = 0

    def feed(self, chunk: bytes) -> list[ReadResult]:
        """Add bytes; return the telegrams they complete, in stream order."""
        self._buffer += chunk
        results: list[ReadResult] = []
        while self._step(results):
            pass
        return results

    def flush(self) -> list[ReadResult]:
        """End of input: a frame that has its end line but no line end after a short CRC is complete now; anything
        else still open is a half telegram and is rejected."""
        results: list[ReadResult] = []
        buffer = self._buffer
        if self._in_frame and buffer:
            end = buffer.find(b"\n!")
            if end >= 0:
                self._emit(results, len(buffer))
            else:
                self._reject(results, len(buffer), "incomplete telegram at the end of the input: no end line '!'")
        self._drop(len(self._buffer), garbage=True)
        self._in_frame = False
        return results

    def _step(self, results: list[ReadResult]) -> bool:
        """Advance the state machine once; False when more bytes are needed."""
        buffer = self._buffer
        if not self._in_frame:
            start = buffer.find(b"/")
            if start < 0:
                self._drop(len(buffer), garbage=True)
                return False
            self._drop(start, garbage=True)
            self._in_frame = True
            self._scan = 1
        end = buffer.find(b"\n!", max(self._scan - 1, 0))
        restart = buffer.find(b"\n/", max(self._scan - 1, 0), end if end >= 0 else len(buffer))
        if restart >= 0:
            self._reject(results, restart + 1, "incomplete telegram: a new telegram started before its end line")
            return True
        if end < 0:
            self._scan = len(buffer)
            if len(buffer) > self._max_frame:
                self._reject(results, len(buffer), f"no end line '!' within {self._max_frame} bytes")
                return True
            return False
        digits = _HEX_DIGITS.match(buffer, end + 2)
        stop = digits.end() if digits else end + 2
        count = stop - (end + 2)
        if count < 4 and stop == len(buffer):
            self._scan = end + 1
            return False  # a short CRC, or its line end, may still be on its way
        if count == 0 and buffer[stop] not in b"\r\n":
            # '!' then neither a CRC nor a line end: a damaged CRC must never pass for a meter that sends none.
            self._reject(results, stop, f"malformed CRC field after '!': {bytes(buffer[stop : stop + 4])!r}")
            return True
        # The frame ends with its digits; what follows (normally a line end) stays in the stream.
        self._emit(results, stop)
        return True

    def _emit(self, results: list[ReadResult], length: int) -> None:
        frame = bytes(self._buffer[:length])
        offset = self._base
        self._drop(length, garbage=False)
        self._in_frame = False
        try:
            telegram = parse_telegram(frame, verify_crc=self._verify_crc)
        except TelegramError as error:
            self._recover(results, frame, offset, error)
            return
        if not telegram.objects:
            self._recover(results, frame, offset, FramingError("telegram has no objects", len(frame)))
            return
        self.good += 1
        results.append(ReadResult(offset, frame, telegram=telegram))

    def _recover(self, results: list[ReadResult], frame: bytes, offset: int, error: TelegramError) -> None:
        """Reject `frame`, unless a later '/' in it starts a telegram whose CRC checks: then keep that one."""
        start = frame.find(b"/", 1)
        while start > 0:
            try:
                telegram = parse_telegram(frame[start:], verify_crc=self._verify_crc)
            except TelegramError:
                start = frame.find(b"/", start + 1)
                continue
            if telegram.crc is not None and telegram.objects:
                self._rejected(results, frame[:start], offset, error)
                self.good += 1
                results.append(ReadResult(offset + start, frame[start:], telegram=telegram))
                return
            start = frame.find(b"/", start + 1)
        self._rejected(results, frame, offset, error)

    def _reject(self, results: list[ReadResult], length: int, reason: str) -> None:
        frame = bytes(self._buffer[:length])
        offset = self._base
        self._drop(length, garbage=False)
        self._in_frame = False
        self._recover(results, frame, offset, FramingError(reason, len(frame)))

    def _rejected(self, results: list[ReadResult], frame: bytes, offset: int, error: TelegramError) -> None:
        error.offset += offset
        self.rejected += 1
        results.append(ReadResult(offset, frame, error=error))

    def _drop(self, length: int, *, garbage: bool) -> None:
        if garbage and length:
            # Line ends between telegrams are normal; only other bytes count as garbage.
            self.garbage_bytes += length - self._buffer.count(b"\r", 0, length) - self._buffer.count(b"\n", 0, length)
        del self._buffer[:length]
        self._base += length
        self._scan = 0
