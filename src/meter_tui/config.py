"""Settings that are never set by editing code: the config file, environment variables, the command line; and the
one place that decides where meter-tui keeps its files.

The config file is TOML at `<user config dir>/config.toml` (`~/.config/meter-tui/config.toml` on Linux), or the
file named by METER_TUI_CONFIG. The command line wins over the environment, which wins over the file.

    [meter]
    port = "/dev/ttyUSB0"        # or socket://192.168.1.50:23, rfc2217://...
    baudrate = 115200
    silence_timeout = 10         # seconds without bytes before the port is reopened
    main_fuse = "3x40"           # phases x amperes: caps the headroom (Peak screen, MQTT) when the meter sets no limit

    [store]
    db = "/home/pi/meter.sqlite"
    raw_days = 7

    [alerts]
    water_leak_hours = 2         # water flowing this long without a 5-minute pause is an event and a notification

    [mqtt]                       # publish live values (the app or `record`, with the mqtt extra)
    url = "mqtt://homeassistant@192.168.1.10:1883"
    password = "..."             # or METER_TUI_MQTT_PASSWORD; kept out of the command line and of `ps`
    topic = "meter-tui"
    discovery_prefix = "homeassistant"

Every key is checked for its type and range when the file is read (`_KEYS`), and an unknown key is an error, not a
warning: a misspelt setting would otherwise silently not apply. Each refusal is one line, "<file>: [section] key:
what is wrong (got VALUE)", never showing the password.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_data_path

APP_NAME = "meter-tui"


class ConfigError(Exception):
    """A setting that cannot be used, naming the file and the key."""


@dataclass(frozen=True, slots=True)
class MeterConfig:
    port: str = "/dev/ttyUSB0"
    baudrate: int = 115200
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    silence_timeout: float = 10.0
    main_fuse: str | None = None  # "3x40": phases x amperes


@dataclass(frozen=True, slots=True)
class StoreConfig:
    db: Path | None = None
    raw_days: int = 7


@dataclass(frozen=True, slots=True)
class MqttConfig:
    url: str | None = None
    password: str | None = field(default=None, repr=False)
    topic: str = "meter-tui"
    discovery_prefix: str = "homeassistant"


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    water_leak_hours: float = 2.0


@dataclass(frozen=True, slots=True)
class Config:
    meter: MeterConfig = field(default_factory=MeterConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    path: Path | None = None
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    warnings: tuple[str, ...] = ()  # said, not refused: a config file holding the password that others may read
    alerts: AlertsConfig = field(default_factory=AlertsConfig)


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env["METER_TUI_CONFIG"]) if env.get("METER_TUI_CONFIG") else user_config_path(APP_NAME) / "config.toml"


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env["METER_TUI_DATA_DIR"]) if env.get("METER_TUI_DATA_DIR") else user_data_path(APP_NAME)


def run_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where the owner's lock and socket live. The data dir, not XDG_RUNTIME_DIR: a process started by cron at boot
    has no runtime dir, and all processes of a user must find the same socket."""
    return Path(env["METER_TUI_RUN_DIR"]) if env.get("METER_TUI_RUN_DIR") else data_dir(env) / "run"


def rates_path(explicit: Path | None = None, env: Mapping[str, str] = os.environ) -> Path:
    """rates.json: the one given, else the user's, beside the config file's folder."""
    return explicit or user_config_path(APP_NAME) / "rates.json"


def history_path(
    config: Config, explicit: Path | None = None, *, demo: bool = False, replay: bool = False,
    env: Mapping[str, str] = os.environ, seed: int = 1,
) -> Path:  # fmt: skip
    """The history database. The demo meter and replays keep histories of their own: trying the demo, or replaying
    someone else's capture, on a Pi that records the real meter must never mix their days into the real ones
    (`import` is the way to add a capture to the history). Each demo seed is another household with its own meter:
    seed 1 keeps `demo.sqlite`, seed N `demo-seed-N.sqlite`."""
    if explicit:
        return explicit
    if demo:
        return data_dir(env) / ("demo.sqlite" if seed == 1 else f"demo-seed-{seed}.sqlite")
    if replay:
        return data_dir(env) / "replay.sqlite"
    return config.store.db or data_dir(env) / "meter.sqlite"


