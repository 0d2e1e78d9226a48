"""One owner of the meter per machine, and followers that get the same telegrams from it.

Only one process can read a serial port, yet people look at the meter from several places at once: a tmux window
over ssh, every browser tab of `meter-tui serve` (each tab is its own process). The first process to start takes
an exclusive lock (flock: the kernel drops it when the process dies, even by SIGKILL, so a stale lock file never
blocks a start), opens the source, and re-serves every good raw telegram on a Unix socket. Every other process
finds the lock taken and reads that socket through the same `MeterFeed`. When the owner goes away, the followers
see the socket close and race for the lock; the winner opens the source and serves the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from meter_tui.config import PidLock
from meter_tui.p1.telegram import Telegram
from meter_tui.sources.base import ByteSource, SourceError
from meter_tui.sources.feed import FeedEvent, FeedState, MeterFeed, StatusEvent, TelegramEvent

MAX_FOLLOWERS = 64  # followers one owner serves: browser tabs and terminals, with room to spare
_FOLLOWER_BUFFER_LIMIT = 256 << 10  # 4 minutes of telegrams; times MAX_FOLLOWERS: 16 MiB at most
_FOLLOWER_SENDS_AT_MOST = 64  # bytes a follower may send (it has nothing to say); more closes its connection
_WELCOME = b"\r\n"  # the owner's first line to a follower: registered, telegrams follow
_FULL = b"full: meter-tui (pid %d) serves %d followers already\r\n"  # the first line to one too many
_WELCOME_SECONDS = 5.0


class Role(StrEnum):
    OWNER = "owner"
    FOLLOWER = "follower"


@dataclass(frozen=True, slots=True)
class RoleEvent:
    """This process became the owner of the meter, or a follower of the owner with this pid."""

    role: Role
    owner_pid: int | None


HubEvent = FeedEvent | RoleEvent


def channel_paths(run_dir: Path, key: str) -> tuple[Path, Path]:
    """The lock and socket for one meter: sources with different keys (two meters, a demo) never share them."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]  # a file name, not security
    return run_dir / f"meter-{digest}.lock", run_dir / f"meter-{digest}.sock"


