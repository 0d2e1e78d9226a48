"""The P1 port: a serial device through pyserial-asyncio, a network P1 reader (socket://host:port), or any other
pyserial URL (rfc2217://...).

socket:// gets asyncio's own TCP streams: a bridge that drops the connection is seen at once as EOF. URLs whose
pyserial object has no file descriptor for the event loop (rfc2217://) are read in a worker thread instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit

import serial
import serial_asyncio

from meter_tui.sources.base import ByteSource, SourceError

_CHUNK = 4096
BY_ID = Path("/dev/serial/by-id")  # udev's stable names: the same for an adapter in any USB socket
_PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


class SerialSource(ByteSource):
    """A serial port or pyserial URL, 115200 8N1 by default (the P1 standard)."""

    def __init__(
        self, port: str, *, baudrate: int = 115200, bytesize: int = 8, parity: str = "N", stopbits: float = 1
    ) -> None:
        if parity not in _PARITIES:
            raise ValueError(f"parity must be one of N, E, O, not {parity!r}")
        self.port = port
        self.settings = {"baudrate": baudrate, "bytesize": bytesize, "parity": _PARITIES[parity], "stopbits": stopbits}
        stop = f"{stopbits:g}"
        self.description = port if "://" in port else f"{port} {baudrate} {bytesize}{parity}{stop}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._threaded: serial.SerialBase | None = None

    async def open(self) -> None:
        scheme = urlsplit(self.port).scheme if "://" in self.port else ""
        try:
            if scheme == "socket":
                address = urlsplit(self.port)
                if address.hostname is None or address.port is None:
                    raise SourceError(f"{self.port}: a network P1 reader is socket://host:port")
                self._reader, self._writer = await asyncio.open_connection(address.hostname, address.port)
            elif scheme:
                self._threaded = await asyncio.to_thread(serial.serial_for_url, self.port, timeout=0.5, **self.settings)
            else:
                # exclusive: a flock on the device, so that even a process that names it in a way the owner's lock
                # did not recognise cannot read it too and take half of its telegrams.
                self._reader, self._writer = await serial_asyncio.open_serial_connection(
                    url=self.port, exclusive=True, **self.settings
                )
        except (OSError, serial.SerialException, ValueError) as error:
            if "exclusively lock" in str(error):
                raise SourceError(f"cannot open {self.port}: another process is reading it") from error
            raise SourceError(f"cannot open {self.port}: {_reason(error)}") from error

    async def read(self) -> bytes:
        try:
            if self._threaded is not None:
                return await self._read_threaded(self._threaded)
            if self._reader is None:
                raise SourceError(f"{self.port} is not open")
            data = await self._reader.read(_CHUNK)
        except (OSError, serial.SerialException) as error:
            raise SourceError(f"{self.port}: {_reason(error)}") from error
        if not data:
            raise SourceError(f"{self.port} was closed")
        return data

    async def _read_threaded(self, port: serial.SerialBase) -> bytes:
        """pyserial URLs without a file descriptor: a blocking read with a short timeout, in a thread."""
        while True:
            data: bytes = await asyncio.to_thread(port.read, _CHUNK)
            if data:
                return data

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, serial.SerialException):
                await writer.wait_closed()
        threaded, self._threaded = self._threaded, None
        if threaded is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                await asyncio.to_thread(threaded.close)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def stable_name(port: str, folder: Path | None = None) -> str | None:
    """The /dev/serial/by-id name of a serial device: a USB adapter pulled out and put back may come back as
    another /dev/ttyUSBn, its by-id name stays. The port itself when it is a by-id name; None when none is found
    (not a local device, or no udev link)."""
    folder = folder or BY_ID
    if "://" in port:
        return None
    if Path(port).parent == folder:
        return port
    try:
        device = Path(port).resolve(strict=True)
        links = sorted(folder.iterdir())
    except OSError:
        return None
    for link in links:
        with contextlib.suppress(OSError):
            if link.resolve(strict=True) == device:
                return str(link)
    return None
