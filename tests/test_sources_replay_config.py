"""Replays of capture files, the demo source, and where the settings come from."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import pytest

from meter_tui.cli import build_parser, db_path
from meter_tui.config import ConfigError, load_config, run_dir
from meter_tui.sources import SourceChoice
from meter_tui.sources.demo import DemoSource
from meter_tui.sources.feed import FeedState, MeterFeed, StatusEvent, TelegramEvent
from meter_tui.sources.replay import ReplaySource
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from tests.conftest import TELEGRAMS


async def drain(feed: MeterFeed, limit: int = 10_000) -> list[StatusEvent | TelegramEvent]:
    events = []
    async for event in feed.events():
        events.append(event)
        if (isinstance(event, StatusEvent) and event.state is FeedState.FINISHED) or len(events) >= limit:
            break
    return events


def good_count(events) -> int:
    return sum(1 for e in events if isinstance(e, TelegramEvent) and e.result.telegram is not None)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "minute.p1"
    path.write_bytes(b"noise" + b"".join(SimulatedMeter(2, datetime(2026, 5, 1, tzinfo=BRUSSELS)).run(60)))
    return path


async def test_replay_as_fast_as_possible_gives_every_telegram_and_finishes(capture: Path):
    started = time.monotonic()
    events = await drain(MeterFeed(ReplaySource(capture, speed=None)))
    assert good_count(events) == 60
    assert isinstance(events[-1], StatusEvent) and events[-1].state is FeedState.FINISHED
    assert time.monotonic() - started < 5


async def test_replay_at_n_times_speed_follows_the_meter_clock(capture: Path):
    started = time.monotonic()
    events = await drain(MeterFeed(ReplaySource(capture, speed=100.0)))
    elapsed = time.monotonic() - started
    assert good_count(events) == 60
    assert 0.5 < elapsed < 3.0  # 59 meter seconds at 100x


async def test_replay_loops(capture: Path):
    events = await drain(MeterFeed(ReplaySource(capture, speed=None, loop=True)), limit=300)
    assert good_count(events) > 120


async def test_replay_of_the_real_stream_keeps_its_bytes():
    stream = TELEGRAMS / "streams" / "stream__BE_dsmrhub__example.dsmr_14_consecutive.txt"
    source = ReplaySource(stream, speed=None)
    await source.open()
    pieces = []
    while chunk := await source.read():
        pieces.append(chunk)
    assert b"".join(pieces) == stream.read_bytes()
    assert len(pieces) == 15


async def test_a_missing_capture_is_a_clear_error(tmp_path: Path):
    events = await drain(MeterFeed(ReplaySource(tmp_path / "gone.p1")), limit=3)
    failure = next(e for e in events if isinstance(e, StatusEvent) and e.state is FeedState.RECONNECTING)
    assert "cannot read" in failure.detail and "gone.p1" in failure.detail


async def test_the_demo_meter_sends_one_telegram_per_second_of_its_speed():
    source = DemoSource(seed=3, speed=20.0)
    events = []
    started = time.monotonic()
    async for event in MeterFeed(source).events():
        events.append(event)
        if good_count(events) == 20:
            break
    assert 0.7 < time.monotonic() - started < 3.0
    assert source.description == "demo meter (seed 3) x20"


def test_config_file_environment_and_command_line(tmp_path: Path):
    config = tmp_path / "config.toml"
    env = {"METER_TUI_CONFIG": str(config)}
    assert load_config(env).meter.port == "/dev/ttyUSB0"  # no file: the defaults
    config.write_text(
        '[meter]\nport = "socket://10.0.0.5:23"\nbaudrate = 9600\nsilence_timeout = 4\n[store]\nraw_days = 3\n'
    )
    loaded = load_config(env)
    assert (loaded.meter.port, loaded.meter.baudrate, loaded.meter.silence_timeout) == (
        "socket://10.0.0.5:23",
        9600,
        4.0,
    )
    assert loaded.store.raw_days == 3
    assert loaded.path == config
    assert load_config({**env, "METER_TUI_PORT": "/dev/ttyAMA0"}).meter.port == "/dev/ttyAMA0"
    assert run_dir({"METER_TUI_RUN_DIR": "/x/run"}) == Path("/x/run")
    config.write_text('[mqtt]\nurl = "mqtt://ha@10.0.0.2"\npassword = "pw"\ntopic = "home/p1"\n')
    mqtt = load_config(env).mqtt
    assert (mqtt.url, mqtt.password, mqtt.topic, mqtt.discovery_prefix) == (
        "mqtt://ha@10.0.0.2",
        "pw",
        "home/p1",
        "homeassistant",
    )
    assert "pw" not in repr(mqtt)


def test_the_demo_and_replays_keep_histories_of_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("METER_TUI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("METER_TUI_CONFIG", str(tmp_path / "none.toml"))
    parser = build_parser()
    config = load_config()
    assert db_path(parser.parse_args(["--demo"]), config) == tmp_path / "demo.sqlite"
    assert db_path(parser.parse_args(["serve", "--demo"]), config) == tmp_path / "demo.sqlite"
    assert db_path(parser.parse_args(["--demo", "--seed", "3"]), config) == tmp_path / "demo-seed-3.sqlite"
    assert db_path(parser.parse_args(["--replay", "x.p1"]), config) == tmp_path / "replay.sqlite"
    assert db_path(parser.parse_args([]), config) == tmp_path / "meter.sqlite"
    assert db_path(parser.parse_args(["record", "--demo", "--db", "x.sqlite"]), config) == Path("x.sqlite")
    assert db_path(parser.parse_args(["report"]), config) == tmp_path / "meter.sqlite"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[meter\nport = 1", "not valid TOML"),
        ("[mqtt]\nport = 1883\n", "[mqtt] port: unknown setting"),
        ("[meter]\nport = 5\n", "[meter] port: text in quotes expected (got 5)"),
        ("[meter]\nspeed = 5\n", "[meter] speed: unknown setting"),
        ("[metre]\n", "[metre]: unknown section"),
        ("[meter]\nbaudrate = true\n", "[meter] baudrate: a whole number expected (got true)"),
    ],
)
def test_a_broken_config_file_says_which_file_and_key(tmp_path: Path, text: str, message: str):
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config({"METER_TUI_CONFIG": str(config)})
    assert str(config) in str(caught.value)
    assert message in str(caught.value)


def test_each_source_has_its_own_lock_key(tmp_path: Path):
    meter = load_config({"METER_TUI_CONFIG": str(tmp_path / "none")}).meter
    assert SourceChoice(demo=True).identity(meter) != SourceChoice(demo=True, seed=2).identity(meter)
    assert SourceChoice().identity(meter).key in ("path:/dev/ttyUSB0", "device:188:0")  # plugged in or not
    assert SourceChoice(replay=tmp_path / "a.p1").identity(meter).key.startswith("replay:/")
    assert asyncio.iscoroutinefunction(SourceChoice(demo=True).factory(meter)().open)


async def test_time_spent_on_each_telegram_does_not_slow_a_replay_down(capture: Path):
    """A consumer that spends 6 ms on each piece. At 100x (10 ms a meter second) the replay sleeps only what is
    left, so 59 meter seconds take 0.59 s plus the last piece's work (a pause counted from the previous piece would
    take 0.95 s). At 500x (2 ms) it cannot keep up: it never sleeps and goes as fast as the consumer. A clock of
    its own, moved by the consumer's work and the replay's sleeps, makes this exact."""
    for speed in (100.0, 500.0):
        now, sleeps, pieces = [0.0], [], 0

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)  # noqa: B023 - called during this iteration only
            now[0] += seconds  # noqa: B023

        source = ReplaySource(capture, speed=speed, clock=lambda: now[0], sleep=sleep)  # noqa: B023
        await source.open()
        while await source.read():
            pieces += 1
            now[0] += 0.006  # the app's work on the piece
        if speed == 100.0:
            assert 0.59 < now[0] <= 0.59 + 2 * 0.006 + 1e-9 and all(s < 0.0045 for s in sleeps)
        else:
            assert sleeps == [] and now[0] == pytest.approx(pieces * 0.006)


async def test_a_loop_over_a_capture_of_only_rejected_telegrams_ends_and_says_why(tmp_path: Path):
    capture = tmp_path / "bad.p1"
    capture.write_bytes((TELEGRAMS / "BE_idx68294399590__FLU5_253769484_A__fabricated_INVALIDcrc.txt").read_bytes())
    events = await drain(MeterFeed(ReplaySource(capture, speed=None, loop=True)), limit=100)
    rejected = [e for e in events if isinstance(e, TelegramEvent) and e.result.telegram is None]
    assert len(rejected) == 1  # one pass: each rejection said once, not for ever
    assert events[-1] == StatusEvent(
        FeedState.FINISHED, "replay bad.p1 as fast as possible (loop)",
        "not looped: none of the telegrams in bad.p1 passes its checks", 0, 1,
    )  # fmt: skip


async def test_a_replay_as_fast_as_possible_lets_other_tasks_run(capture: Path):
    """Every piece yields to the event loop: an app's keys and screen go on while a replay runs at full speed."""
    ticks = 0

    async def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    events = await drain(MeterFeed(ReplaySource(capture, speed=None, loop=True)), limit=200)
    task.cancel()
    assert good_count(events) > 120
    assert ticks >= 100
