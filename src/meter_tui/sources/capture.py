"""Raw capture files, one per local day, in exactly the bytes the meter sent: what `ReplaySource` and
`meter-tui import` read back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from meter_tui.config import create_private


class CaptureWriter:
    """Appends raw bytes to `<stem>-YYYY-MM-DD<suffix>`, starting a new file when the day changes."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._day: date | None = None
        self._file: BinaryIO | None = None
        self.path: Path | None = None

    def path_for(self, day: date) -> Path:
        return self.base.with_name(f"{self.base.stem}-{day.isoformat()}{self.base.suffix or '.p1'}")

    def write(self, data: bytes, day: date) -> None:
        if day != self._day or self._file is None:
            self.close()
            self.path = self.path_for(day)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_private(self.path)
            self._file = self.path.open("ab")
            self._day = day
        self._file.write(data)
        # Handed to the OS at once (no fsync): a reader of the capture, or a crash, loses at most this telegram.
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
