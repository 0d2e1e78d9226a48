"""Soak: a million telegrams (12 days of one a second) through a real `meter-tui record` that owns the meter and a
real app that follows it (in an 80x24 tmux pane), the source dropped and resumed every 100,000 telegrams.

The meter is a TCP P1 bridge served here (the simulated household, paced at --rate telegrams a second); `record`
reads it with `--port socket://...`, as from an ESP dongle or ser2net. Prints the resident memory of both processes
at the start and at the end, the history's size per simulated year, that the raw telegrams older than 7 days were
removed, and whether the stored energy equals the register difference. Figures, never a pass or fail.

Run: `.venv/bin/python bench/soak.py` (about 6 minutes at 3,000 telegrams/s; `--telegrams 200000` for a shorter run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from meter_tui.p1 import parse_telegram
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.raw import summary as raw_summary


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Bridge:
    """A P1 network bridge: the simulated meter's telegrams to whoever connects, paced; every `drop_every`
    telegrams it closes the connection, as a Wi-Fi dongle that reboots would."""

    def __init__(self, total: int, rate: float, drop_every: int) -> None:
        self.meter = SimulatedMeter(7, datetime(2026, 1, 5, tzinfo=BRUSSELS))
        self.total, self.rate, self.drop_every = total, rate, drop_every
        self.sent = 0
        self.drops = 0
        self.first: bytes | None = None
        self.last: bytes | None = None
        self.done = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started, base = time.perf_counter(), self.sent
        try:
            while self.sent < self.total:
                telegram = self.meter.step()
                writer.write(telegram)
                self.first = self.first or telegram
                self.last = telegram
                self.sent += 1
                if self.sent % 200 == 0:
                    await writer.drain()
                    ahead = (self.sent - base) / self.rate - (time.perf_counter() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
                if self.sent % self.drop_every == 0 and self.sent < self.total:
                    self.drops += 1
                    break
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            if self.sent >= self.total:
                self.done.set()


def registers(raw: bytes) -> tuple[int, int, int, int]:
    t = parse_telegram(raw)
    gas = t.gas.reading.value if t.gas and t.gas.reading else 0.0
    water = t.water.reading.value if t.water and t.water.reading else 0.0
    imported = (t.import_day_kwh or 0) + (t.import_night_kwh or 0)
    exported = (t.export_day_kwh or 0) + (t.export_night_kwh or 0)
    return round(imported * 1000), round(exported * 1000), round(gas * 1000), round(water * 1000)


async def soak(args: argparse.Namespace, folder: Path) -> None:
    bridge = Bridge(args.telegrams, args.rate, args.drop_every)
    port = free_port()
    server = await asyncio.start_server(bridge.serve, "127.0.0.1", port)
    env = {**os.environ, "METER_TUI_DATA_DIR": str(folder), "METER_TUI_RUN_DIR": str(folder / "run")}
    db = folder / "soak.sqlite"
    source = ["--port", f"socket://127.0.0.1:{port}", "--db", str(db), "--rates", str(folder / "rates.json")]
    log = (folder / "record.log").open("wb")
    record = subprocess.Popen([sys.executable, "-m", "meter_tui", "record", *source], env=env, stdout=log,
                              stderr=subprocess.STDOUT)  # fmt: skip
    tmux = shutil.which("tmux")
    app_pid = None
    if tmux:
        await asyncio.sleep(2)  # the recorder owns the meter first; the app follows it
        command = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith("METER_TUI_"))
        command += f" {sys.executable} -m meter_tui {' '.join(source)}"
        subprocess.run([tmux, "-L", f"soak{os.getpid()}", "new-session", "-d", "-x", "80", "-y", "24", command],
                       check=True)  # fmt: skip
    else:
        print("tmux not found: no following app in this run", file=sys.stderr)
    started = time.perf_counter()
    memory: dict[str, list[float]] = {"record": [], "app": []}
    # Sampled at every drop: the first sample, after 100,000 telegrams, is the start (imports done, caches warm).
    marks = set(range(args.drop_every, args.telegrams + 1, args.drop_every)) | {args.telegrams}
    while not bridge.done.is_set():
        await asyncio.sleep(1)
        if app_pid is None and tmux:
            pane = subprocess.run([tmux, "-L", f"soak{os.getpid()}", "list-panes", "-F", "#{pane_pid}"],
                                  capture_output=True, text=True, check=False).stdout.split()  # fmt: skip
            if pane:  # the pane's shell execs the app, or runs it as its child
                children = subprocess.run(["pgrep", "-P", pane[0]], capture_output=True, text=True, check=False)
                app_pid = int(children.stdout.split()[0]) if children.stdout.strip() else int(pane[0])
        if marks and bridge.sent >= min(marks):
            marks.discard(min(marks))
            memory["record"].append(rss_mb(record.pid))
            if app_pid:
                memory["app"].append(rss_mb(app_pid))
        if sys.stderr.isatty():
            print(f"\r{bridge.sent:,} telegrams, {bridge.drops} drops, {time.perf_counter() - started:.0f} s",
                  end="", file=sys.stderr, flush=True)  # fmt: skip
    await asyncio.sleep(3)  # the last telegrams reach the recorder
    memory["record"].append(rss_mb(record.pid))
    if app_pid:
        memory["app"].append(rss_mb(app_pid))
    elapsed = time.perf_counter() - started
    wal = db.with_name(db.name + "-wal")
    print(f"write-ahead log while both run: {wal.stat().st_size / 1e6 if wal.exists() else 0:.1f} MB", file=sys.stderr)
    record.send_signal(signal.SIGTERM)
    record.wait(60)
    if tmux:
        subprocess.run([tmux, "-L", f"soak{os.getpid()}", "kill-server"], check=False)
    server.close()
    print(file=sys.stderr)
    report(args, bridge, db, memory, elapsed)


def report(args: argparse.Namespace, bridge: Bridge, db: Path, memory: dict[str, list[float]], elapsed: float) -> None:
    assert bridge.first is not None
    assert bridge.last is not None
    days = (parse_telegram(bridge.last).timestamp - parse_telegram(bridge.first).timestamp).total_seconds() / 86400
    print(f"{bridge.sent:,} telegrams ({days:.1f} days of meter time) in {elapsed:.0f} s, the source dropped "
          f"{bridge.drops} times")  # fmt: skip
    for who, figures in memory.items():
        if len(figures) >= 2:
            print(f"resident memory of {who}: {figures[0]:.1f} MB after {args.drop_every:,} telegrams, "
                  f"{figures[-1]:.1f} MB at the end (growth {figures[-1] - figures[0]:+.1f} MB; target under 5 MB); "
                  f"every {args.drop_every:,}: {' '.join(f'{f:.1f}' for f in figures)}")  # fmt: skip
    connection = sqlite3.connect(db)
    stored = connection.execute(
        "SELECT sum(import_day_wh + import_night_wh), sum(export_day_wh + export_night_wh), sum(gas_l), sum(water_l)"
        " FROM quarter"
    ).fetchone()
    rows, oldest, newest, _ = raw_summary(connection)
    state_time = connection.execute("SELECT time FROM meter_state").fetchone()[0]
    quarters = connection.execute("SELECT count(*) FROM quarter").fetchone()[0]
    connection.close()
    first, last = registers(bridge.first), registers(bridge.last)
    difference = tuple(b - a for a, b in zip(first, last, strict=True))
    same = tuple(stored) == difference
    print(f"stored energy (import, export Wh; gas, water l) {tuple(stored)}; register difference {difference}: "
          f"{'equal' if same else 'NOT EQUAL'}")  # fmt: skip
    last_time = int(parse_telegram(bridge.last).timestamp.timestamp())
    print(f"the last telegram stored: {'yes' if state_time == last_time else 'NO'}; {quarters:,} quarters")
    size = sum(p.stat().st_size for p in db.parent.glob(f"{db.name}*"))
    wal = db.with_name(db.name + "-wal")
    print(f"write-ahead log at the end: {wal.stat().st_size / 1e6 if wal.exists() else 0:.1f} MB")
    print(f"raw telegrams kept: {rows:,}, spanning {(newest - oldest) / 86400:.2f} days (7 days kept; older removed)")
    print(
        f"history file {size / 1e6:.1f} MB after {days:.1f} days: the raw telegrams of the last 7 days are most of "
        f"it and do not grow; the quarters grow by {size_per_year(db):.1f} MB a year"
    )


def size_per_year(db: Path) -> float:
    """The history without its raw telegrams (what grows), per simulated year: a copy with raw_block emptied."""
    copy = db.with_name("no-raw.sqlite")
    source = sqlite3.connect(db)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.execute("DELETE FROM raw_block")
    target.commit()
    target.execute("VACUUM")
    first, last = target.execute("SELECT min(start), max(start) FROM quarter").fetchone()
    target.close()
    days = (last - first) / 86400 or 1
    return copy.stat().st_size / 1e6 * 365 / days


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--telegrams", type=int, default=1_000_000, help="how many (default 1,000,000)")
    parser.add_argument("--rate", type=float, default=3000.0, help="telegrams a second sent (default 3,000)")
    parser.add_argument("--drop-every", type=int, default=100_000, help="drop the source every N telegrams")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="meter-soak-"))
    try:
        asyncio.run(soak(args, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
