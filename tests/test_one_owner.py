"""One owner per meter whatever the spelling of its source, one recorder per history whatever the source, and a
new history created safely by processes started together: real `meter-tui` processes, a real TCP server, real
pseudo-terminals and real SQLite files."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from meter_tui.p1.reader import TelegramReader
from meter_tui.sources.identity import port_identity
from meter_tui.sources.simulator import SimulatedMeter
from tests.conftest import require_program, wait_for
from tests.test_sources_serial import Pty, telegrams

OWNER = "meter-tui record: owner of the meter"
FOLLOWER = "meter-tui record: following"
CAPTURE = Path(__file__).parent / "data" / "telegrams" / "BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt"


def environment(tmp: Path) -> dict[str, str]:
    return {**os.environ, "METER_TUI_RUN_DIR": str(tmp / "run"), "METER_TUI_CONFIG": str(tmp / "none.toml"),
            "METER_TUI_DATA_DIR": str(tmp / "data")}  # fmt: skip


class Recorder:
    """`meter-tui record` in its own process, its output in a log file."""

    def __init__(self, name: str, port: str, db: Path, tmp: Path, *, files: int | None = None) -> None:
        self.log = tmp / f"{name}.log"
        self.capture = tmp / f"{name}.p1"
        command = [sys.executable, "-m", "meter_tui", "record", "--port", port, "--db", str(db),
                   "--rates", str(tmp / "rates.json"), "--capture", str(self.capture)]  # fmt: skip
        if files:  # a Raspberry Pi's default is 1024 open files
            command = ["sh", "-c", f'ulimit -n {files} && exec "$@"', "-", *command]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment(tmp))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def received(self) -> int:
        """Telegrams this process has seen (its capture files are flushed per telegram)."""
        data = b"".join(p.read_bytes() for p in sorted(self.capture.parent.glob(f"{self.capture.stem}-*.p1")))
        return sum(r.telegram is not None for r in TelegramReader().feed(data))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def meter_tui(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meter_tui", *args], env=environment(tmp), capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


class TcpMeter:
    """A network P1 reader: sends every telegram to every connection, and counts the connections."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            self.clients.append(client)

    def send(self, data: bytes) -> None:
        for client in list(self.clients):
            try:
                client.sendall(data)
            except OSError:
                self.clients.remove(client)

    def close(self) -> None:
        self.server.close()
        for client in self.clients:
            client.close()


