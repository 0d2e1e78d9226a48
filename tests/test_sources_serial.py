"""The serial source and the feed against real pseudo-terminals and a real TCP server: chunking, garbage, bad
CRCs, a device that vanishes mid-telegram and comes back, a device that never sends, a bridge that drops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from meter_tui.sources.feed import FeedEvent, FeedState, MeterFeed, StatusEvent, TelegramEvent
from meter_tui.sources.serial import SerialSource, stable_name
from meter_tui.sources.simulator import SimulatedMeter

TIMEOUT = 20


class Pty:
    """A pseudo-terminal standing in for the P1 cable, reachable through a stable symlink like /dev/serial/by-id."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master, self.slave = os.openpty()
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(os.ttyname(self.slave))

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        self.link.unlink()


def telegrams(count: int, seed: int = 5) -> list[bytes]:
    return SimulatedMeter(seed).run(count)


async def collect(events: AsyncIterator[FeedEvent], until, timeout: float = TIMEOUT) -> list[FeedEvent]:
    seen: list[FeedEvent] = []

    async def run() -> None:
        async for event in events:
            seen.append(event)
            if until(seen):
                return

    await asyncio.wait_for(run(), timeout)
    return seen


def good(events: list[FeedEvent]) -> list[bytes]:
    return [e.result.raw for e in events if isinstance(e, TelegramEvent) and e.result.telegram is not None]


def states(events: list[FeedEvent]) -> list[FeedState]:
    return [e.state for e in events if isinstance(e, StatusEvent)]


async def test_random_chunks_with_garbage_and_bad_crcs_between_them(tmp_path: Path):
    pty = Pty(tmp_path / "ttyP1")
    sent = telegrams(12)
    rng = random.Random(7)
    stream = b""
    for index, telegram in enumerate(sent):
        stream += bytes(rng.randrange(256) for _ in range(rng.randrange(40)))  # line noise
        if index % 3 == 1:
            damaged = bytearray(telegram)
            damaged[200] ^= 0x04
            stream += bytes(damaged)  # a telegram damaged on the way: its CRC no longer matches
        stream += telegram
    feed = MeterFeed(SerialSource(str(pty.link)), silence_timeout=5)
    events = feed.events()

    async def writer() -> None:
        await asyncio.sleep(0.2)
        position = 0
        while position < len(stream):
            size = rng.choice((1, 5, 64, 333, 1500))
            # In a thread: a full pty buffer blocks the write until the port is read, on this very event loop.
            await asyncio.to_thread(pty.write, stream[position : position + size])
            position += size

    writing = asyncio.create_task(writer())
    seen = await collect(events, lambda s: len(good(s)) == len(sent))
    await writing
    await events.aclose()
    assert good(seen) == [t.rstrip(b"\r\n") for t in sent]
    assert feed.reader.rejected >= 4  # the four damaged telegrams, at least
    assert states(seen)[:3] == [FeedState.CONNECTING, FeedState.WAITING, FeedState.CONNECTED]
    pty.unplug()


async def test_device_unplugged_mid_telegram_and_plugged_back(tmp_path: Path):
    link = tmp_path / "ttyUSB0"
    pty = Pty(link)
    first, second, third = telegrams(3)
    feed = MeterFeed(SerialSource(str(link)), silence_timeout=5, min_backoff=0.1, max_backoff=0.4)
    events = feed.events()
    seen = await collect(events, lambda s: FeedState.WAITING in states(s))  # the port is open (and flushed)
    pty.write(first)
    seen += await collect(events, lambda s: len(good(s)) == 1)
    pty.write(second[:300])  # half a telegram, then the cable is pulled
    await asyncio.sleep(0.3)
    pty.unplug()
    seen += await collect(events, lambda s: FeedState.RECONNECTING in states(s))
    reconnecting = next(e for e in seen if isinstance(e, StatusEvent) and e.state is FeedState.RECONNECTING)
    assert reconnecting.detail
    assert reconnecting.retry_in is not None
    assert any(isinstance(e, TelegramEvent) and e.result.error is not None for e in seen)  # the half telegram
    await asyncio.sleep(0.5)
    replugged = Pty(link)  # a new device node, the same stable name
    seen += await collect(events, lambda s: FeedState.WAITING in states(s))
    replugged.write(third)
    seen += await collect(events, lambda s: len(good(s)) == 1)
    await events.aclose()
    assert good(seen) == [first.rstrip(b"\r\n"), third.rstrip(b"\r\n")]
    replugged.unplug()