class Broadcaster:
    """The owner's Unix socket: every good raw telegram goes to every connected follower.

    Its resources are bounded whatever connects: followers send nothing, so a connection that sends more than a few
    bytes is closed (nothing it sends is kept); at most `max_followers` are served, the others are told so and
    closed at once (so that a flood of connections never exhausts the owner's file descriptors); a follower that
    does not keep up is dropped once `_FOLLOWER_BUFFER_LIMIT` bytes wait for it."""

    def __init__(self, path: Path, *, max_followers: int = MAX_FOLLOWERS) -> None:
        self.path = path
        self.max_followers = max_followers
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # We hold the lock, so a socket file left here is a crashed owner's: remove it.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._accept, path=str(self.path), limit=_FOLLOWER_SENDS_AT_MOST)
        self.path.chmod(0o600)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        if len(self._clients) >= self.max_followers:
            writer.write(_FULL % (os.getpid(), self.max_followers))
            writer.close()
            return
        self._clients.add(writer)
        # Say that this follower is registered: until it reads this, it does not call itself connected, so no
        # telegram published after a follower says "waiting for data" can miss it.
        writer.write(_WELCOME)
        try:
            # Followers send nothing; EOF means they left. Anything sent is read in small pieces and forgotten, and
            # more than a few bytes closes the connection: what a stranger writes never piles up in memory.
            sent = 0
            while chunk := await reader.read(_FOLLOWER_SENDS_AT_MOST):
                sent += len(chunk)
                if sent > _FOLLOWER_SENDS_AT_MOST:
                    break
        except OSError:
            pass  # a follower that vanished mid-read is gone all the same
        finally:
            self._clients.discard(writer)
            writer.close()

    def publish(self, raw: bytes) -> None:
        for writer in list(self._clients):
            transport = writer.transport
            if transport.is_closing() or transport.get_write_buffer_size() > _FOLLOWER_BUFFER_LIMIT:
                self._clients.discard(writer)  # a follower that does not keep up is dropped, not waited for
                writer.close()
                continue
            writer.write(raw + b"\r\n")

    async def stop(self) -> None:
        for writer in list(self._clients):
            writer.close()
        self._clients.clear()
        if self._handlers:
            # Closed connections end their handlers with EOF; let them finish rather than be cancelled at exit.
            await asyncio.wait(self._handlers, timeout=1.0)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class FollowerSource(ByteSource):
    """The owner's socket as a byte source."""

    def __init__(self, path: Path, owner: str) -> None:
        self.path = path
        self.description = owner
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.refused = False  # the owner serves as many followers as it may: try again later, not at once

    async def open(self) -> None:
        self.refused = False
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(str(self.path))
            async with asyncio.timeout(_WELCOME_SECONDS):
                welcome = await self._reader.readline()
        except OSError as error:
            await self.close()
            raise SourceError(f"cannot reach the owner of the meter: {error.strerror}") from error
        except (TimeoutError, ValueError) as error:  # ValueError: a first line beyond the stream's limit
            await self.close()
            raise SourceError("the owner of the meter did not answer") from error
        if welcome != _WELCOME:
            await self.close()
            if not welcome:
                raise SourceError("the owner of the meter did not answer")
            if welcome.startswith(_FULL[:5]):
                self.refused = True
                raise SourceError(f"refused by the owner of the meter: {welcome.decode(errors='replace').strip()}")
            raise SourceError("the owner of the meter did not answer as meter-tui does")

    async def read(self) -> bytes:
        if self._reader is None:
            raise SourceError("not connected to the owner")
        try:
            data = await self._reader.read(65536)
        except OSError as error:
            raise SourceError(f"the owner of the meter went away: {error.strerror}") from error
        if not data:
            raise SourceError("the owner of the meter went away")
        return data

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class SharedMeter:
    """The meter as every meter-tui process sees it: owned here, or followed from the process that owns it."""

    def __init__(
        self,
        make_source: Callable[[], ByteSource],
        *,
        key: str,
        run_dir: Path,
        silence_timeout: float = 10.0,
        takeover_pause: float = 0.2,
        refused_pause: float = 5.0,
    ) -> None:
        self.make_source = make_source
        self.lock_path, self.socket_path = channel_paths(run_dir, key)
        self._lock = PidLock(self.lock_path)
        self._silence_timeout = silence_timeout
        self._takeover_pause = takeover_pause
        self._refused_pause = refused_pause
        self._pause = takeover_pause
        self._said: tuple[Role, int | None] | None = None
        self.role: Role | None = None
        self.broadcaster: Broadcaster | None = None
        self.last_telegram: Telegram | None = None  # what a source that takes over may go on from (the demo)
        self.note = ""  # what the user should know of how this meter is told apart from others (an unresolved host)

    def claim(self) -> bool:
        """Take the meter now if nobody owns it, so that this process prepares what its owner needs before
        `events` starts (which then owns it). False: another process owns it, and this one will follow."""
        return self._lock.try_acquire()

    async def events(self) -> AsyncIterator[HubEvent]:
        try:
            while True:
                if self._lock.try_acquire():
                    async for event in self._own():
                        yield event
                    return
                async for event in self._follow():
                    yield event
                await asyncio.sleep(self._pause)
        finally:
            if self.broadcaster is not None:
                await self.broadcaster.stop()
            self._lock.release()

    async def _own(self) -> AsyncIterator[HubEvent]:
        self.role = Role.OWNER
        self._said = (Role.OWNER, os.getpid())
        self.broadcaster = Broadcaster(self.socket_path)
        await self.broadcaster.start()
        yield RoleEvent(Role.OWNER, os.getpid())
        feed = MeterFeed(self.make_source(), silence_timeout=self._silence_timeout)
        async for event in feed.events():
            if isinstance(event, TelegramEvent) and event.result.telegram is not None:
                self.broadcaster.publish(event.result.raw)
            yield event

    async def _follow(self) -> AsyncIterator[HubEvent]:
        """One connection to the owner; returns when it ends so that the caller can try to take over."""
        self.role = Role.FOLLOWER
        owner = self._lock.owner_pid()
        if self._said != (Role.FOLLOWER, owner):  # said once per owner, not again on every retry
            self._said = (Role.FOLLOWER, owner)
            yield RoleEvent(Role.FOLLOWER, owner)
        description = f"following meter-tui (pid {owner})" if owner else "following meter-tui"
        source = FollowerSource(self.socket_path, description)
        feed = MeterFeed(source, silence_timeout=self._silence_timeout)
        async for event in feed.session():
            if isinstance(event, StatusEvent) and event.state is FeedState.CONNECTING:
                continue
            if isinstance(event, TelegramEvent) and event.result.telegram is not None:
                self.last_telegram = event.result.telegram
            yield event
        self._pause = self._refused_pause if source.refused else self._takeover_pause
        yield replace(feed.status(FeedState.RECONNECTING, feed.last_error), retry_in=self._pause)
