"""`meter-tui serve`: the app in a browser through textual-serve, with no request to any other host.

textual-serve's page links a web font from Google; offline (and a Raspberry Pi behind a home router often is),
that request hangs or fails. We serve a copy of its page template whose font is the Roboto Mono that textual-serve
itself ships, so the page loads everything from this machine. Every browser tab starts its own meter-tui process,
which follows the one owner of the meter.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import textual_serve
from textual_serve.server import Server

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
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app_index.html").write_text(html, encoding="utf-8")
    return folder


def serve(app_arguments: list[str], *, host: str, port: int, public_url: str | None, folder: Path) -> None:
    command = shlex.join([sys.executable, "-m", "meter_tui", *app_arguments])
    server = Server(
        command,
        host=host,
        port=port,
        title="meter-tui",
        public_url=public_url,
        templates_path=local_templates(folder),
    )
    server.serve()
