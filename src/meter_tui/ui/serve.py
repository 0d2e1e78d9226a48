"""`meter-tui serve`: the app in a browser through textual-serve, with no request to any other host.

textual-serve's page links a web font from Google; offline (and a Raspberry Pi behind a home router often is),
that request hangs or fails. We serve a copy of its page template whose font is the Roboto Mono that textual-serve
itself ships, so the page loads everything from this machine. Every browser tab starts its own meter-tui process,
which follows the one owner of the meter.

Served on anything but loopback, a token is needed: the URL printed at start carries it (`?token=...`); the page
sets it as a cookie (HttpOnly, SameSite=Strict) so that its scripts, fonts and websocket carry it too. A request
with neither gets 403 and nothing of the app.
"""

from __future__ import annotations

import hmac
import re
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import textual_serve
from aiohttp import web
from textual_serve.server import Server

from meter_tui.config import private_dir

_FONT_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="https://fonts\.googleapis\.com[^"]*"\s*/>')
_LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
      }
    </style>"""


def local_templates(folder: Path) -> Path:
    """textual-serve's page template, its font served from here; fails loudly if the template changed shape."""
    source = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    html, count = _FONT_LINK.subn(_LOCAL_FONT, source.read_text(encoding="utf-8"))
    if count != 1 or "googleapis" in html:
        raise RuntimeError(f"{source}: the web font link was not found; the page would load it from the internet")
    private_dir(folder)
    (folder / "app_index.html").write_text(html, encoding="utf-8")
    return folder


COOKIE = "meter_tui_token"
FORBIDDEN = "403: this meter-tui needs its token: open the URL that `meter-tui serve` printed when it started.\n"


def token_guard(token: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware: the request carries the token (query or cookie), else 403 with nothing of the app."""

    @web.middleware
    async def guard(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=403, text=FORBIDDEN)
        response = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response

    return guard


class PrivateServer(Server):
    """textual-serve's server with the token guard in front of every route."""

    def __init__(self, *args: Any, token: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token = token

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        if self.token:
            app.middlewares.append(token_guard(self.token))
        return app


def serve(
    app_arguments: list[str], *, host: str, port: int, public_url: str | None, folder: Path, token: str | None
) -> None:
    command = shlex.join([sys.executable, "-m", "meter_tui", *app_arguments])
    server = PrivateServer(
        command,
        host=host,
        port=port,
        title="meter-tui",
        public_url=public_url,
        templates_path=local_templates(folder),
        token=token,
    )
    server.serve()
