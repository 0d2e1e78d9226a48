"""The one error family of the P1 core.

Every problem with a telegram is reported as a `TelegramError` that says what is wrong and where (an offset into
the frame, a line number, an OBIS code), so a caller can count and log rejects without catching anything else.
"""

from __future__ import annotations


class TelegramError(Exception):
    """A telegram that must not be used as data.

    `offset` is the byte offset in the frame (or, from `TelegramReader`, in the stream) where the problem was found.
    `reason` is the kind of problem in a word or two, for counting refusals by reason.
    """

    reason = "framing"

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.message} (at byte {self.offset})"


class CrcError(TelegramError):
    """The CRC sent by the meter does not match the bytes received: the telegram was damaged on the way."""

    reason = "CRC"

    def __init__(self, expected: int, received: int, offset: int = 0) -> None:
        super().__init__(f"CRC mismatch: telegram says {received:04X}, bytes give {expected:04X}", offset)
        self.expected = expected
        self.received = received


class FramingError(TelegramError):
    """The bytes do not form a complete telegram: no header, no end line, a malformed CRC field, a half telegram."""


class TelegramValueError(TelegramError):
    """A line inside a well-framed telegram cannot be read as an OBIS object with the expected values."""

    reason = "bad value"

    def __init__(self, message: str, offset: int = 0, line: int = 0, code: str = "") -> None:
        where = f"line {line}" + (f" ({code})" if code else "")
        super().__init__(f"{where}: {message}", offset)
        self.line = line
        self.code = code


class ImplausibleError(TelegramValueError):
    """A value no household connection can measure (NaN, Infinity, 1e30 kW, a negative register) or a unit that is
    not the quantity's (`*MWh` in 1-0:1.8.1): the CRC proves only that the bytes arrived as sent."""

    def __init__(self, message: str, offset: int, line: int, code: str, reason: str) -> None:
        super().__init__(message, offset, line, code)
        self.reason = reason
