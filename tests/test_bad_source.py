"""A source that yields nothing but bad data never starves the app: the real app in a real tmux, on
replays of captures whose telegrams fail their CRC, says what it rejects and quits on `q` within a second.
(160 columns: the source line then holds the whole state and the counts.)"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TELEGRAMS, require_program, wait_for, with_crc

BAD = (
    TELEGRAMS / "BE_idx68294399590__FLU5_253769484_A__fabricated_INVALIDcrc.txt",
    TELEGRAMS / "BE_idx53075094509__FLU5_253770234_A__trimmed_INVALIDcrc.txt",
)
GOOD = "/FLU5\\253769484_A\r\n\r\n0-0:1.0.0(260912224500S)\r\n1-0:1.7.0(01.850*kW)\r\n1-0:2.7.0(00.000*kW)\r\n!"


@pytest.fixture
def tmux(tmp_path: Path):
    """Run commands in a tmux server of this test alone (its socket in the test's folder)."""
    require_program("tmux", "tmux", "the app is driven in a real terminal")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TMUX_TMPDIR": str(tmp_path),
        "METER_TUI_DATA_DIR": str(tmp_path / "data"),
        "METER_TUI_RUN_DIR": str(tmp_path / "run"),
        "LANG": "C.UTF-8",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", *args], env=env, capture_output=True, text=True, check=False)

    yield run
    run("kill-server")


def start_app(tmux, folder: Path, capture: Path, *options: str) -> None:
    app = Path(sys.prefix) / "bin" / "meter-tui"
    command = [str(app), "--replay", str(capture), *options, "--db", str(folder / "r.sqlite")]
    command += ["--rates", str(folder / "rates.json")]
    started = tmux("new-session", "-d", "-s", "app", "-x", "160", "-y", "40", " ".join(map(str, command)))
    assert started.returncode == 0, started.stderr


def screen(tmux) -> str:
    return tmux("capture-pane", "-p", "-t", "=app:").stdout


def rejected(tmux) -> int:
    counted = re.search(r"\b(\d+) good, (\d+) rejected", screen(tmux))
    return int(counted.group(2)) if counted else 0


def quit_on_q(tmux) -> float:
    """Press q: the seconds until the app has left the screen (the pane's alternate screen is off); then the
    process must end (a busy machine may take a moment more to free its memory)."""
    tmux("send-keys", "-t", "=app:", "q")
    asked = time.monotonic()
    wait_for(lambda: tmux("display", "-p", "-t", "=app:", "#{alternate_on}").stdout.strip() != "1", "q", 5.0)
    left = time.monotonic() - asked
    wait_for(lambda: tmux("has-session", "-t", "=app").returncode != 0, "the process to end after q", 5.0)
    return left


@pytest.mark.parametrize("options", [["--loop"], ["--loop", "--fast"]], ids=["real-time", "fast"])
def test_a_looped_capture_of_only_bad_telegrams_is_said_and_the_app_quits(tmux, tmp_path: Path, options):
    capture = tmp_path / "bad.p1"
    capture.write_bytes(b"".join(path.read_bytes() for path in BAD[: 1 if options == ["--loop"] else 2]))
    start_app(tmux, tmp_path, capture, *options)
    wait_for(lambda: "not looped" in screen(tmux), "the source line to say the loop was refused", 30)
    shown = screen(tmux)
    assert "0 good" in shown and rejected(tmux) >= 1, shown
    assert quit_on_q(tmux) < 1.0


def test_a_fast_loop_of_mostly_bad_telegrams_keeps_the_app_answering(tmux, tmp_path: Path):
    """One good telegram among many bad ones, looped as fast as possible: the rejections flow on and on (the loop
    is not refused), while the screen keys and `q` are answered."""
    capture = tmp_path / "mostly-bad.p1"
    capture.write_bytes(with_crc(GOOD) + BAD[0].read_bytes() * 50)
    start_app(tmux, tmp_path, capture, "--loop", "--fast")
    wait_for(lambda: rejected(tmux) > 100, "a hundred rejections on the source line", 30)
    seen = rejected(tmux)
    wait_for(lambda: rejected(tmux) > seen, "the rejections to go on", 10)
    tmux("send-keys", "-t", "=app:", "e")
    wait_for(lambda: "telegram rejected: CRC" in screen(tmux), "the event log naming what was rejected", 5)
    quit_on_q(tmux)  # within 5 s: this replay keeps a core busy on purpose, and the terminal's output with it
