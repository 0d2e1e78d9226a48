"""`meter-tui serve` trusts only itself: a foreign Origin or Host is refused, a tab's screen is clamped, the tabs are
capped and end when idle, and the token shows in no log and no process. Real `meter-tui serve` processes on
loopback, driven by real HTTP and websocket clients (aiohttp) and read through /proc."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port, wait_for

TOKEN = "tok-4cb7d1e9f05a"
ROW = re.compile(rb"\x1b\[(\d+);\d+H")


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        return self.output()


def start(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Served:
    """`meter-tui serve --demo` with its stdout and stderr in a file; returned once it answers HTTP."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    environment = {**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run"),
                   **(env or {})}  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "meter_tui", "serve", "--demo", "--port", str(port), "--db",
             str(tmp_path / "m.sqlite"), "--rates", str(tmp_path / "rates.json"), *extra],
            stdout=out, stderr=subprocess.STDOUT, env=environment,
        )  # fmt: skip
    served = Served(process, port, log)
    wait_for(lambda: answers(served) or process.poll() is not None, "the server to answer", 30)
    assert process.poll() is None, served.output()
    return served


def answers(served: Served) -> bool:
    try:
        urllib.request.urlopen(f"{served.base}/favicon.ico", timeout=2).close()
    except urllib.error.HTTPError:
        return True  # 403 without the token: it answers
    except OSError:
        return False
    return True


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[Served]:
    served = start(tmp_path, "--allow-host", "meter.lan", "--max-tabs", "2")
    yield served
    served.stop()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


class Tab:
    """One websocket as a browser tab opens it, and what the app sent on it."""

    def __init__(self, socket_: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket_
        self.seen: list[bytes] = []

    async def until(self, condition, seconds: float = 30) -> bytes:
        """Read until one message satisfies `condition`; that message."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = await self.socket.receive(timeout=deadline - time.monotonic())
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                raise AssertionError(f"closed: {message.data} {message.extra}")
            data = message.data if isinstance(message.data, bytes) else message.data.encode()
            self.seen.append(data)
            if condition(data):
                return data
        raise AssertionError("the app did not send it in time")

    async def closing(self, seconds: float = 10) -> tuple[int, str]:
        """Read until the server closes the tab: its close code and reason."""
        deadline = time.monotonic() + seconds
        while True:
            message = await self.socket.receive(timeout=deadline - time.monotonic())
            if message.type == aiohttp.WSMsgType.CLOSE:
                return message.data, message.extra

    async def shows_app(self) -> None:
        await self.until(lambda data: b"Import kW" in data)


async def refused_status(url: str, headers: dict[str, str]) -> int | None:
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers):
                return None
        except aiohttp.WSServerHandshakeError as error:
            return error.status


def test_a_foreign_origin_or_host_gets_nothing(loopback: Served):
    ws = f"{loopback.base}/ws"
    for origin in ("https://evil.example", "null", f"http://evil.example:{loopback.port}", "http://127.0.0.1:1"):
        assert asyncio.run(refused_status(ws, {"Origin": origin})) == 403, origin
    for host in ("evil.example", f"evil.example:{loopback.port}", "127.0.0.1.evil.example"):
        assert asyncio.run(refused_status(ws, {"Host": host})) == 403, host
        status, body = get(f"{loopback.base}/", {"Host": host})
        assert status == 403 and "--allow-host" in body and "textual" not in body, host
    own = [f"localhost:{loopback.port}", f"127.0.0.1:{loopback.port}", f"{socket.gethostname()}:{loopback.port}",
           f"meter.lan:{loopback.port}"]  # fmt: skip
    for host in own:
        status, body = get(f"{loopback.base}/", {"Host": host})
        assert status == 200 and "textual.js" in body, host

    async def own_origin() -> None:
        origin = {"Origin": f"http://127.0.0.1:{loopback.port}"}
        async with aiohttp.ClientSession() as session, session.ws_connect(ws, headers=origin) as tab:
            await Tab(tab).shows_app()

    asyncio.run(own_origin())


def descendants(pid: int) -> list[int]:
    """Every process under `pid`, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        parents[int(entry.name) if entry.name.isdigit() else -1] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def environ(pid: int) -> dict[str, str]:
    try:
        pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return {}
    return dict(pair.decode(errors="replace").split("=", 1) for pair in pairs if b"=" in pair)


def test_a_huge_screen_is_clamped(loopback: Served):
    async def run() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{loopback.base}/ws?width=2000&height=1000") as socket_,
        ):
            tab = Tab(socket_)
            first = await tab.until(lambda data: _footer_row(data) is not None)
            apps = [environ(pid) for pid in descendants(loopback.process.pid)]
            sizes = {(env["COLUMNS"], env["ROWS"]) for env in apps if "COLUMNS" in env}
            assert sizes == {("400", "150")}, sizes
            assert _footer_row(first) == 150  # the app's last row is 150, not 1000
            # A resize from the page is clamped too: the footer moves to row 20, then to 150, not 3000.
            await socket_.send_str('["resize", {"width": 100, "height": 20}]')
            small = await tab.until(lambda data: (_footer_row(data) or 150) < 150)
            assert _footer_row(small) == 20
            await socket_.send_str('["resize", {"width": 5000, "height": 3000}]')
            big = await tab.until(lambda data: (_footer_row(data) or 0) > 20)
            assert _footer_row(big) == 150

    asyncio.run(run())


