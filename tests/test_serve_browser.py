"""`meter-tui serve` in a real headless Chromium: bound to every interface, the page opened through an address that
is not 127.0.0.1 loads and connects its websocket there; keys work without a click; a full server and an idle tab
say so on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

from tests.conftest import require_program
from tests.test_serve import CHROMIUM, CHROMIUM_ARGS, wait_for
from tests.test_serve_guard import TOKEN, start

OTHER_ADDRESS = "127.0.0.2"  # loopback to the kernel, but not the 127.0.0.1 the server names by default
# As test_serve's: nothing resolves, except the two addresses the server is reached at.
ARGS = [arg.replace("EXCLUDE 127.0.0.1", f"EXCLUDE 127.0.0.1 , EXCLUDE {OTHER_ADDRESS}") for arg in CHROMIUM_ARGS]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_program(CHROMIUM, "chromium", "the served app is tested in headless Chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Screen:
    """What the app sent to one page over its websocket, and where the page opened it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.frames: list[str] = []
        self.sockets: list[str] = []
        page.on("websocket", self._follow)

    def _follow(self, socket: WebSocket) -> None:
        self.sockets.append(socket.url)
        socket.on(
            "framereceived", lambda frame: self.frames.append(frame if isinstance(frame, str) else frame.decode())
        )

    def text(self) -> str:
        return "".join(self.frames)

    def shows(self, *texts: str) -> None:
        wait_for(self.page, lambda: all(text in self.text() for text in texts))


def test_bound_to_every_interface_the_page_loads_through_another_address(browser: Browser, tmp_path: Path):
    served = start(tmp_path, "--host", "0.0.0.0", env={"METER_TUI_SERVE_TOKEN": TOKEN})
    page = browser.new_page(viewport={"width": 1000, "height": 640})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    screen = Screen(page)
    try:
        page.goto(f"http://{OTHER_ADDRESS}:{served.port}/?token={TOKEN}")
        screen.shows("Import kW")
        wait_for(page, lambda: re.search(r"[1-9]\d* good", screen.text()))
        opened = urlsplit(screen.sockets[0])
        assert (opened.scheme, opened.netloc, opened.path) == ("ws", f"{OTHER_ADDRESS}:{served.port}", "/ws")
        # No click: the terminal has the focus from the start, so a key changes the screen.
        page.keyboard.press("p")
        screen.shows("Month peak", "left")
        icon = page.request.get(f"http://{OTHER_ADDRESS}:{served.port}/favicon.ico")
        assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    finally:
        page.close()
        served.stop()
    assert {urlsplit(url).hostname for url in requests} == {OTHER_ADDRESS}, requests


def test_a_full_server_and_an_idle_tab_say_so_on_the_page(browser: Browser, tmp_path: Path):
    served = start(tmp_path, "--max-tabs", "1", "--idle-minutes", "0.05")
    first, second = browser.new_page(), browser.new_page()
    try:
        screen = Screen(first)
        first.goto(f"{served.base}/")
        screen.shows("Import kW")
        refused = second.goto(f"{served.base}/")
        assert refused is not None and refused.status == 503
        assert "serves at most 1 tab at once (--max-tabs)" in second.inner_text("body")
        # The first tab, left alone for 3 s, ends; the page says why instead of a bare "Session ended".
        message = first.locator(".closed-dialog .message")
        wait_for(first, lambda: "without a key or click" in message.inner_text())
        assert message.is_visible()
        assert message.inner_text() == "meter-tui: closed after 3 s without a key or click."
        again = Screen(second)
        second.reload()
        again.shows("Import kW")
    finally:
        first.close()
        second.close()
        served.stop()
