"""`meter-tui serve`: the page loads from this machine only, on loopback by default, and the app runs in a real
headless Chromium (Debian's `chromium`, as a Raspberry Pi or a laptop on the same network would show it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, WebSocket, sync_playwright

from meter_tui.cli import build_parser, served_app_arguments
from meter_tui.config import ConfigError
from tests.conftest import free_port, require_program

CHROMIUM = os.environ.get("METER_TUI_CHROMIUM", "/usr/bin/chromium")
# No request leaves this machine: names other than loopback do not resolve, and Chromium's own background
# traffic (updates, sync, metrics) is off.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`meter-tui serve --demo` on a free loopback port; yields its URL once the page answers."""
    port = free_port()
    env = {**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")}
    server = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "serve", "--demo", "--port", str(port), "--db", str(tmp_path / "m.sqlite"),
         "--rates", str(tmp_path / "rates.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_the_page_references_no_other_host(served: str):
    with urllib.request.urlopen(served, timeout=5) as response:
        page = response.read().decode()
    assert "textual.js" in page
    urls = re.findall(r"""(?:https?|wss?)://[^"'<> )]+""", page)
    hosts = {urlsplit(url).hostname for url in urls}
    assert hosts <= {"127.0.0.1", "www.w3.org"}, hosts  # the SVG namespace is a name, never fetched
    assert "googleapis" not in page
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page
    assert "meter_tui" in page or "meter-tui" in page
    with urllib.request.urlopen(f"{served}static/fonts/RobotoMono-VariableFont_wght.ttf") as font:
        assert font.status == 200


def test_the_live_screen_in_headless_chromium(served: str, tmp_path: Path):
    require_program(CHROMIUM, "chromium", "the served app is tested in headless Chromium")
    received: list[str] = []
    requests: list[str] = []

    def follow(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: received.append(frame if isinstance(frame, str) else frame.decode()))

    def screen_text() -> str:
        return "".join(received)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 640})
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", follow)
            page.goto(served)
            # What the app sent over the websocket: the live screen's labels and its source line with a count of
            # good telegrams, i.e. a meter-tui process was started for this tab and reads the demo meter.
            wait_for(page, lambda: "Import kW" in screen_text() and re.search(r"[1-9]\d* good", screen_text()))
            assert "Export kW" in screen_text()
            assert "demo meter" in screen_text()
            page.wait_for_timeout(500)
            shot = tmp_path / "serve-live.png"
            page.screenshot(path=str(shot))
            assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000

            # Keys typed in the page reach the app: the peak screen answers.
            page.locator("body").click()
            page.keyboard.press("p")
            wait_for(page, lambda: "left" in screen_text() and "Month peak" in screen_text())
            page.screenshot(path=str(tmp_path / "serve-peak.png"))
        finally:
            browser.close()
    hosts = {urlsplit(url).hostname for url in requests}
    assert hosts == {"127.0.0.1"}, requests


def wait_for(page: Page, condition: Callable[[], object], seconds: float = 30) -> None:
    """Playwright's sync API delivers events only while it is called: wait in the page, not in time.sleep."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the app did not show it in time"
        page.wait_for_timeout(100)


def test_serve_hands_each_tab_the_apps_own_options(tmp_path: Path):
    parser = build_parser()
    args = parser.parse_args(["serve", "--port", "8080", "--meter-port", "/dev/ttyUSB1", "--db", str(tmp_path / "m")])
    assert args.http_port == 8080
    assert served_app_arguments(args) == ["--port", "/dev/ttyUSB1", "--db", str(tmp_path / "m"), "--read-only"]
    demo = parser.parse_args(["serve", "--demo", "--seed", "3", "--speed", "10", "--allow-edit"])
    assert served_app_arguments(demo) == ["--demo", "--seed", "3", "--speed", "10"]
    with pytest.raises(SystemExit):  # one source only, as for the app
        parser.parse_args(["serve", "--demo", "--meter-port", "/dev/ttyUSB0"])
    with pytest.raises(ConfigError, match="--speed must be positive"):
        served_app_arguments(parser.parse_args(["serve", "--demo", "--speed", "0"]))