def _footer_row(frame: bytes) -> int | None:
    """The row the footer (its `? Keys`) is drawn on in this frame, if it is."""
    parts = ROW.split(frame)  # text before, then row number and what follows it, in turn
    return max((int(parts[i]) for i in range(1, len(parts), 2) if b"Keys" in parts[i + 1]), default=None)


def test_the_tabs_are_capped_with_a_clear_refusal(loopback: Served):
    ws = f"{loopback.base}/ws"

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(ws)
            await Tab(first).shows_app()
            async with session.ws_connect(ws) as second:
                await Tab(second).shows_app()
                async with session.ws_connect(ws) as third:
                    refusal = await third.receive(timeout=10)
                assert refusal.type == aiohttp.WSMsgType.CLOSE and refusal.data == 1013
                assert "at most 2 tabs at once" in refusal.extra and "--max-tabs" in refusal.extra
                status, page = get(f"{loopback.base}/")
                assert status == 503 and "--max-tabs" in page
                await first.close()
                await until(lambda: get(f"{loopback.base}/")[0] == 200, "a closed tab to free its place")
                async with session.ws_connect(ws) as again:
                    await Tab(again).shows_app()

    asyncio.run(run())


def test_an_idle_tab_ends_and_a_busy_one_stays(tmp_path: Path):
    served = start(tmp_path, "--idle-minutes", "0.04")  # 2.4 s

    async def keys(busy: aiohttp.ClientWebSocketResponse) -> None:
        while not busy.closed:  # a key every half second, from the start: this tab is never idle
            await busy.send_str('["stdin", "x"]')
            await asyncio.sleep(0.5)

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            busy, idle = await session.ws_connect(f"{served.base}/ws"), await session.ws_connect(f"{served.base}/ws")
            typing = asyncio.create_task(keys(busy))
            closing = await Tab(idle).closing(30)
            assert closing == (1000, "meter-tui: closed after 2.4 s without a key or click.")
            await until(lambda: len(_apps(served)) == 1, "the idle tab's app to end")
            await Tab(busy).shows_app()
            assert not busy.closed
            typing.cancel()
            await busy.close()

    try:
        asyncio.run(run())
    finally:
        served.stop()


