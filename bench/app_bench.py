"""App speed: from start to the first painted frame, and CPU per telegram while a screen (live unless told)
shows a meter that sends one telegram a second. Runs the real app in a real tmux pane (80x24 unless `--size`), the
demo meter as the source.

Run: `make bench-app` (needs tmux). Targets here: under 1.0 s to the first frame on an existing history (the demo's,
prepared first; `--fresh` starts on none), under 1.5% of one core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
SCREEN_KEYS = {"live": "l", "history": "h", "peak": "p", "telegram": "t", "settings": "s"}


def tmux(*args: str, socket: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False).stdout


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def prepare_history(folder: Path) -> None:
    """The demo's first run simulates its history since the first of last month; `record --demo` does it here,
    and is stopped once it records, so that the app's start below is timed on an existing history."""
    env = {**os.environ, "METER_TUI_DATA_DIR": str(folder), "METER_TUI_RUN_DIR": f"{folder}/run"}
    log = folder / "record.log"
    with log.open("wb") as out:
        record = subprocess.Popen([sys.executable, "-m", "meter_tui", "record", "--demo", "--rates",
                                   f"{folder}/rates.json"], env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while "owner of the meter" not in log.read_text(errors="replace") and record.poll() is None:
            time.sleep(0.2)
        time.sleep(2)
    finally:
        record.terminate()
        record.wait(20)
    size = (folder / "demo.sqlite").stat().st_size / 1e6
    print(f"history prepared: {folder / 'demo.sqlite'} ({size:.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long to measure CPU (default 60)")
    parser.add_argument("--screen", choices=sorted(SCREEN_KEYS), default="live", help="the screen shown (default live)")
    parser.add_argument("--fresh", action="store_true",
                        help="start on an empty history instead of the demo's history of the last weeks")  # fmt: skip
    parser.add_argument("--size", default="80x24", help="the tmux pane, WxH (220x60: the Live screen's one glance)")
    parser.add_argument("--app-args", default="", help='more app arguments, e.g. "--mqtt mqtt://127.0.0.1:1883"')
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is needed: apt-get install tmux", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp())
    socket = f"meter-bench-{os.getpid()}"
    env_prefix = f"METER_TUI_DATA_DIR={folder} METER_TUI_RUN_DIR={folder}/run"
    if args.fresh:
        history = f"--db {folder}/bench.sqlite"  # a start without history
    else:
        history = ""  # the demo's own history, made beforehand: a start as on a Pi that has recorded for weeks
        prepare_history(folder)
    command = f"{env_prefix} {sys.executable} -m meter_tui --demo {history} --rates {folder}/rates.json {args.app_args}"
    started = time.perf_counter()
    width, _, height = args.size.partition("x")
    tmux("new-session", "-d", "-x", width, "-y", height, command, socket=socket)
    first_frame = None
    while time.perf_counter() - started < 30:
        if "Import kW" in tmux("capture-pane", "-p", socket=socket):
            first_frame = time.perf_counter() - started
            break
        time.sleep(0.01)
    try:
        if first_frame is None:
            print("the app did not paint within 30 s", file=sys.stderr)
            return 1
        while "good" not in tmux("capture-pane", "-p", socket=socket):
            time.sleep(0.1)
        pane_pid = int(tmux("list-panes", "-F", "#{pane_pid}", socket=socket).split()[0])
        children = subprocess.run(["pgrep", "-P", str(pane_pid)], capture_output=True, text=True, check=False)
        pid = int(children.stdout.split()[0]) if children.stdout.strip() else pane_pid
        tmux("send-keys", SCREEN_KEYS[args.screen], socket=socket)
        time.sleep(3)  # let start-up work settle
        cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
        time.sleep(args.seconds)
        cpu = cpu_seconds(pid) - cpu_before
        wall = time.perf_counter() - wall_before
        on = "an empty history" if args.fresh else "an existing history"
        print(f"first painted frame: {first_frame:.2f} s after start on {on} (target under 1.0 s)")
        print(
            f"{args.screen} screen at {args.size}, one telegram a second: {cpu / wall * 100:.2f}% of one core over "
            f"{wall:.0f} s, {cpu / wall * 1000:.1f} ms of CPU per telegram (target under 1.5%)"
        )
    finally:
        tmux("kill-server", socket=socket)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
