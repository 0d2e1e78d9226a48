"""MQTT: the settings, the payloads, and the real thing: `meter-tui record --mqtt` and the app against a real
mosquitto on loopback, which the tests start, stop and start again (Debian's mosquitto; .ci/run installs it)."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiomqtt
import pytest

from meter_tui.config import ConfigError
from meter_tui.mqtt.payload import SENSORS, discovery, meter_id, state
from meter_tui.mqtt.publisher import MqttPublisher
from meter_tui.mqtt.settings import MqttSettingsError, parse_mqtt_url
from meter_tui.p1 import parse_telegram
from meter_tui.p1.quantities import LiveValues
from meter_tui.services.session import Session
from meter_tui.sources.feed import FeedState, StatusEvent
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.ui.messages import MeterStatus
from tests.conftest import free_port, require_program, telegram_bytes
from tests.meter_app import build_fixture, make_app, settle
from tests.test_one_owner import TcpMeter

USER, PASSWORD = "meter", "s3cret pw!"
URL_PASSWORD = "s3cret%20pw%21"


# -- settings -------------------------------------------------------------------------------------------------------
def test_broker_urls():
    settings = parse_mqtt_url(f"mqtt://{USER}:{URL_PASSWORD}@broker.local", env={})
    assert (settings.host, settings.port, settings.username, settings.password) == (
        "broker.local",
        1883,
        USER,
        PASSWORD,
    )
    assert settings.shown == "mqtt://meter:***@broker.local:1883"
    assert PASSWORD not in repr(settings)
    tls = parse_mqtt_url("mqtts://ha.example:8884", topic="home/p1", env={})
    assert (tls.tls, tls.port, tls.state_topic, tls.availability_topic) == (
        True,
        8884,
        "home/p1/state",
        "home/p1/status",
    )
    assert parse_mqtt_url("mqtts://ha.example", env={}).port == 8883
    # A password kept apart (config file or environment) wins, so that it need not be on the command line.
    assert parse_mqtt_url("mqtt://meter@h", env={"METER_TUI_MQTT_PASSWORD": "from-env"}).password == "from-env"
    assert parse_mqtt_url("mqtt://meter:url@h", password="from-file", env={}).password == "from-file"


@pytest.mark.parametrize(
    ("url", "topic", "message"),
    [
        (f"http://{USER}:{URL_PASSWORD}@h:1883", "meter-tui", "must start with mqtt:// or mqtts://"),
        (f"mqtt://{USER}:{URL_PASSWORD}@h:port", "meter-tui", "Port could not be cast"),
        (f"mqtt://{USER}:{URL_PASSWORD}@:1883", "meter-tui", "no host"),
        ("mqtt://h", "meter/#", "a topic without #"),
        ("mqtt://h", "/meter", "leading or trailing /"),
    ],
)
def test_a_bad_broker_setting_says_what_and_never_shows_the_password(url: str, topic: str, message: str):
    with pytest.raises(MqttSettingsError, match="MQTT") as caught:
        parse_mqtt_url(url, topic=topic, env={})
    assert message in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert isinstance(caught.value, ConfigError)  # the command line reports it as it reports any setting


# -- payloads ------------------------------------------------------------------------------------------------------
def test_the_state_carries_the_meters_own_values():
    telegram = parse_telegram(telegram_bytes("BE_dsmr_parser__FLUVIUS_V171__FLU5_253769484_A__gas_water.txt"))
    values = state(LiveValues(telegram, cost_per_hour_eur=0.123456, cost_today_eur=3.14159))
    assert values["import_day_kwh"] == telegram.import_day_kwh
    assert values["export_night_kwh"] == telegram.export_night_kwh
    assert values["power_import_kw"] == telegram.power_import_kw
    assert values["quarter_average_kw"] == telegram.quarter_average_kw
    assert values["month_peak_kw"] == telegram.month_peak.kw == 2.589
    assert values["month_peak_time"] == "2020-05-09T13:45:58+02:00"
    assert values["tariff"] == telegram.tariff.value
    assert [values[f"l{p.phase}_voltage_v"] for p in telegram.phases] == [p.voltage_v for p in telegram.phases]
    assert values["gas_m3"] == telegram.gas.reading.value
    assert values["water_m3"] == telegram.water.reading.value
    assert values["time"] == telegram.timestamp.isoformat()
    assert (values["cost_per_hour_eur"], values["cost_today_eur"]) == (0.1235, 3.14)
    json.dumps(values)


def test_discovery_has_one_sensor_per_value_the_meter_sends_fit_for_the_energy_dashboard():
    settings = parse_mqtt_url("mqtt://h", env={})
    three = parse_telegram(telegram_bytes("BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt"))
    configs = discovery(settings, LiveValues(three, 0.1, 1.0))
    node = f"meter_tui_{meter_id(three)}"
    energy = configs[f"homeassistant/sensor/{node}/import_day_kwh/config"]
    assert (energy["device_class"], energy["state_class"], energy["unit_of_measurement"]) == (
        "energy", "total_increasing", "kWh",
    )  # fmt: skip
    gas = configs[f"homeassistant/sensor/{node}/gas_m3/config"]
    assert (gas["device_class"], gas["state_class"], gas["unit_of_measurement"]) == ("gas", "total_increasing", "m³")
    cost = configs[f"homeassistant/sensor/{node}/cost_today_eur/config"]
    assert (cost["device_class"], cost["state_class"], cost["unit_of_measurement"]) == ("monetary", "total", "EUR")
    power = configs[f"homeassistant/sensor/{node}/l3_import_kw/config"]
    assert (power["device_class"], power["unit_of_measurement"]) == ("power", "kW")
    assert power["state_topic"] == "meter-tui/state" and power["availability_topic"] == "meter-tui/status"
    assert power["value_template"] == "{{ value_json.l3_import_kw }}"
    assert power["device"]["identifiers"] == [node] and power["device"]["serial_number"] == three.equipment_id
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)

    # A single-phase meter with gas and no water: no water sensor, no L2/L3; no costs when none were computed.
    one = parse_telegram(telegram_bytes("BE_domoticz__FLU5_253770234_A_50213__1ph_gas.txt"))
    keys = {topic.split("/")[3] for topic in discovery(settings, LiveValues(one))}
    assert {"gas_m3", "l1_voltage_v", "import_day_kwh", "tariff"} <= keys <= set(SENSORS)
    assert not keys & {"water_m3", "l2_voltage_v", "l3_import_kw", "cost_today_eur"}


# -- a real broker ---------------------------------------------------------------------------------------------------
def _program(name: str) -> str:
    return require_program(name, "mosquitto", "MQTT publishing is tested against a real broker")


@dataclass
class Broker:
    """mosquitto on a loopback port, with a password, no persistence: a restart forgets every retained message."""

    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.port = free_port()
        passwords = self.folder / "passwords"
        subprocess.run([_program("mosquitto_passwd"), "-c", "-b", str(passwords), USER, PASSWORD], check=True)
        passwords.chmod(0o600)
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        (self.folder / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\nuser {user}\n"
        )

    def start(self) -> None:
        log = (self.folder / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [_program("mosquitto"), "-c", str(self.folder / "mosquitto.conf")], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, (self.folder / "mosquitto.log").read_text()
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    @property
    def url(self) -> str:
        return f"mqtt://{USER}:{URL_PASSWORD}@127.0.0.1:{self.port}"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    folder = tmp_path / "broker"
    folder.mkdir()
    running = Broker(folder)
    running.start()
    yield running
    running.stop()


@dataclass
class Heard:
    at: float
    topic: str
    payload: str
    retained: bool


@dataclass
class Subscriber:
    """Everything on the broker, in order; comes back by itself when the broker does."""

    port: int
    heard: list[Heard] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.port, username=USER, password=PASSWORD) as client:
                    await client.subscribe("#")
                    async for message in client.messages:
                        payload = (
                            message.payload.decode() if isinstance(message.payload, bytes) else str(message.payload)
                        )
                        self.heard.append(Heard(time.monotonic(), str(message.topic), payload, message.retain))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)

    def states(self, since: float = 0.0) -> list[tuple[float, dict]]:
        return [(h.at, json.loads(h.payload)) for h in self.heard if h.topic == "meter-tui/state" and h.at >= since]

    def configs(self, since: float = 0.0) -> dict[str, dict]:
        return {h.topic: json.loads(h.payload) for h in self.heard if h.topic.endswith("/config") and h.at >= since}

    async def until(self, condition, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"not heard in {seconds} s: {[h.topic for h in self.heard[-5:]]}"
            await asyncio.sleep(0.05)


async def retained(port: int, seconds: float = 1.0) -> dict[str, str]:
    """What a subscriber arriving now gets at once: the retained messages."""
    heard: dict[str, str] = {}
    async with aiomqtt.Client("127.0.0.1", port, username=USER, password=PASSWORD) as client:
        await client.subscribe("#")
        try:
            async with asyncio.timeout(seconds):
                async for message in client.messages:
                    if message.retain:
                        heard[str(message.topic)] = message.payload.decode()  # type: ignore[union-attr]
        except TimeoutError:
            pass
    return heard


CAPACITY_KEYS = {"forecast_kw", "headroom_kw", "month_peak_so_far_kw", "new_peak_likely", "forecast_cost_eur"}


def without_costs(values: dict) -> dict:
    """The meter's own values: what the session computes (costs, the capacity tariff's quarter) left out."""
    return {key: value for key, value in values.items() if not key.startswith("cost_") and key not in CAPACITY_KEYS}


async def test_record_publishes_at_most_once_a_second_and_comes_back_with_the_broker(broker: Broker, tmp_path: Path):
    meter = SimulatedMeter(7, datetime(2026, 6, 1, 12, 0, tzinfo=BRUSSELS))
    sent = meter.run(40)
    capture = tmp_path / "capture.p1"
    capture.write_bytes(b"".join(sent))
    by_time = {(t := parse_telegram(raw)).timestamp.isoformat(): t for raw in sent}
    listener = Subscriber(broker.port)
    listening = asyncio.create_task(listener.run())
    log = tmp_path / "record.log"
    env = {
        "METER_TUI_DATA_DIR": str(tmp_path / "data"),
        "METER_TUI_RUN_DIR": str(tmp_path / "run"),
        "PATH": "/usr/bin:/bin",
    }
    # Four telegrams a second (a replay at 4x), so that the once-a-second limit shows.
    record = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "record", "--replay", str(capture), "--speed", "4", "--loop",
         "--db", str(tmp_path / "m.sqlite"), "--rates", str(tmp_path / "rates.json"), "--mqtt", broker.url],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        await listener.until(lambda: len(listener.states()) >= 6)
        states = listener.states()
        # The publisher waits a full second between two states; the margin is for a busy machine's delivery.
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(states)]
        assert min(gaps) > 0.5 and sum(gaps) / len(gaps) > 0.9, gaps
        # Four telegrams a second went in, so meter time moves about 4 s between two states (less after a
        # --loop wrap-around, which goes back 40 s): the ones in between were not published.
        moves = [
            (datetime.fromisoformat(b["time"]) - datetime.fromisoformat(a["time"])).total_seconds()
            for (_, a), (_, b) in itertools.pairwise(states)
        ]
        assert all(move >= 2 for move in moves if move > 0), moves
        for _, values in states:
            telegram = by_time[values["time"]]
            assert without_costs(values) == without_costs(state(LiveValues(telegram)))
            prices = Session(None, tmp_path / "rates.json")  # the same rates.json: the example prices
            prices.add(telegram)
            assert values["cost_per_hour_eur"] == pytest.approx(prices.cost_per_hour(), abs=1e-4)
            assert "cost_today_eur" in values
        configs = listener.configs()
        node = f"meter_tui_{meter_id(by_time[states[0][1]['time']])}"
        assert configs[f"homeassistant/sensor/{node}/import_night_kwh/config"]["state_class"] == "total_increasing"
        assert configs[f"homeassistant/sensor/{node}/gas_m3/config"]["device_class"] == "gas"

        broker.stop()
        await asyncio.sleep(2)
        broker.start()  # empty: no retained configs, no state
        back = time.monotonic()
        await listener.until(lambda: len(listener.states(back)) >= 2 and len(listener.configs(back)) == len(configs))
        for _, values in listener.states(back):
            assert without_costs(values) == without_costs(state(LiveValues(by_time[values["time"]])))
        now = await retained(broker.port)
        assert now["meter-tui/status"] == "online"
        assert set(configs) <= set(now)
        assert json.loads(now["meter-tui/state"])["time"] in by_time

        record.send_signal(signal.SIGTERM)
        assert record.wait(15) == 0
        assert (await retained(broker.port))["meter-tui/status"] == "offline"
    finally:
        listening.cancel()
        if record.poll() is None:
            record.kill()
    text = log.read_text()
    assert text.count(": connected, publishing to meter-tui/state") == 2, text
    assert "broker unreachable" in text
    assert "mqtt://meter:***@127.0.0.1" in text
    assert "s3cret" not in text and URL_PASSWORD not in text


async def test_availability_follows_the_meter_offline_while_silent_online_when_telegrams_come_back(
    broker: Broker, tmp_path: Path
):
    sent = iter(SimulatedMeter(7, datetime(2026, 6, 1, 12, 0, tzinfo=BRUSSELS)).run(600))
    meter = TcpMeter()  # a network P1 reader, which the test silences and wakes again
    sending = asyncio.Event()
    sending.set()

    async def send() -> None:
        while True:
            await sending.wait()
            meter.send(next(sent))
            await asyncio.sleep(0.2)

    listener = Subscriber(broker.port)
    tasks = [asyncio.create_task(listener.run()), asyncio.create_task(send())]
    (tmp_path / "config.toml").write_text("[meter]\nsilence_timeout = 1\n")
    env = {"METER_TUI_DATA_DIR": str(tmp_path / "data"), "METER_TUI_RUN_DIR": str(tmp_path / "run"),
           "METER_TUI_CONFIG": str(tmp_path / "config.toml"), "PATH": "/usr/bin:/bin"}  # fmt: skip
    log = tmp_path / "record.log"
    record = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "record", "--port", f"socket://127.0.0.1:{meter.port}",
         "--db", str(tmp_path / "m.sqlite"), "--rates", str(tmp_path / "rates.json"), "--mqtt", broker.url],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip

    def said(payload: str, since: float) -> bool:
        return any(h.topic == "meter-tui/status" and h.payload == payload and h.at >= since for h in listener.heard)

    try:
        await listener.until(lambda: said("online", 0) and listener.states())
        sending.clear()  # the meter falls silent: after 1 s the source is lost
        silent = time.monotonic()
        await listener.until(lambda: said("offline", silent))
        assert record.poll() is None
        assert (await retained(broker.port))["meter-tui/status"] == "offline"
        back = time.monotonic()
        sending.set()
        await listener.until(lambda: said("online", back) and listener.states(back))
        assert (await retained(broker.port))["meter-tui/status"] == "online"
        record.send_signal(signal.SIGTERM)
        assert record.wait(15) == 0
    finally:
        for task in tasks:
            task.cancel()
        meter.close()
        if record.poll() is None:
            record.kill()
    assert "no data for 1 s" in log.read_text()


def record_mqtt(tmp_path: Path, broker: Broker, db: Path, config: str) -> tuple[subprocess.Popen[bytes], Path]:
    """`record --mqtt` on a simulated meter's 40 s, looped at 4x, with this config file; and its log."""
    capture = tmp_path / "capture.p1"
    capture.write_bytes(b"".join(SimulatedMeter(7, datetime(2026, 6, 1, 12, 0, tzinfo=BRUSSELS)).run(40)))
    (tmp_path / "config.toml").write_text(config)
    env = {"METER_TUI_DATA_DIR": str(tmp_path / "data"), "METER_TUI_RUN_DIR": str(tmp_path / "run"),
           "METER_TUI_CONFIG": str(tmp_path / "config.toml"), "PATH": "/usr/bin:/bin"}  # fmt: skip
    log = tmp_path / "record.log"
    record = subprocess.Popen(
        [sys.executable, "-m", "meter_tui", "record", "--replay", str(capture), "--speed", "4", "--loop",
         "--db", str(db), "--rates", str(tmp_path / "rates.json"), "--mqtt", broker.url],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    return record, log


async def record_states(tmp_path: Path, broker: Broker, db: Path, config: str) -> tuple[list[dict], str]:
    """The states `record --mqtt` publishes until there are four (far more than one telegram), checked still
    running then stopped with exit status 0; and its log."""
    listener = Subscriber(broker.port)
    listening = asyncio.create_task(listener.run())
    record, log = record_mqtt(tmp_path, broker, db, config)
    try:
        await listener.until(lambda: len(listener.states()) >= 4)
        assert record.poll() is None, log.read_text()
        record.send_signal(signal.SIGTERM)
        assert record.wait(15) == 0, log.read_text()
    finally:
        listening.cancel()
        if record.poll() is None:
            record.kill()
    return [values for _, values in listener.states()], log.read_text()


async def test_the_headroom_record_publishes_is_capped_by_the_main_fuse(broker: Broker, tmp_path: Path):
    # The simulated meter sets no power limiter (999.9 kW): the config file's 1x6 fuse carries 1.38 kW.
    states, _ = await record_states(tmp_path, broker, tmp_path / "m.sqlite", '[meter]\nmain_fuse = "1x6"\n')
    headrooms = [values["headroom_kw"] for values in states]
    # Without the fuse, 12:00 into a quarter with the 2.5 kW floor leaves more than 2 kW of headroom.
    assert headrooms and all(kw == pytest.approx(1.38) for kw in headrooms), headrooms


async def test_record_mqtt_on_an_unreadable_history_keeps_running_and_says_so(broker: Broker, tmp_path: Path):
    db = tmp_path / "m.sqlite"
    db.write_bytes(b"this is not a database any more" * 2000)
    states, text = await record_states(tmp_path, broker, db, "")
    assert all("cost_today_eur" not in values and "power_import_kw" in values for values in states)
    assert text.count("history cannot be read:") == 1, text
    assert "the history is damaged" in text and "MQTT goes on without today's costs" in text
    assert "unexpected error" not in text and "Traceback" not in text


@pytest.fixture(scope="module")
def app_fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


async def test_the_app_publishes_what_it_shows_and_hides_the_password(broker: Broker, app_fixture, tmp_path: Path):
    listener = Subscriber(broker.port)
    listening = asyncio.create_task(listener.run())
    publisher = MqttPublisher(parse_mqtt_url(broker.url, env={}))
    app = make_app(app_fixture, tmp_path, publisher=publisher)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            last = app.session.latest
            await listener.until(lambda: any(v["time"] == last.timestamp.isoformat() for _, v in listener.states()))
            values = next(v for _, v in listener.states() if v["time"] == last.timestamp.isoformat())
            assert without_costs(values) == without_costs(state(LiveValues(last)))
            column = app.session.today_column(last.timestamp.date())
            assert values["cost_today_eur"] == pytest.approx(column.cost.total, abs=0.05)
            assert values["cost_per_hour_eur"] == pytest.approx(app.session.cost_per_hour(), abs=1e-4)
            await pilot.press("s")
            await settle(pilot)
            info = str(app.screen.query_one("#source-info").render())
            assert f"MQTT: mqtt://meter:***@127.0.0.1:{broker.port}" in info
            assert "s3cret" not in info
    finally:
        listening.cancel()


async def test_the_app_says_offline_when_it_loses_the_meter(broker: Broker, app_fixture, tmp_path: Path):
    listener = Subscriber(broker.port)
    listening = asyncio.create_task(listener.run())
    app = make_app(app_fixture, tmp_path, publisher=MqttPublisher(parse_mqtt_url(broker.url, env={})))

    def said() -> list[str]:
        return [h.payload for h in listener.heard if h.topic == "meter-tui/status"]

    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await listener.until(lambda: said()[-1:] == ["online"])
            # What the meter worker posts when the source falls silent.
            app.post_message(MeterStatus(StatusEvent(FeedState.RECONNECTING, "demo meter", "no data for 10 s")))
            await listener.until(lambda: said()[-1:] == ["offline"])
            assert (await retained(broker.port))["meter-tui/status"] == "offline"
    finally:
        listening.cancel()


def test_todays_cost_is_queried_again_every_ten_seconds_of_meter_time(app_fixture, tmp_path: Path):
    db = tmp_path / "m.sqlite"
    shutil.copy(app_fixture.db, db)
    session = Session(db, tmp_path / "rates.json")
    session.become_owner()
    seen = []
    for raw in app_fixture.live[:35]:
        session.add(parse_telegram(raw))
        values = session.live_values()
        assert values is not None and values.cost_per_hour_eur == session.cost_per_hour()
        seen.append(values.cost_today_eur)
    changes = [i for i, (a, b) in enumerate(itertools.pairwise(seen), start=1) if a != b]
    assert changes and all(b - a >= 10 for a, b in itertools.pairwise([0, *changes])), changes
    assert seen[-1] == pytest.approx(session.today_column(session.now.date()).cost.total, abs=0.01)
    session.close()


def test_without_the_mqtt_extra_the_error_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "aiomqtt", None)  # as if `pip install meter-tui` without [mqtt]
    with pytest.raises(ConfigError, match=r"pip install 'meter-tui\[mqtt\]'"):
        MqttPublisher(parse_mqtt_url("mqtt://h", env={}))
