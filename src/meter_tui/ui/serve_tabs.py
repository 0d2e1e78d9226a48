"""The app process behind one browser tab, kept small and short-lived.

textual-serve starts a process at whatever size the websocket asks for (`/ws?width=2000&height=1000` made an app of
1.3 GB) and keeps it as long as the tab stays open. Here the size is clamped, the tab ends after a while without a
key, click or resize from the browser, and the serve token (kept in the server's environment) is not handed on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService

from meter_tui.ui.serve_token import TOKEN_ENV

MAX_WIDTH, MAX_HEIGHT = 400, 150  # a 4K screen at a small font; 2000x1000 cells cost gigabytes


def clamped(width: int, height: int) -> tuple[int, int]:
    """A screen size the app can afford: at least 1x1, at most MAX_WIDTH x MAX_HEIGHT."""
    return min(max(width, 1), MAX_WIDTH), min(max(height, 1), MAX_HEIGHT)


def query_size(request: web.Request) -> tuple[int, int]:
    """The size the page asks for in `/ws?width=...&height=...` (80x24 when unreadable), clamped."""

    def number(name: str, default: int) -> int:
        try:
            return int(request.query.get(name, default))
        except ValueError:
            return default

    return clamped(number("width", 80), number("height", 24))


class TabService(AppService):
    """textual-serve's app process with its size clamped, its last activity noted and no token in its environment."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_seen = time.monotonic()
        self._drawn = False

    async def on_data(self, payload: bytes) -> None:
        if not self._drawn:  # the idle time counts from the first screen, not from a slow start
            self._drawn = True
            self.last_seen = time.monotonic()
        await super().on_data(payload)

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(*clamped(width, height))
        environment.pop(TOKEN_ENV, None)
        return environment

    async def set_terminal_size(self, width: int, height: int) -> None:
        self.last_seen = time.monotonic()
        await super().set_terminal_size(*clamped(width, height))

    async def send_bytes(self, data: bytes) -> bool:
        self.last_seen = time.monotonic()
        return await super().send_bytes(data)

    async def focus(self) -> None:
        self.last_seen = time.monotonic()
        await super().focus()

    async def blur(self) -> None:
        self.last_seen = time.monotonic()
        await super().blur()


async def end_when_idle(websocket: web.WebSocketResponse, service: TabService, idle_seconds: float) -> None:
    """Close the tab's websocket once nothing came from the browser for `idle_seconds`; the page says why."""
    while not websocket.closed:
        left = service.last_seen + idle_seconds - time.monotonic()
        if left <= 0:
            minutes = f"{idle_seconds / 60:g} minutes" if idle_seconds >= 60 else f"{idle_seconds:g} s"
            await websocket.close(message=f"meter-tui: closed after {minutes} without a key or click.".encode())
            return
        await asyncio.sleep(left)
