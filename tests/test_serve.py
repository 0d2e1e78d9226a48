"""`meter-tui serve`: the page loads from this machine only, on loopback by default."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_page_references_no_other_host(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")}
    server = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "serve", "--demo", "--port", str(port), "--db", str(tmp_path / "m.sqlite"),
         "--rates", str(tmp_path / "rates.json")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        page = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "textual.js" in page
        urls = re.findall(r"""(?:https?|wss?)://[^"'<> )]+""", page)
        hosts = {urlsplit(url).hostname for url in urls}
        assert hosts <= {"127.0.0.1", "www.w3.org"}, hosts  # the SVG namespace is a name, never fetched
        assert "googleapis" not in page
        assert "fonts/RobotoMono-VariableFont_wght.ttf" in page
        assert "meter_tui" in page or "meter-tui" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/fonts/RobotoMono-VariableFont_wght.ttf") as font:
            assert font.status == 200
    finally:
        server.terminate()
        server.wait(10)
