"""The owner's Unix socket under abuse, against a real `meter-tui record` owning a real pseudo-terminal: what a
connection sends is not kept, followers are capped, a noisy meter writes a few log lines, not megabytes. Also the
pieces these rest on: how a source is named for the lock, the log throttle, meter-tui's private folders."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import stat
from datetime import date
from pathlib import Path

import pytest

from meter_tui.config import PidLock
from meter_tui.services.events import Throttle
from meter_tui.sources.base import SourceError
from meter_tui.sources.hub import MAX_FOLLOWERS, FollowerSource, channel_paths
from meter_tui.sources.identity import port_identity
from meter_tui.sources.serial import SerialSource
from meter_tui.store.backup import backup_dir, daily_backup
from meter_tui.store.database import open_database
from tests.conftest import wait_for
from tests.test_one_owner import Recorder
from tests.test_sources_serial import Pty, telegrams


@pytest.fixture
def owner(tmp_path: Path):
    """A recorder owning a pty, and the path of its socket."""
    pty = Pty(tmp_path / "ttyUSB0")
    recorder = Recorder("owner", str(pty.link), tmp_path / "meter.sqlite", tmp_path)
    _, path = channel_paths(tmp_path / "run", port_identity(str(pty.link)).key)
    try:
        wait_for(lambda: "waiting for data" in recorder.text() and path.exists(), "the owner's socket")
        yield recorder, path, pty
    finally:
        recorder.stop()
        pty.unplug()


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def connect(path: Path) -> socket.socket:
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(10)
    client.connect(str(path))
    return client


def first_line(client: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = client.recv(200)
        if not chunk:
            break
        data += chunk
    return data


def test_ten_megabytes_sent_into_the_owner_socket_close_the_connection_and_stay_out_of_memory(owner):
    recorder, path, pty = owner
    before = rss_kb(recorder.process.pid)
    client = connect(path)
    assert first_line(client) == b"\r\n"
    with pytest.raises((BrokenPipeError, ConnectionResetError)):  # the owner hangs up after a few bytes
        client.sendall(os.urandom(10 << 20))
    client.close()
    assert rss_kb(recorder.process.pid) - before < 4096  # kB: nothing of the 10 MB was kept
    sent = telegrams(2)
    for telegram in sent:  # and the owner goes on
        pty.write(telegram)
    wait_for(lambda: recorder.received() == 2, "the owner to go on reading")


def test_the_owner_serves_at_most_max_followers_and_tells_the_others(owner):
    recorder, path, _ = owner
    clients = [connect(path) for _ in range(MAX_FOLLOWERS + 10)]
    try:
        lines = [first_line(client) for client in clients]
        assert lines.count(b"\r\n") == MAX_FOLLOWERS
        refused = [line for line in lines if line != b"\r\n"]
        assert len(refused) == 10
        assert all(line.startswith(b"full: meter-tui (pid %d)" % recorder.process.pid) for line in refused)
        assert len(os.listdir(f"/proc/{recorder.process.pid}/fd")) < MAX_FOLLOWERS + 40  # refused ones are closed

        async def follow() -> FollowerSource:
            source = FollowerSource(path, "test")
            with pytest.raises(SourceError, match="refused by the owner of the meter: full"):
                await source.open()
            return source

        assert asyncio.run(follow()).refused
    finally:
        for client in clients:
            client.close()
    log = recorder.text()
    assert len(log.splitlines()) < 10, log  # connections are not logged one by one


def test_1100_connections_held_open_leave_the_owner_serving_and_its_log_short(tmp_path: Path):
    pty = Pty(tmp_path / "ttyUSB0")
    recorder = Recorder("owner", str(pty.link), tmp_path / "meter.sqlite", tmp_path, files=1024)
    _, path = channel_paths(tmp_path / "run", port_identity(str(pty.link)).key)
    clients: list[socket.socket] = []
    try:
        wait_for(lambda: "waiting for data" in recorder.text() and path.exists(), "the owner's socket")
        for _ in range(1100):
            client = socket.socket(socket.AF_UNIX)
            client.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # the backlog is full: the connection waits in the kernel
                client.connect(str(path))
            clients.append(client)
        wait_for(lambda: len(os.listdir(f"/proc/{recorder.process.pid}/fd")) < MAX_FOLLOWERS + 40, "refusals")
        for telegram in telegrams(2):
            pty.write(telegram)
        wait_for(lambda: recorder.received() == 2, "the owner to go on reading")
    finally:
        for client in clients:
            client.close()
        recorder.stop()
        pty.unplug()
    assert len(recorder.text().splitlines()) < 12, recorder.text()


def test_a_stream_of_bogus_frames_writes_a_few_log_lines(owner):
    recorder, _, pty = owner
    bogus = b"/X\r\n\r\n!0000\r\n" * 3000
    for start in range(0, len(bogus), 4096):
        pty.write(bogus[start : start + 4096])
    pty.write(telegrams(1)[0])
    wait_for(lambda: recorder.received() == 1, "the good telegram after the noise")
    recorder.stop()
    log = recorder.text()
    rejected = int(re.search(r"stopped: 1 telegrams, (\d+) rejected", log).group(1))
    assert rejected >= 1000, log
    assert len(re.findall(r"^\S+ \S+ rejected telegram:", log, re.MULTILINE)) == 3, log
    assert "more like this in 60 s, the last: rejected telegram:" in log
    assert len(log.splitlines()) < 15, log


def test_the_throttle_says_a_few_then_how_many_more():
    said: list[str] = []
    now = [0.0]
    throttle = Throttle(said.append, interval=60, burst=2, clock=lambda: now[0])
    for number in range(100):
        throttle("rejected", f"bad {number}")
    throttle("other", "another kind")
    assert said == ["bad 0", "bad 1", "another kind"]
    now[0] = 61
    throttle.tick()
    assert said[-1] == "98 more like this in 60 s, the last: bad 99"
    throttle("rejected", "bad again")
    assert said[-1] == "bad again"
    throttle.flush()
    assert len(said) == 5


def test_spellings_of_one_source_are_one_meter(tmp_path: Path):
    hosts = ("127.0.0.1", "localhost", "[::1]", "127.0.1.1")
    loopback = {port_identity(f"{scheme}://{host}:2323").key for scheme in ("socket", "rfc2217") for host in hosts}
    assert loopback == {"tcp:loopback:2323"}
    assert port_identity("socket://192.0.2.7:23").key != port_identity("socket://192.0.2.8:23").key
    assert port_identity("socket://localhost:23").key != port_identity("socket://localhost:24").key
    pty = Pty(tmp_path / "by-id-link")
    try:
        second = tmp_path / "another-link"
        second.symlink_to(pty.link)
        keys = {port_identity(p).key for p in (str(pty.link), str(second), os.ttyname(pty.slave))}
        assert len(keys) == 1 and keys.pop().startswith("device:")
    finally:
        pty.unplug()
    assert port_identity(str(tmp_path / "not-plugged")).key == f"path:{tmp_path / 'not-plugged'}"


def test_a_host_that_cannot_be_resolved_keeps_its_name_and_says_so():
    identity = port_identity("socket://p1-reader.invalid:23", resolve_seconds=2)
    assert identity.key == "tcp:p1-reader.invalid:23"
    assert "p1-reader.invalid cannot be resolved now" in identity.note


def test_backups_run_and_serve_folders_are_created_private(tmp_path: Path):
    from meter_tui.ui.serve import local_templates  # noqa: PLC0415

    db = tmp_path / "meter.sqlite"
    connection = open_database(db)
    try:
        daily_backup(connection, db, date(2026, 3, 23))
    finally:
        connection.close()
    lock = PidLock(tmp_path / "run" / "meter.lock")
    assert lock.try_acquire()
    lock.release()
    for folder in (backup_dir(db), tmp_path / "run", local_templates(tmp_path / "serve")):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    loose = tmp_path / "old" / "backups"
    loose.mkdir(parents=True, mode=0o755)
    loose.chmod(0o755)
    old = tmp_path / "old" / "meter.sqlite"
    connection = open_database(old)
    try:
        daily_backup(connection, old, date(2026, 3, 23))
    finally:
        connection.close()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_a_serial_device_is_read_by_one_process_only(tmp_path: Path):
    """Even a second reader that names the device in a way the owner's lock did not recognise is refused."""
    pty = Pty(tmp_path / "ttyUSB0")

    async def open_twice() -> None:
        first = SerialSource(str(pty.link))
        await first.open()
        try:
            with pytest.raises(SourceError, match="another process is reading it"):
                await SerialSource(os.ttyname(pty.slave)).open()
        finally:
            await first.close()
        again = SerialSource(os.ttyname(pty.slave))
        await again.open()  # free again once the first has closed it
        await again.close()

    try:
        asyncio.run(open_twice())
    finally:
        pty.unplug()
