"""Where to publish: the broker URL, the topics, and the password kept out of everything that is shown."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from meter_tui.config import ConfigError, topic_problem

DEFAULT_TOPIC = "meter-tui"
DEFAULT_DISCOVERY_PREFIX = "homeassistant"
PASSWORD_ENV = "METER_TUI_MQTT_PASSWORD"


class MqttSettingsError(ConfigError):
    """A broker URL or topic that cannot be used; the message never holds the password."""


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    topic: str = DEFAULT_TOPIC
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX

    @property
    def shown(self) -> str:
        """The broker as it may appear in a log or on screen."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}{':***' if self.password else ''}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"

    @property
    def state_topic(self) -> str:
        return f"{self.topic}/state"

    @property
    def availability_topic(self) -> str:
        return f"{self.topic}/status"


def parse_mqtt_url(
    url: str,
    *,
    topic: str = DEFAULT_TOPIC,
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX,
    password: str | None = None,
    env: Mapping[str, str] = os.environ,
) -> MqttSettings:
    """`mqtt://user:pass@host:1883` or `mqtts://host` (TLS, port 8883). A password given apart (config file or
    METER_TUI_MQTT_PASSWORD) wins over the URL's, so that it need not show in `ps`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise MqttSettingsError(f"MQTT broker {_without_password(url)!r}: {error}") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise MqttSettingsError(f"MQTT broker {_without_password(url)!r}: the URL must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise MqttSettingsError(f"MQTT broker {_without_password(url)!r}: no host")
    for name, value in (("topic", topic), ("discovery prefix", discovery_prefix)):
        if (problem := topic_problem(value)) is not None:
            raise MqttSettingsError(f"MQTT {name} {value!r}: {problem}")
    tls = parts.scheme == "mqtts"
    return MqttSettings(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=password or env.get(PASSWORD_ENV) or (unquote(parts.password) if parts.password else None),
        tls=tls,
        topic=topic,
        discovery_prefix=discovery_prefix,
    )


def _without_password(url: str) -> str:
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)
