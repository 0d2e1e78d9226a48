"""startup_cron.sh with a real tmux: a private socket folder (TMUX_TMPDIR), the demo meter, run twice."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_program, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _tmux() -> None:
    require_program("tmux", "tmux", "startup_cron.sh is tested in a real tmux")


@pytest.fixture
def install(tmp_path: Path):
    """The script in an install folder of its own (with a space in its path, as a home folder may have), beside a
    .venv that is this test run's environment; its history, lock and tmux socket in the test's folder.
    The environment is built from nothing, as cron's is: the developer's own tmux server is never touched."""
    folder = tmp_path / "digital meter"
    folder.mkdir()
    shutil.copy(ROOT / "startup_cron.sh", folder / "startup_cron.sh")
    venv = Path(sys.prefix)
    assert (venv / "bin" / "meter-tui").exists(), f"meter-tui is not installed in {venv}"
    (folder / ".venv").symlink_to(venv)
    tmux_dir = tmp_path / "tmux"
    tmux_dir.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",  # what cron gives
        "HOME": str(tmp_path),
        "TMUX_TMPDIR": str(tmux_dir),
        "METER_TUI_ARGS": f"--demo --db {tmp_path / 'meter.sqlite'} --rates {tmp_path / 'rates.json'}",
        "METER_TUI_DATA_DIR": str(tmp_path / "data"),
        "METER_TUI_RUN_DIR": str(tmp_path / "run"),
    }
    yield folder, env
    subprocess.run(["tmux", "kill-server"], env=env, capture_output=True, check=False)


def tmux(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["tmux", *args], env=env, capture_output=True, text=True, check=False).stdout


def shown(env: dict[str, str]) -> str:
    """What the session's pane shows now."""
    return tmux(env, "capture-pane", "-p", "-t", "=meter:")


def drawn_with_a_telegram(screen: str) -> bool:
    """The live screen after its first good telegram: the source line counts one (not "0 good", which is there
    from the start) and the phases table is drawn."""
    return re.search(r"\b[1-9][0-9]* good\b", screen) is not None and "L1" in screen


def start(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # From another working folder, by absolute path, as cron runs it.
    script = str(folder / "startup_cron.sh")
    return subprocess.run([script], env=env, cwd="/", capture_output=True, text=True, timeout=30, check=False)


def test_run_twice_gives_one_session_showing_the_live_screen(install):
    folder, env = install
    first = start(folder, env)
    assert first.returncode == 0, first.stderr
    wait_for(lambda: drawn_with_a_telegram(shown(env)), "the live screen with a telegram", 30)
    screen = shown(env)
    assert "Import kW" in screen and "Export kW" in screen, screen
    assert "connected" in screen and "L1" in screen, screen
    assert " · " in screen, "not drawn in UTF-8: " + screen  # with cron's empty locale too
    pane = tmux(env, "list-panes", "-a", "-F", "#{pane_pid}")

    second = start(folder, env)
    assert second.returncode == 0, second.stderr
    assert tmux(env, "list-sessions", "-F", "#{session_name}").split() == ["meter"]
    assert tmux(env, "list-panes", "-a", "-F", "#{pane_pid}") == pane, "the running app was restarted"
    log = (folder / "startup_cron.log").read_text().splitlines()
    assert len(log) == 2, log
    assert "started session 'meter'" in log[0] and "--demo" in log[0]
    assert "already runs" in log[1]
    # The socket is where TMUX_TMPDIR says, so a plain `tmux a` with the same environment finds it.
    assert list((Path(env["TMUX_TMPDIR"])).glob("tmux-*/default"))


def test_session_name_and_a_missing_venv(install):
    folder, env = install
    named = start(folder, {**env, "METER_TUI_SESSION": "p1"})
    assert named.returncode == 0
    assert tmux(env, "list-sessions", "-F", "#{session_name}").split() == ["p1"]

    (folder / ".venv").unlink()
    missing = start(folder, {**env, "METER_TUI_SESSION": "other"})
    assert missing.returncode == 1
    assert "meter-tui not found" in (folder / "startup_cron.log").read_text().splitlines()[-1]
    assert tmux(env, "list-sessions", "-F", "#{session_name}").split() == ["p1"]


def test_when_the_app_stops_the_pane_says_why(install):
    folder, env = install
    assert start(folder, {**env, "METER_TUI_ARGS": "--no-such-option"}).returncode == 0
    wait_for(lambda: "meter-tui stopped" in shown(env), "the pane to say the app stopped", 20)
    screen = shown(env)
    assert "unrecognized arguments: --no-such-option" in screen, screen
    assert "meter-tui stopped (exit 2)" in screen, screen
