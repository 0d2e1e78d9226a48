"""A MeterApp on fixed data for the UI tests: four days of simulated history in a real SQLite file, then two
minutes of live one-second telegrams, a fixed clock and a fixed theme, so every frame is the same every run."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from meter_tui.mqtt.publisher import MqttPublisher
from meter_tui.p1 import parse_telegram
from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.reader import ReadResult
from meter_tui.services.session import Session
from meter_tui.sources.feed import FeedState, StatusEvent, TelegramEvent
from meter_tui.sources.hub import HubEvent, Role, RoleEvent
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.store.database import open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.ui.app import MeterApp, create_app
from meter_tui.ui.screens.base import MeterScreen

HISTORY_START = datetime(2026, 3, 19, tzinfo=BRUSSELS)  # Thursday
LIVE_START = datetime(2026, 3, 23, 19, 36, tzinfo=BRUSSELS)  # Monday evening, inside the 19:30 quarter
LIVE_SECONDS = 120
SOURCE = "demo meter (seed 1)"


@dataclass(frozen=True)
class Fixture:
    db: Path
    live: tuple[bytes, ...]


def build_fixture(folder: Path) -> Fixture:
    meter = SimulatedMeter(1, HISTORY_START)
    db = folder / "history.sqlite"
    connection = open_database(db)
    ingest = Ingestor(connection, keep_raw=False)
    history_seconds = int((LIVE_START - HISTORY_START).total_seconds())
    for raw in meter.run(history_seconds, every=60):
        ingest.add(parse_telegram(raw))
    ingest.flush()
    connection.close()
    return Fixture(db, tuple(meter.run(LIVE_SECONDS)))


def make_app(
    fixture: Fixture, folder: Path, *, events: list[HubEvent] | None = None, publisher: MqttPublisher | None = None
) -> MeterApp:
    """The app as the command line builds it, on a copy of the fixture's history and its own rates.json."""
    db = folder / "meter.sqlite"
    shutil.copy(fixture.db, db)
    session = Session(db, folder / "rates.json")
    base = LIVE_START.timestamp()
    if events is None:
        events = live_events(fixture.live, base)

    async def source() -> AsyncIterator[HubEvent]:
        await first_screen_mounted(app)
        for event in events:
            yield event

    app = create_app(session, source, clock=lambda: base + LIVE_SECONDS, theme="textual-dark", publisher=publisher)
    return app


async def first_screen_mounted(app: MeterApp) -> None:
    """Until the first meter screen watches the app: it then sees every telegram as it comes, as at one a second.
    Without this, a busy machine may mount it after some of the burst, and its ten-minute chart (redrawn every five
    seconds of meter time) would show other data than in a run where it saw them all."""
    while not (isinstance(app.screen, MeterScreen) and app.screen.is_mounted):
        await asyncio.sleep(0.01)


def live_events(live: tuple[bytes, ...], base: float) -> list[HubEvent]:
    events: list[HubEvent] = [
        RoleEvent(Role.OWNER, 4242),
        StatusEvent(FeedState.WAITING, SOURCE),
        StatusEvent(FeedState.CONNECTED, SOURCE, good=1),
    ]
    offset = 0
    for index, raw in enumerate(live):
        telegram = parse_telegram(raw)
        events.append(TelegramEvent(ReadResult(offset, raw.rstrip(b"\r\n"), telegram=telegram), base + index + 1))
        offset += len(raw)
    return events


async def settle(pilot, telegrams: int = LIVE_SECONDS) -> None:
    """Wait until every telegram is through and every screen worker is done (the MQTT publisher runs for ever)."""
    app: MeterApp = pilot.app
    for _ in range(400):
        if app.good >= telegrams:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)
    if busy := [worker for worker in app.workers if worker.group != "mqtt"]:
        await app.workers.wait_for_complete(busy)  # an empty list would mean all of them
    await pilot.pause(0.1)


async def open_screen(pilot, key: str) -> None:
    """Every telegram through, then the screen of `key`, its views drawn."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


def over_the_peak(live: tuple[bytes, ...], count: int = 20) -> tuple[bytes, ...]:
    """The fixture's live telegrams with the last `count` drawing 14 kW, their quarter already at 11.5 kW: above
    the month peak (9.972 kW), as when the car charger starts during cooking. The CRC is made anew."""
    changed = []
    for raw in live[-count:]:
        text = re.sub(rb"1-0:1\.4\.0\([0-9.]+\*kW\)", b"1-0:1.4.0(11.500*kW)", raw)
        text = re.sub(rb"1-0:1\.7\.0\([0-9.]+\*kW\)", b"1-0:1.7.0(14.000*kW)", text)
        body = text[: text.index(b"\n!") + 2]
        changed.append(body + b"%04X\r\n" % crc16_arc(body))
    return (*live[:-count], *changed)
