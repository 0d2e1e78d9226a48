"""`meter-tui serve` lets no stranger in: off loopback it makes up a token and prints the URL that carries it; a
request without the token (HTTP or websocket) gets 403 and nothing of the app; with it the page and the app come,
and a served tab cannot change the prices unless `--allow-edit`. Real HTTP and websocket requests to a real server
on loopback (`--token` asks for the token there too)."""

from __future__ import annotations

import asyncio
import os
import re
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port
from tests.meter_app import build_fixture, make_app, settle

APP_TEXT = ("textual.js", "meter-tui", "websocket")


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")}
    server = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "serve", "--demo", "--port", str(port), "--db", str(tmp_path / "m.sqlite"),
         "--rates", str(tmp_path / "rates.json"), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
        except urllib.error.HTTPError:
            break  # it answers (403)
        except OSError:
            time.sleep(0.2)
            continue
        break
    return server, port


@pytest.fixture
def private(tmp_path: Path) -> Iterator[int]:
    server, port = start(tmp_path, "--token", "s3cret-token")
    try:
        yield port
    finally:
        server.terminate()
        server.wait(10)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(), response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), ""


def test_without_the_token_nothing_of_the_app_is_served(private: int):
    base = f"http://127.0.0.1:{private}"
    for path in ("/", "/?token=wrong", "/static/fonts/RobotoMono-VariableFont_wght.ttf", "/ws"):
        status, body, _ = get(base + path)
        assert status == 403, path
        assert not any(text in body for text in APP_TEXT[:1]) and "websocket" not in body.lower(), path
        assert "needs its token" in body


def test_with_the_token_the_page_sets_a_cookie_that_opens_the_websocket(private: int):
    base = f"http://127.0.0.1:{private}"
    status, page, cookie = get(f"{base}/?token=s3cret-token")
    assert status == 200 and "textual.js" in page
    assert "meter_tui_token=s3cret-token" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie

    async def websocket(cookies: dict[str, str]) -> str:
        async with aiohttp.ClientSession(cookies=cookies) as session:
            try:
                async with session.ws_connect(f"ws://127.0.0.1:{private}/ws") as socket:
                    await socket.send_str('["resize", {"width": 80, "height": 24}]')
                    seen = ""
                    deadline = time.monotonic() + 30
                    while "Import kW" not in seen and time.monotonic() < deadline:
                        message = await socket.receive(timeout=30)
                        seen += message.data if isinstance(message.data, str) else message.data.decode("latin-1")
                    return seen
            except aiohttp.WSServerHandshakeError as error:
                return f"refused {error.status}"

    assert asyncio.run(websocket({})) == "refused 403"
    assert "Import kW" in asyncio.run(websocket({"meter_tui_token": "s3cret-token"}))


def test_off_loopback_a_token_is_made_up_kept_and_printed_only_to_a_terminal(tmp_path: Path):
    server, port = start(tmp_path, "--host", "0.0.0.0")
    try:
        status, _, _ = get(f"http://127.0.0.1:{port}/")
        assert status == 403
    finally:
        server.terminate()
        server.wait(10)
    said = server.stderr.read() if server.stderr else ""
    kept = tmp_path / "serve" / "token"
    token = kept.read_text().strip()
    assert len(token) >= 20 and kept.stat().st_mode & 0o777 == 0o600
    assert token not in said  # stderr is a pipe here, as under systemd: a log
    assert re.search(rf"open http://\S+:{port}/\?token=TOKEN .*TOKEN being the one kept in {kept}", said), said

    # On a terminal the URL carries the token itself, the same one: a bookmark survives a restart.
    controller, terminal = os.openpty()
    port = free_port()
    env = {**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")}
    again = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "serve", "--demo", "--host", "0.0.0.0", "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal, env=env,
    )  # fmt: skip
    os.close(terminal)
    try:
        shown = b""
        deadline = time.monotonic() + 30
        while b"403)" not in shown and time.monotonic() < deadline:
            if select.select([controller], [], [], 1)[0]:
                shown += os.read(controller, 4096)
        assert f"/?token={token}".encode() in shown, shown
    finally:
        again.terminate()
        again.wait(10)
        os.close(controller)


def test_a_served_tab_shows_the_prices_read_only(tmp_path: Path):
    from textual.widgets import Button, Input, Static  # noqa: PLC0415
    from textual.widgets._footer import FooterKey  # noqa: PLC0415

    from meter_tui.ui.app import KeysScreen  # noqa: PLC0415

    fixture = build_fixture(tmp_path / "history")

    def offered(app) -> list[str]:
        return [key.action for key in app.screen.query(FooterKey)]

    async def run(read_only: bool) -> None:
        app = make_app(fixture, tmp_path)
        app.read_only = read_only
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            if not read_only:  # the same screen with --allow-edit offers its save key, in the footer and `?`
                assert "save" in offered(app)
                await pilot.press("question_mark")
                assert "ctrl+s save" in str(app.screen.query_one("#keys", Static).render())
                return
            assert "save" not in offered(app) and "switch_mode('live')" in offered(app)
            assert "ctrl+s" not in str(app.screen.query_one("#rates-panel-edit").border_subtitle)
            await pilot.press("question_mark")
            assert isinstance(app.screen, KeysScreen)
            assert "ctrl+s save" not in str(app.screen.query_one("#keys", Static).render())
            await pilot.press("escape")
            assert app.screen.query_one("#import-day", Input).disabled
            assert app.screen.query_one("#save", Button).disabled
            assert "Read-only" in str(app.screen.query_one("#rates-message", Static).render())
            before = (tmp_path / "rates.json").read_bytes()
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert (tmp_path / "rates.json").read_bytes() == before
            with pytest.raises(PermissionError):
                await app.save_rates({"Electricity": {"+": {"Day": 9, "Night": 9}}})

    asyncio.run(run(read_only=False))
    asyncio.run(run(read_only=True))


def test_serve_gives_tabs_read_only_unless_allow_edit():
    from meter_tui.cli import build_parser, served_app_arguments  # noqa: PLC0415

    parser = build_parser()
    assert served_app_arguments(parser.parse_args(["serve", "--demo"]))[-1] == "--read-only"
    assert "--read-only" not in served_app_arguments(parser.parse_args(["serve", "--demo", "--allow-edit"]))
    assert parser.parse_args(["--read-only", "--demo"]).read_only
