"""`meter-tui serve`: the app in a browser through textual-serve, with no request to any other host.

textual-serve's page links a web font from Google; offline (and a Raspberry Pi behind a home router often is),
that request hangs or fails. We serve a copy of its page template whose font is the Roboto Mono that textual-serve
itself ships, so the page loads everything from this machine. Every browser tab starts its own meter-tui process,
which follows the one owner of the meter.

textual-serve writes its page's script and websocket URLs from `http://HOST:PORT`: bound to 0.0.0.0, a browser on
another machine was sent to `http://0.0.0.0:PORT` and stayed on the splash screen. Here they are relative (the
websocket on the page's own origin) unless `--public-url` names the address the browser uses.

Served on anything but loopback, a token is needed: the URL printed at start carries it (`?token=...`); the page
sets it as a cookie (HttpOnly, SameSite=Strict) so that its scripts, fonts and websocket carry it too. A request
with neither gets 403 and nothing of the app. Before the token, a foreign Host or Origin is refused (serve_guard),
and the tabs are counted, clamped and ended when idle (serve_tabs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp_jinja2
import textual_serve
from aiohttp import WSCloseCode, web
from textual_serve.server import Server

from meter_tui.config import ConfigError, private_dir
from meter_tui.ui.serve_guard import RedactToken, host_guard, own_names, token_guard
from meter_tui.ui.serve_tabs import TabService, end_when_idle, query_size

log = logging.getLogger("textual-serve")
FAVICON = Path(__file__).with_name("favicon.ico")
_FONT_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="https://fonts\.googleapis\.com[^"]*"\s*/>')
_LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
      }
    </style>"""
_SCRIPT = '<script src="{{ config.static.url }}js/textual.js"></script>'
# Before textual.js: its websocket URL made absolute on the page's own origin (ws: or wss:), the reason the server
# gives when it closes a tab shown in the "Session ended" box, and the terminal focused so keys work at once.
_PAGE_SCRIPT = """<script>
      (function () {
        const Native = window.WebSocket;
        window.WebSocket = function (url, protocols) {
          const target = new URL(url, window.location.href);
          if (target.protocol === "http:" || target.protocol === "https:") {
            target.protocol = target.protocol === "https:" ? "wss:" : "ws:";
          }
          const socket = new Native(target.href, protocols);
          socket.addEventListener("close", (event) => {
            const message = document.querySelector(".closed-dialog .message");
            if (event.reason && message) message.textContent = event.reason;
          });
          return socket;
        };
        window.WebSocket.prototype = Native.prototype;
        function focusTerminal(tries) {
          const area = document.querySelector(".xterm-helper-textarea");
          if (area) area.focus();
          else if (tries > 0) setTimeout(() => focusTerminal(tries - 1), 50);
        }
        window.addEventListener("load", () => setTimeout(() => focusTerminal(100), 0));
      })();
    </script>
    """


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How the server listens and whom it serves (cli.py reads them from the command line)."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    token: str | None = None
    allow_hosts: tuple[str, ...] = ()
    max_tabs: int = 4
    idle_seconds: float = 30 * 60.0


def local_templates(folder: Path) -> Path:
    """textual-serve's page template, its font served from here and our script added; fails loudly if the template
    changed shape."""
    source = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    html, count = _FONT_LINK.subn(_LOCAL_FONT, source.read_text(encoding="utf-8"))
    html, scripts = html.replace(_SCRIPT, _PAGE_SCRIPT + _SCRIPT), html.count(_SCRIPT)
    if count != 1 or scripts != 1 or "googleapis" in html:
        raise RuntimeError(f"{source}: the web font link or the script tag was not found where expected")
    private_dir(folder)
    (folder / "app_index.html").write_text(html, encoding="utf-8")
    return folder


class PrivateServer(Server):
    """textual-serve's server with its guards in front of every route, its page's URLs relative, and its tabs
    counted, clamped and ended when idle."""

    def __init__(self, command: str, options: ServeOptions, templates: Path) -> None:
        super().__init__(command, host=options.host, port=options.port, title="meter-tui",
                         public_url=options.public_url, templates_path=templates)  # fmt: skip
        self.options = options
        self.tabs: set[TabService] = set()

    def initialize_logging(self) -> None:
        super().initialize_logging()
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactToken())

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its logo and `http://0.0.0.0:PORT` here; `serve` prints the URL to open."""

    def run(self, announcement: str) -> None:
        """textual-serve's `serve`, saying the URL to open once it listens, and a busy port in one line."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, self.request_exit)
        try:
            web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                        print=lambda _: print(announcement, file=sys.stderr, flush=True))  # fmt: skip
        except OSError as error:
            reason = os.strerror(error.errno) if error.errno else str(error)
            raise ConfigError(f"serve: cannot listen on {self.host} port {self.port}: {reason}") from None

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        names = own_names(self.options.host, self.options.public_url, self.options.allow_hosts)
        app.middlewares.append(host_guard(names, self.options.public_url))
        if self.options.token:
            app.middlewares.append(token_guard(self.options.token))
        app.router.add_get("/favicon.ico", self.handle_favicon)
        return app

    async def handle_favicon(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(FAVICON, headers={"Content-Type": "image/x-icon", "Cache-Control": "max-age=86400"})

    def _full(self) -> str | None:
        """Why no other tab can start now, or None."""
        if len(self.tabs) < self.options.max_tabs:
            return None
        most = self.options.max_tabs
        return f"meter-tui serves at most {most} tab{'s' * (most > 1)} at once (--max-tabs): close one, then try again."

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """The page, or a plain page saying the tabs are all taken."""
        if full := self._full():
            return web.Response(status=503, text=full + "\n")
        statics = f"{self.public_url.rstrip('/')}/static/" if self.options.public_url else "/static/"
        # On the page's own origin, unless --public-url names it (its http(s) made ws(s)).
        websocket = re.sub(r"^http", "ws", self.public_url.rstrip("/")) + "/ws" if self.options.public_url else "/ws"
        context = {
            "font_size": _font_size(request.query.get("fontsize", "16")),
            "app_websocket_url": websocket,
            "config": {"static": {"url": statics}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: refused with the page's reason when the tabs are all taken, else its own app process."""
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        if full := self._full():
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=full.encode())
            return websocket
        service = TabService(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.tabs.add(service)
        idle = asyncio.create_task(end_when_idle(websocket, service, self.options.idle_seconds))
        try:
            await service.start(*query_size(request))
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a tab that sends what textual-serve cannot read ends, in one line
            log.error("a browser tab ended: %s: %s", type(error).__name__, error)
        finally:
            idle.cancel()
            self.tabs.discard(service)
            await service.stop()
        return websocket


def _font_size(text: str) -> int:
    try:
        return min(max(int(text), 6), 64)
    except ValueError:
        return 16


def serve(app_arguments: list[str], options: ServeOptions, folder: Path, announcement: str) -> None:
    # textual-serve runs it through /bin/sh: `exec` leaves one process per tab instead of a shell and the app.
    command = "exec " + shlex.join([sys.executable, "-m", "meter_tui", *app_arguments])
    PrivateServer(command, options, local_templates(folder)).run(announcement)