def serve_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where `serve` keeps its page template."""
    return data_dir(env) / "serve"


def shown_path(path: Path | str) -> str:
    """A path as the user is shown it: under the home folder as `~/...`, which is shorter on a screen of 80
    columns and says the same to its owner; anything else whole."""
    given = Path(path)
    try:
        inside = given.relative_to(Path.home())
    except (ValueError, RuntimeError):  # elsewhere, or no home folder at all
        return str(given)
    return "~" if inside == Path() else f"~/{inside}"


_FUSE = re.compile(r"([123])x(\d{1,3}(?:\.\d+)?)", re.IGNORECASE)
_TOPIC = re.compile(r"[^#+\x00]+")
_BAUDRATES = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
SILENCE_MAX = 3600.0  # an hour without a byte: the meter sends every second, 10 s is the default
RAW_DAYS_MAX = 365  # raw telegrams are about 1 kB a second: a year is already far beyond an SD card's comfort


def topic_problem(topic: str) -> str | None:
    """What makes `topic` unusable as an MQTT topic to publish under, or None."""
    if not _TOPIC.fullmatch(topic) or topic.startswith("/") or topic.endswith("/"):
        return "a topic without #, + or a leading or trailing /"
    return None


def _fuse_problem(value: str) -> str | None:
    match = _FUSE.fullmatch(value)
    if match is None:
        return 'expected phases x amperes such as "3x40" or "1x40"'
    if not 6 <= float(match.group(2)) <= 250:
        return "a household's main fuse of 6 to 250 amperes expected"
    return None


def _range(low: float, high: float, words: str) -> Callable[[Any], str | None]:
    def check(value: float) -> str | None:
        return None if math.isfinite(value) and low <= value <= high else words

    return check


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], str | None]:
    words = "one of " + ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in choices) + " expected"

    def check(value: Any) -> str | None:
        return None if value in choices else words

    return check


def _url_problem(url: str) -> str | None:
    scheme, _, rest = url.partition("://")
    if scheme not in ("mqtt", "mqtts") or not rest.rsplit("@", 1)[-1].split(":")[0].strip("/"):
        return "expected mqtt://[user@]host[:port] or mqtts://..."
    return None


def _filled(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


@dataclass(frozen=True, slots=True)
class _Key:
    """One setting: its TOML type and what else it must be (a function saying what is wrong, or None)."""

    kind: type
    check: Callable[[Any], str | None] = _filled


_KINDS = {str: "text in quotes", int: "a whole number", float: "a number"}
_KEYS: dict[str, dict[str, _Key]] = {
    "meter": {
        "port": _Key(str),
        "baudrate": _Key(int, _one_of(_BAUDRATES)),
        "bytesize": _Key(int, _one_of((5, 6, 7, 8))),
        "parity": _Key(str, _one_of(("N", "E", "O"))),
        "stopbits": _Key(float, _one_of((1.0, 1.5, 2.0))),
        "silence_timeout": _Key(float, _range(0.1, SILENCE_MAX, f"seconds between 0.1 and {SILENCE_MAX:g} expected")),
        "main_fuse": _Key(str, _fuse_problem),
    },
    "store": {
        "db": _Key(str),
        "raw_days": _Key(int, _range(1, RAW_DAYS_MAX, f"days between 1 and {RAW_DAYS_MAX} expected")),
    },
    "mqtt": {
        "url": _Key(str, _url_problem),
        "password": _Key(str),
        "topic": _Key(str, lambda value: topic_problem(value) or _filled(value)),
        "discovery_prefix": _Key(str, lambda value: topic_problem(value) or _filled(value)),
    },
    "alerts": {
        "water_leak_hours": _Key(float, _range(0.25, 48, "hours between 0.25 and 48 expected")),
    },
}


def _shown(key: str, value: Any) -> str:
    """A value as the file has it, for a message; never the password."""
    if key == "password":
        return "a password" if isinstance(value, str) else type(value).__name__
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _checked(path: Path, section: str, values: Any) -> dict[str, Any]:
    """The section's settings, each of its type and range; the first that is not says so in one line."""
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    known = _KEYS[section]
    result: dict[str, Any] = {}
    for key, given in values.items():
        where = f"{path}: [{section}] {key}"
        if key not in known:
            raise ConfigError(f"{where}: unknown setting, known: {', '.join(known)} (got {_shown(key, given)})")
        rule = known[key]
        value = float(given) if rule.kind is float and type(given) is int else given
        if not isinstance(value, rule.kind) or isinstance(value, bool):
            raise ConfigError(f"{where}: {_KINDS[rule.kind]} expected (got {_shown(key, given)})")
        problem = rule.check(value)
        if problem is not None:
            raise ConfigError(f"{where}: {problem} (got {_shown(key, given)})")
        result[key] = value
    return result