async def until(condition: Callable[[], object], what: str, seconds: float = 15) -> None:
    """wait_for inside an event loop: the websockets go on meanwhile."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _apps(served: Served) -> list[int]:
    return [pid for pid in descendants(served.process.pid) if "COLUMNS" in environ(pid)]


def test_the_token_is_in_no_log_and_no_process(tmp_path: Path):
    served = start(tmp_path, "--host", "0.0.0.0", env={"METER_TUI_SERVE_TOKEN": TOKEN})
    try:
        status, page = get(f"{served.base}/?token={TOKEN}", {"Referer": f"http://pi/?token={TOKEN}&x=1"})
        assert status == 200 and "textual.js" in page
        assert get(f"{served.base}/?token=wrong")[0] == 403
        wait_for(lambda: "open http" in served.output(), "the URL to open")
        printed = re.findall(rf"http://([^/\s]+):{served.port}/\?token=TOKEN", served.output())
        assert printed[0] == socket.gethostname() and "0.0.0.0" not in printed, printed
        for host in printed[1:]:  # the machine's address (when it has a route out): the page answers there
            status, page = get(f"http://{host}:{served.port}/?token={TOKEN}")
            assert status == 200 and 'src="/static/js/textual.js"' in page

        async def run() -> None:
            async with (
                aiohttp.ClientSession(cookies={"meter_tui_token": TOKEN}) as session,
                session.ws_connect(f"{served.base}/ws?token={TOKEN}") as tab,
            ):
                await Tab(tab).shows_app()
                for pid in _apps(served):
                    assert TOKEN not in Path(f"/proc/{pid}/cmdline").read_text()
                    assert TOKEN not in str(environ(pid))

        asyncio.run(run())
        wait_for(lambda: served.output().count("GET /") >= 3, "the access log lines")
    finally:
        said = served.stop()
    assert TOKEN not in said
    assert "GET /?token=... " in said
    assert re.search(rf"open http://\S+:{served.port}/\?token=TOKEN", said), said


def test_a_token_file_is_read_and_a_bad_one_said_in_one_line(tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    served = start(tmp_path, "--token-file", str(token_file))
    try:
        assert get(f"{served.base}/")[0] == 403
        assert get(f"{served.base}/?token={TOKEN}")[0] == 200
    finally:
        served.stop()
    missing = subprocess.run(
        [sys.executable, "-m", "meter_tui", "serve", "--demo", "--token-file", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")},
    )  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"meter-tui: {tmp_path / 'none'}: cannot read the serve token: "
                                                   "No such file or directory"]  # fmt: skip


def test_a_token_on_the_command_line_works_with_a_warning(tmp_path: Path):
    served = start(tmp_path, "--token", TOKEN)
    try:
        assert get(f"{served.base}/?token={TOKEN}")[0] == 200
    finally:
        said = served.stop()
    assert "--token shows in `ps`" in said and "METER_TUI_SERVE_TOKEN" in said and "--token-file" in said


def test_the_favicon_is_served(loopback: Served):
    with urllib.request.urlopen(f"{loopback.base}/favicon.ico", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/x-icon"
        icon = response.read()
    assert icon[:4] == b"\0\0\1\0" and b"PNG" in icon[:64]


def test_behind_a_proxy_the_public_url_is_used_and_trusted(tmp_path: Path):
    served = start(tmp_path, "--public-url", "https://meter.example:8443/")
    try:
        proxied = {"Host": "meter.example:8443"}
        status, page = get(f"{served.base}/", proxied)
        assert status == 200
        assert "https://meter.example:8443/static/js/textual.js" in page
        assert 'data-session-websocket-url="wss://meter.example:8443/ws"' in page
        status, page = get(f"{served.base}/")  # as 127.0.0.1: the page still names the public URL
        assert status == 200 and "https://meter.example:8443/static/" in page

        async def through_proxy() -> None:
            origin = {**proxied, "Origin": "https://meter.example:8443"}
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{served.base}/ws", headers=origin) as tab,
            ):
                await Tab(tab).shows_app()

        asyncio.run(through_proxy())
        assert asyncio.run(refused_status(f"{served.base}/ws", {"Origin": "https://evil.example"})) == 403
    finally:
        said = served.stop()
    assert "open https://meter.example:8443/" in said


def test_a_busy_port_is_said_in_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run(
            [sys.executable, "-m", "meter_tui", "serve", "--demo", "--port", str(port)],
            capture_output=True, text=True, timeout=30, check=False,
            env={**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")},
        )  # fmt: skip
    assert busy.returncode == 2
    assert busy.stderr.strip().splitlines() == [f"meter-tui: serve: cannot listen on 127.0.0.1 port {port}: "
                                                "Address already in use"]  # fmt: skip


def test_a_tab_that_sends_junk_ends_in_one_line(loopback: Served):
    async def junk() -> tuple[int, str]:
        async with aiohttp.ClientSession() as session:
            tab = await session.ws_connect(f"{loopback.base}/ws")
            await tab.send_str("this is not JSON")
            return await Tab(tab).closing()

    asyncio.run(junk())
    wait_for(lambda: "a browser tab ended" in loopback.output(), "the server to say why the tab ended")
    assert get(f"{loopback.base}/")[0] == 200
    said = loopback.stop()
    assert "Traceback" not in said and "JSONDecodeError" in said


@pytest.mark.parametrize("option", [["--max-tabs", "0"], ["--idle-minutes", "0"], ["--idle-minutes", "nan"],
                                    ["--idle-minutes", "inf"]])  # fmt: skip
def test_a_bad_tab_limit_is_said_in_one_line(tmp_path: Path, option: list[str]):
    refused = subprocess.run(
        [sys.executable, "-m", "meter_tui", "serve", "--demo", "--port", str(free_port()), *option],
        capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "METER_TUI_DATA_DIR": str(tmp_path), "METER_TUI_RUN_DIR": str(tmp_path / "run")},
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == ["meter-tui: serve: --max-tabs must be at least 1 and "
                                                   "--idle-minutes a number of minutes above 0"]  # fmt: skip