async def test_a_device_that_never_sends_is_reported_and_reopened(tmp_path: Path):
    pty = Pty(tmp_path / "silent")
    feed = MeterFeed(SerialSource(str(pty.link)), silence_timeout=0.5, min_backoff=0.1)
    seen = await collect(feed.events(), lambda s: states(s).count(FeedState.RECONNECTING) >= 2)
    waits = [e for e in seen if isinstance(e, StatusEvent) and e.state is FeedState.RECONNECTING]
    assert all(e.detail == "no data for 0.5 s" for e in waits)
    assert FeedState.CONNECTED not in states(seen)
    pty.unplug()


async def test_a_missing_device_is_retried_with_growing_pauses(tmp_path: Path):
    feed = MeterFeed(SerialSource(str(tmp_path / "nothing")), min_backoff=0.05, max_backoff=0.2)
    seen = await collect(feed.events(), lambda s: states(s).count(FeedState.RECONNECTING) >= 4)
    waits = [e.retry_in for e in seen if isinstance(e, StatusEvent) and e.state is FeedState.RECONNECTING]
    assert waits == [0.1, 0.2, 0.2, 0.2]
    first = next(e for e in seen if isinstance(e, StatusEvent) and e.state is FeedState.RECONNECTING)
    assert "cannot open" in first.detail and "nothing" in first.detail


class Bridge:
    """A network P1 reader (ser2net, an ESP dongle) on loopback that the test can drop and bring back."""

    def __init__(self) -> None:
        self.clients: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self.connected = asyncio.Event()

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.append(writer)
        self.connected.set()

    async def send(self, data: bytes) -> None:
        for writer in self.clients:
            writer.write(data)
            await writer.drain()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.clients:
            writer.close()
        self.clients.clear()
        self.connected.clear()
        await self.server.wait_closed()


async def test_network_reader_drops_the_connection_and_comes_back():
    bridge = Bridge()
    await bridge.start()
    first, second = telegrams(2, seed=9)
    feed = MeterFeed(SerialSource(f"socket://127.0.0.1:{bridge.port}"), min_backoff=0.1, max_backoff=0.3)
    events = feed.events()
    collecting = asyncio.create_task(collect(events, lambda s: len(good(s)) == 1))
    await asyncio.wait_for(bridge.connected.wait(), TIMEOUT)
    await bridge.send(first)
    seen = await collecting
    port = bridge.port
    await bridge.stop()
    seen += await collect(events, lambda s: FeedState.RECONNECTING in states(s))
    await asyncio.sleep(0.3)  # a few refused connections while the bridge is down
    await bridge.start(port)
    collecting = asyncio.create_task(collect(events, lambda s: len(good(s)) == 1))
    await asyncio.wait_for(bridge.connected.wait(), TIMEOUT)
    await bridge.send(second)
    seen += await collecting
    await events.aclose()
    await bridge.stop()
    assert good(seen) == [first.rstrip(b"\r\n"), second.rstrip(b"\r\n")]
    assert feed.source.description == f"socket://127.0.0.1:{port}"


def test_serial_settings_are_checked():
    with pytest.raises(ValueError, match="parity"):
        SerialSource("/dev/ttyUSB0", parity="X")
    assert SerialSource("/dev/ttyUSB0").description == "/dev/ttyUSB0 115200 8N1"


def test_a_port_is_named_by_its_stable_by_id_link(tmp_path: Path):
    """An adapter put back in another USB socket may come back as another ttyUSBn; its by-id name stays."""
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    pty = Pty(tmp_path / "ttyUSB1")
    device = os.path.realpath(pty.link)
    (by_id / "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0").symlink_to(device)
    (by_id / "usb-other-if00").symlink_to("/dev/null")
    expected = str(by_id / "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0")
    assert stable_name(str(pty.link), by_id) == expected
    assert stable_name(device, by_id) == expected
    assert stable_name(expected, by_id) == expected
    assert stable_name(str(tmp_path / "ttyUSB9"), by_id) is None
    assert stable_name("socket://192.0.2.1:23", by_id) is None
    pty.unplug()
