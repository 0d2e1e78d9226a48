"""One owner of the meter: real processes racing for a real pseudo-terminal, followers on the Unix socket, and a
follower taking over when the owner is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meter_tui.p1.reader import TelegramReader
from meter_tui.sources.hub import channel_paths
from meter_tui.sources.identity import port_identity
from meter_tui.store.raw import summary as raw_summary
from tests.conftest import wait_for
from tests.test_sources_serial import Pty, telegrams


class Recorder:
    """`meter-tui record` in its own process, writing what it receives to a capture file."""

    def __init__(self, name: str, port: Path, tmp: Path) -> None:
        self.name = name
        self.log = tmp / f"{name}.log"
        self.capture = tmp / f"{name}.p1"
        env = {**os.environ, "METER_TUI_RUN_DIR": str(tmp / "run"), "METER_TUI_CONFIG": str(tmp / "none.toml")}
        self.db = tmp / "meter.sqlite"  # one history, as on a Pi: only the owner of the meter writes it
        command = [sys.executable, "-m", "meter_tui", "record", "--port", str(port), "--capture", str(self.capture),
                   "--db", str(self.db), "--rates", str(tmp / "rates.json")]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def received(self) -> list[bytes]:
        data = b"".join(p.read_bytes() for p in sorted(self.capture.parent.glob(f"{self.name}-*.p1")))
        reader = TelegramReader()
        return [r.raw for r in [*reader.feed(data), *reader.flush()] if r.telegram is not None]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


OWNER = "meter-tui record: owner of the meter"
FOLLOWER = "meter-tui record: following"


def owners(recorders: list[Recorder]) -> list[Recorder]:
    return [r for r in recorders if OWNER in r.text()]


@pytest.fixture
def pty(tmp_path: Path):
    device = Pty(tmp_path / "ttyUSB0")
    yield device
    device.unplug()


@pytest.mark.parametrize("count", [2, 3])
def test_processes_started_at_once_share_one_owner_and_a_killed_owner_is_replaced(tmp_path: Path, pty: Pty, count):
    recorders = [Recorder(f"p{i}", pty.link, tmp_path) for i in range(count)]
    try:
        wait_for(lambda: all(OWNER in r.text() or FOLLOWER in r.text() for r in recorders), "roles")
        assert len(owners(recorders)) == 1
        owner = owners(recorders)[0]
        followers = [r for r in recorders if r is not owner]
        wait_for(lambda: "waiting for data" in owner.text(), "the owner to open the port")
        wait_for(lambda: all("waiting for data" in r.text() for r in followers), "the followers to connect")
        sent = [t.rstrip(b"\r\n") for t in telegrams(6)]
        for telegram in sent[:3]:
            pty.write(telegram + b"\r\n")
            time.sleep(0.05)
        wait_for(lambda: all(r.received() == sent[:3] for r in recorders), "every process to see every telegram")

        owner.process.kill()  # SIGKILL: no clean-up at all, the lock and socket files stay behind
        owner.process.wait(5)
        killed_at = time.monotonic()
        wait_for(lambda: len(owners(followers)) == 1, "a follower to take over")
        new_owner = owners(followers)[0]
        assert time.monotonic() - killed_at < 5
        wait_for(lambda: new_owner.text().count("waiting for data") >= 2, "the new owner to open the port")
        rest = [r for r in followers if r is not new_owner]
        wait_for(
            lambda: all(r.text().count("waiting for data") >= 2 for r in rest), "the others to follow the new owner"
        )
        for telegram in sent[3:]:
            pty.write(telegram + b"\r\n")
            time.sleep(0.05)
        wait_for(lambda: all(r.received() == sent for r in followers), "the telegrams after the takeover")
    finally:
        for recorder in recorders:
            recorder.stop()
    for recorder in followers:
        assert recorder.process.returncode == 0, recorder.text()
        assert "stopped: 6 telegrams, 0 rejected" in recorder.text()


def test_a_stale_lock_and_socket_from_a_crash_never_block_a_start(tmp_path: Path, pty: Pty):
    lock, sock = channel_paths(tmp_path / "run", port_identity(str(pty.link)).key)
    lock.parent.mkdir(parents=True)
    lock.write_text("999999\n")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock))  # a socket file nobody listens on
    stale.close()
    recorder = Recorder("solo", pty.link, tmp_path)
    try:
        wait_for(lambda: OWNER in recorder.text(), "the new process to own the meter")
        wait_for(lambda: "waiting for data" in recorder.text(), "the port to open")
        telegram = telegrams(1)[0]
        pty.write(telegram)
        wait_for(lambda: recorder.received() == [telegram.rstrip(b"\r\n")], "the telegram")
    finally:
        recorder.stop()
    assert recorder.process.returncode == 0
    assert not sock.exists()  # the owner removes its socket when it stops


def test_sigterm_flushes_and_exits_cleanly(tmp_path: Path, pty: Pty):
    recorder = Recorder("service", pty.link, tmp_path)
    try:
        wait_for(lambda: "waiting for data" in recorder.text(), "the port to open")
        sent = [t.rstrip(b"\r\n") for t in telegrams(3)]
        for telegram in sent:
            pty.write(telegram + b"\r\n")
        # The capture is flushed per telegram: once it holds all three, all three went through the recorder.
        wait_for(lambda: recorder.received() == sent, "the telegrams")
        recorder.process.send_signal(signal.SIGTERM)
        recorder.process.wait(10)
    finally:
        recorder.stop()
    assert recorder.process.returncode == 0
    assert "stopped: 3 telegrams, 0 rejected" in recorder.text()
    # The history is committed every 5 minutes of meter time; SIGTERM commits what came since.
    with sqlite3.connect(recorder.db) as db:
        assert raw_summary(db)[0] == 3