def _document(path: Path) -> dict[str, Any]:
    """The TOML file read and parsed; a file that cannot be read, is not UTF-8 or not TOML is one line saying
    where."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text (byte 0x{data[error.start]:02x} at column "
                          f"{column}); save the file as UTF-8") from None  # fmt: skip
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None


def _readable_secret(path: Path, mqtt: dict[str, Any]) -> tuple[str, ...]:
    """A warning, like ssh's, when the file holds the MQTT password (as a key or in the URL) and others may read
    it."""
    in_url = "@" in mqtt.get("url", "") and ":" in mqtt["url"].partition("://")[2].rpartition("@")[0]
    if "password" not in mqtt and not in_url:
        return ()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return ()
    if not mode & 0o077:
        return ()
    return (f"warning: {path} holds the MQTT password and is readable by others (mode {mode:04o}): "
            f"chmod 600 {path}",)  # fmt: skip


def load_config(env: Mapping[str, str] = os.environ) -> Config:
    """The file (if any), then METER_TUI_PORT on top. A broken file is an error that says where."""
    path = config_path(env)
    sections: dict[str, dict[str, Any]] = {name: {} for name in _KEYS}
    found: Path | None = None
    warnings: tuple[str, ...] = ()
    if path.exists():
        found = path
        document = _document(path)
        for section in document:
            if section not in _KEYS:
                raise ConfigError(f"{path}: [{section}]: unknown section (known: {', '.join(_KEYS)})")
        sections = {name: _checked(path, name, document.get(name, {})) for name in _KEYS}
        warnings = _readable_secret(path, sections["mqtt"])
    meter, store = sections["meter"], sections["store"]
    if env.get("METER_TUI_PORT"):
        meter["port"] = env["METER_TUI_PORT"]
    if "db" in store:
        store["db"] = Path(store["db"]).expanduser()
        if store["db"].is_dir():
            raise ConfigError(f"{path}: [store] db: is a directory, expected the history file's path "
                              f"(got {_shown('db', str(store['db']))})")  # fmt: skip
    return Config(MeterConfig(**meter), StoreConfig(**store), found, MqttConfig(**sections["mqtt"]), warnings,
                  AlertsConfig(**sections["alerts"]))  # fmt: skip


# A household's history is private: meter-tui's own folders are 0700, the history, its backups and captures 0600.
# Looser modes found on existing files are tightened, and said: `tightened` collects the notes for the log.
FILE_MODE = 0o600
DIR_MODE = 0o700

tightened: list[str] = []  # what was made private in this process, for whoever logs


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if current & ~mode:
        try:
            path.chmod(mode)
        except OSError as error:
            tightened.append(f"{path}: mode {current:04o} could not be tightened to {mode:04o} ({error.strerror})")
            return
        tightened.append(f"{path}: mode {current:04o} tightened to {mode:04o}")


class FolderError(ConfigError):
    """A folder meter-tui needs cannot be there: a link to a disk that is not mounted."""


def _dangling(path: Path) -> Path | None:
    """The first of `path` and its parents that is a symbolic link to nothing, or None."""
    for candidate in (path, *path.parents):
        if candidate.is_symlink() and not candidate.exists():
            return candidate
    return None


def check_mounted(path: Path, what: str) -> None:
    """Refuse a folder on a disk that is not there (a USB disk not yet mounted at boot): writing beside the link
    would put the history on the SD card, and creating the folder fails with a bare "File exists"."""
    link = _dangling(path)
    if link is not None:
        shown = f"{what} {path}" if link == path else f"{what} {path}: {link}"
        raise FolderError(f"{shown} is a link to {os.readlink(link)}, which does not exist: is the disk mounted?")


def make_parent(path: Path) -> None:
    """Create the folder of the file `path`, refusing a folder that is a link to a disk that is not mounted."""
    check_mounted(path.parent, "the folder")
    path.parent.mkdir(parents=True, exist_ok=True)


def private_dir(path: Path, what: str = "the folder") -> Path:
    """Create `path` (and its parents as usual) with mode 0700, or tighten it to 0700."""
    check_mounted(path, what)
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(DIR_MODE)
    else:
        _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make an existing file 0600 (no-op when it is already as private)."""
    _tighten(path, FILE_MODE)
    return path


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist, so that nothing ever sees it world-readable."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if path.is_dir():  # never make a folder 0600: that would lock its owner out of it
            raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file", str(path)) from None
        private_file(path)


class PidLock:
    """An exclusive, non-blocking flock on a file that also records the holder's pid. The kernel drops a flock when
    its process dies, even by SIGKILL, so a lock file left behind never blocks anyone: only a live holder counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        if not self.path.parent.exists():
            private_dir(self.path.parent)  # a folder made for locks (run/) is meter-tui's own: private
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def owner_pid(self) -> int | None:
        """The pid written in the file (by the holder, or by a holder that is gone)."""
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def holder(self) -> int | None:
        """The pid of the live process holding the lock (0 when it holds it but has not written its pid yet), None
        when nobody holds it. Asks the kernel, so a pid left in the file by a process that died is not believed."""
        if self._fd is not None:
            return os.getpid()
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self.owner_pid() or 0
        finally:
            os.close(fd)  # closing drops the probe's shared lock when it was granted
        return None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def own_dirs(env: Mapping[str, str] = os.environ) -> tuple[Path, Path]:
    """meter-tui's data and config folders: made private, created if need be."""
    return private_dir(data_dir(env), "the data folder"), private_dir(user_config_path(APP_NAME), "the config folder")