def imported_wh(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT sum(import_day_wh + import_night_wh) FROM quarter").fetchone()[0] or 0


def register_wh(sent: list[bytes]) -> int:
    parsed = [r.telegram for r in TelegramReader().feed(b"".join(sent)) if r.telegram is not None]
    first, last = parsed[0], parsed[-1]
    total = (last.import_day_kwh + last.import_night_kwh) - (first.import_day_kwh + first.import_night_kwh)
    return round(total * 1000)


def test_localhost_and_127_0_0_1_of_one_reader_get_one_owner_and_the_energy_once(tmp_path: Path):
    meter = TcpMeter()
    db = tmp_path / "meter.sqlite"
    recorders = [Recorder("a", f"socket://127.0.0.1:{meter.port}", db, tmp_path),
                 Recorder("b", f"socket://localhost:{meter.port}", db, tmp_path)]  # fmt: skip
    try:
        wait_for(lambda: all(OWNER in r.text() or FOLLOWER in r.text() for r in recorders), "roles")
        assert sum(OWNER in r.text() for r in recorders) == 1, [r.text() for r in recorders]
        wait_for(lambda: all("waiting for data" in r.text() for r in recorders), "both to be connected")
        assert meter.accepted == 1  # only the owner reads the meter; the other follows it
        sent = SimulatedMeter(3).run(40 * 30, every=30)  # 20 minutes of a household: energy in the registers
        for telegram in sent:
            meter.send(telegram)
        wait_for(lambda: all(r.received() == len(sent) for r in recorders), "every telegram in both")
    finally:
        for recorder in recorders:
            recorder.stop()
        meter.close()
    assert all(r.process.returncode == 0 for r in recorders), [r.text() for r in recorders]
    assert imported_wh(db) == register_wh(sent) > 0  # counted once, not doubled


def test_a_pty_and_a_by_id_link_to_it_are_one_meter(tmp_path: Path):
    (tmp_path / "by-id").mkdir()
    pty = Pty(tmp_path / "by-id" / "usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0")
    device = os.ttyname(pty.slave)
    assert port_identity(str(pty.link)).key == port_identity(device).key
    recorders = [Recorder("link", str(pty.link), tmp_path / "meter.sqlite", tmp_path),
                 Recorder("device", device, tmp_path / "meter.sqlite", tmp_path)]  # fmt: skip
    try:
        wait_for(lambda: all(OWNER in r.text() or FOLLOWER in r.text() for r in recorders), "roles")
        assert sum(OWNER in r.text() for r in recorders) == 1, [r.text() for r in recorders]
        wait_for(lambda: all("waiting for data" in r.text() for r in recorders), "both to read")
        for telegram in telegrams(3):
            pty.write(telegram)
        wait_for(lambda: all(r.received() == 3 for r in recorders), "both to get every telegram")
    finally:
        for recorder in recorders:
            recorder.stop()
        pty.unplug()
    for recorder in recorders:
        assert "stopped: 3 telegrams, 0 rejected" in recorder.text(), recorder.text()
        assert "history not kept" not in recorder.text()


def test_two_recorders_of_different_meters_never_write_one_history(tmp_path: Path):
    db = tmp_path / "meter.sqlite"
    first_pty, second_pty = Pty(tmp_path / "first"), Pty(tmp_path / "second")
    first = Recorder("first", str(first_pty.link), db, tmp_path)
    second = None
    try:
        wait_for(lambda: "waiting for data" in first.text(), "the first recorder")
        second = Recorder("second", str(second_pty.link), db, tmp_path)
        wait_for(lambda: "history not kept" in second.text(), "the second to refuse the history")
        assert f"the history {db} is recorded by pid {first.process.pid}" in second.text()
        first.stop()
        sent = telegrams(60, seed=4)
        for telegram in sent:  # the second takes the history over once the first is gone (it asks every 5 s)
            second_pty.write(telegram)
            if "recorded by this process from now on" in second.text():
                break
            time.sleep(0.25)
        assert "recorded by this process from now on" in second.text(), second.text()
    finally:
        first.stop()
        if second is not None:
            second.stop()
        first_pty.unplug()
        second_pty.unplug()


@pytest.mark.parametrize("count", [8])
def test_processes_creating_one_new_history_at_once_all_succeed(tmp_path: Path, count: int):
    db = tmp_path / "new" / "meter.sqlite"
    command = [sys.executable, "-m", "meter_tui", "import", str(CAPTURE), "--db", str(db)]
    processes = [subprocess.Popen(command, env=environment(tmp_path), stderr=subprocess.PIPE, text=True)
                 for _ in range(count)]  # fmt: skip
    outputs = [(p.wait(60), p.stderr.read()) for p in processes if p.stderr is not None]
    for status, errors in outputs:
        assert status == 0, errors
        assert "already exists" not in errors and "Traceback" not in errors, errors
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT count(*) FROM imported_file").fetchone()[0] == 1


def test_restore_is_refused_while_the_history_is_recorded(tmp_path: Path):
    db = tmp_path / "meter.sqlite"
    pty = Pty(tmp_path / "ttyUSB0")
    recorder = Recorder("service", str(pty.link), db, tmp_path)
    try:
        wait_for(lambda: "waiting for data" in recorder.text(), "the recorder")
        for telegram in telegrams(3):
            pty.write(telegram)
        wait_for(lambda: recorder.received() == 3, "telegrams")
        saved = tmp_path / "saved.sqlite"
        assert meter_tui("backup", "--db", str(db), "--to", str(saved), tmp=tmp_path).returncode == 0
        refused = meter_tui("restore", str(saved), "--db", str(db), tmp=tmp_path)
        assert refused.returncode == 1
        assert f"the history {db} is recorded by pid {recorder.process.pid}: stop it first" in refused.stderr
        assert not list(tmp_path.glob("meter.sqlite.before-restore-*"))  # nothing was moved
    finally:
        recorder.stop()
        pty.unplug()
    restored = meter_tui("restore", str(saved), "--db", str(db), tmp=tmp_path)
    assert restored.returncode == 0, restored.stderr


HOLD = """
import sqlite3, sys, time
from pathlib import Path
from meter_tui.store.writer import writer_lock
db = Path(sys.argv[1])
assert writer_lock(db).try_acquire()
connection = sqlite3.connect(db, isolation_level=None)
connection.execute("PRAGMA locking_mode = EXCLUSIVE")
connection.execute("BEGIN EXCLUSIVE")
connection.execute("UPDATE quarter SET gap = gap")
print("held", flush=True)
time.sleep(60)
"""


def test_a_locked_history_is_said_locked_by_its_pid_never_damaged(tmp_path: Path):
    db = tmp_path / "meter.sqlite"
    assert meter_tui("import", str(CAPTURE), "--db", str(db), tmp=tmp_path).returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for command in (["report"], ["check"], ["import", str(CAPTURE)]):
            done = meter_tui(*command, "--db", str(db), tmp=tmp_path)
            assert done.returncode != 0, (command, done.stdout)
            assert f"{db}: the history is locked by pid {holder.pid}" in done.stderr, (command, done.stderr)
            assert "damaged" not in done.stderr and "Traceback" not in done.stderr, (command, done.stderr)
    finally:
        holder.kill()
        holder.wait(5)
    assert meter_tui("check", "--db", str(db), tmp=tmp_path).returncode == 0


def _read_only_mounts() -> None:
    """Root writes whatever the modes say: its test needs a read-only mount in a mount namespace of its own."""
    if os.geteuid() != 0:
        return
    unshare = require_program("unshare", "util-linux", "a read-only filesystem is tested as root with a private mount")
    probe = subprocess.run([unshare, "--mount", "true"], capture_output=True, text=True, check=False)
    if probe.returncode:
        reason = f"root without mount namespaces ({probe.stderr.strip()}): no read-only filesystem to test with"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def test_a_read_only_history_is_said_read_only_never_damaged(tmp_path: Path):
    _read_only_mounts()
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "meter.sqlite"
    assert meter_tui("import", str(CAPTURE), "--db", str(db), tmp=tmp_path).returncode == 0
    saved = tmp_path / "saved.sqlite"
    assert meter_tui("backup", "--db", str(db), "--to", str(saved), tmp=tmp_path).returncode == 0
    for command in (["import", str(CAPTURE)], ["restore", str(saved)]):
        args = [sys.executable, "-m", "meter_tui", *command, "--db", str(db)]
        if os.geteuid() == 0:  # root writes whatever the modes say: a read-only mount, private to this process
            script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
            args = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "-", str(folder), *args]
        else:
            folder.chmod(0o500)
        try:
            done = subprocess.run(args, env=environment(tmp_path), capture_output=True, text=True, timeout=60,
                                  check=False)  # fmt: skip
        finally:
            folder.chmod(0o700)
        assert done.returncode != 0, (command, done.stderr)
        assert "the history is read-only" in done.stderr, (command, done.stderr)
        assert "damaged" not in done.stderr and "Traceback" not in done.stderr, (command, done.stderr)
