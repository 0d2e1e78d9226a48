"""The MQTT connection: publishes the latest values at most once a second, keeps Home Assistant's discovery
configs in place, and reconnects by itself. Runs as a task beside the app or `record`; `offer` never waits.

aiomqtt is imported here only: it is the optional `mqtt` extra, and nothing else in meter-tui needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from meter_tui.config import ConfigError
from meter_tui.mqtt.payload import discovery, meter_id, state
from meter_tui.mqtt.settings import MqttSettings
from meter_tui.p1.quantities import LiveValues

MIN_INTERVAL = 1.0
RETRY_FIRST, RETRY_MAX = 1.0, 30.0
ONLINE, OFFLINE = "online", "offline"


class MqttUnavailable(ConfigError):
    """The `mqtt` extra is not installed."""


class MqttPublisher:
    """Latest values in, retained MQTT messages out.

    Only the newest values are kept: while the broker is away nothing queues up, and on reconnect the discovery
    configs and the current state are sent again (a broker restarted without persistence has forgotten them).

    Availability (`<topic>/status`) follows the meter, not this process alone: `offline` until the first values and
    from `meter_lost()` on (the source silent, unplugged, ended), `online` again with the next values; so Home
    Assistant never shows a stale power as the current one. The broker's last will says `offline` if this process
    dies.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        log: Callable[[str], None] = lambda _: None,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        try:
            import aiomqtt  # noqa: F401, PLC0415 - fail at start, with the fix, not at the first telegram
        except ImportError as error:
            raise MqttUnavailable("--mqtt needs the mqtt extra: pip install 'meter-tui[mqtt]'") from error
        self.settings = settings
        self.log = log
        self.min_interval = min_interval
        self.published = 0
        self.status = "connecting"
        self._latest: LiveValues | None = None
        self._fresh = asyncio.Event()
        self.meter_available = False  # whether telegrams arrive: what `<topic>/status` says
        self._availability_changed = asyncio.Event()
        # What the discovery configs now on the broker describe: the meter and the keys of its state.
        self._announced: tuple[str, frozenset[str]] | None = None
        self.connected = False

    def offer(self, values: LiveValues) -> None:
        """Keep these values for the next publication; returns at once."""
        self._latest = values
        self._fresh.set()
        self._set_available(True)

    def meter_lost(self) -> None:
        """The meter stopped sending (silent, unplugged, the source ended): say `offline` until values come again.
        Returns at once."""
        self._set_available(False)

    def _set_available(self, available: bool) -> None:
        if available != self.meter_available:
            self.meter_available = available
            self._availability_changed.set()

    async def run(self) -> None:
        """Forever: connect, publish, and on any broker trouble wait and connect again."""
        import aiomqtt  # noqa: PLC0415

        delay = RETRY_FIRST
        while True:
            try:
                await self._session(aiomqtt)
            except* aiomqtt.MqttError as group:
                if self.connected:  # it was up until now: the first retry comes soon
                    delay = RETRY_FIRST
                self.connected = False
                # aiomqtt's messages name the host at most; the URL with its password is never formatted here.
                self.status = f"broker unreachable ({group.exceptions[0]}); retry in {delay:g} s"
                self.log(f"MQTT {self.settings.shown}: {self.status}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _session(self, aiomqtt: Any) -> None:
        settings = self.settings
        client = aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            will=aiomqtt.Will(settings.availability_topic, OFFLINE, qos=1, retain=True),
            tls_params=aiomqtt.TLSParameters() if settings.tls else None,
            timeout=10,
        )
        async with client:
            self.connected = True
            self.status = "connected"
            self.log(f"MQTT {settings.shown}: connected, publishing to {settings.state_topic}")
            self._availability_changed.set()  # the broker may have forgotten it: said again on each connection
            # Home Assistant says `online` on its status topic when it starts: it then wants the configs again.
            await client.subscribe(f"{settings.discovery_prefix}/status")
            self._announced = None
            if self._latest is not None:
                self._fresh.set()
            # Either task ending on a lost connection ends the other: a broker that goes away is noticed at once,
            # even while no telegram arrives.
            try:
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(self._listen(client))
                    tasks.create_task(self._publish_loop(client))
                    tasks.create_task(self._availability_loop(client))
            except asyncio.CancelledError:
                # Stopping cleanly: a clean disconnect sends no last will, so say `offline` here.
                # The broker may be the reason for stopping: whatever happens here, the cancellation goes on.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.publish(settings.availability_topic, OFFLINE, qos=1, retain=True), 2)
                raise

    async def _listen(self, client: Any) -> None:
        async for message in client.messages:
            if message.payload == ONLINE.encode() and self._latest is not None:
                self._announced = None
                self._fresh.set()

    async def _availability_loop(self, client: Any) -> None:
        """`online` or `offline` as the meter comes and goes, the latest word only."""
        while True:
            await self._availability_changed.wait()
            self._availability_changed.clear()
            said = ONLINE if self.meter_available else OFFLINE
            await client.publish(self.settings.availability_topic, said, qos=1, retain=True)

    async def _publish_loop(self, client: Any) -> None:
        last = 0.0
        while True:
            await self._fresh.wait()
            wait = last + self.min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._fresh.clear()
            values = self._latest
            assert values is not None
            payload = state(values)
            # The configs are built and sent only when they would say something new: once per connection, and
            # when the meter starts or stops sending a value (a gas meter added, costs known).
            announced = (meter_id(values.telegram), frozenset(payload))
            if announced != self._announced:
                for topic, config in discovery(self.settings, values).items():
                    await client.publish(topic, json.dumps(config), qos=1, retain=True)
                self._announced = announced
            await client.publish(self.settings.state_topic, json.dumps(payload), qos=1, retain=True)
            last = time.monotonic()
            self.published += 1
            self.status = f"connected, {self.published} published"
