"""Settings that are never set by editing code: the config file, environment variables, the command line; and the
one place that decides where meter-tui keeps its files.

The config file is TOML at `<user config dir>/config.toml` (`~/.config/meter-tui/config.toml` on Linux), or the
file named by METER_TUI_CONFIG. The command line wins over the environment, which wins over the file.

    [meter]
    port = "/dev/ttyUSB0"        # or socket://192.168.1.50:23, rfc2217://...
    baudrate = 115200
    silence_timeout = 10         # seconds without bytes before the port is reopened
    main_fuse = "3x40"           # phases x amperes: caps the Peak screen's headroom when the meter sets no limit

    [store]
    db = "/home/pi/meter.sqlite"
    raw_days = 7

    [mqtt]                       # publish live values (the app or `record`, with the mqtt extra)
    url = "mqtt://homeassistant@192.168.1.10:1883"
    password = "..."             # or METER_TUI_MQTT_PASSWORD; kept out of the command line and of `ps`
    topic = "meter-tui"
    discovery_prefix = "homeassistant"
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import tomllib
from collections.abc import Mapping
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
class Config:
    meter: MeterConfig = field(default_factory=MeterConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    path: Path | None = None
    mqtt: MqttConfig = field(default_factory=MqttConfig)


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
    env: Mapping[str, str] = os.environ,
) -> Path:  # fmt: skip
    """The history database. The demo meter and replays keep histories of their own: trying the demo, or replaying
    someone else's capture, on a Pi that records the real meter must never mix their days into the real ones
    (`import` is the way to add a capture to the history)."""
    if explicit:
        return explicit
    if demo:
        return data_dir(env) / "demo.sqlite"
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


_FUSE = re.compile(r"[123]x\d{1,3}(\.\d+)?", re.IGNORECASE)
_TYPES: dict[str, dict[str, type]] = {
    "meter": {
        "port": str,
        "baudrate": int,
        "bytesize": int,
        "parity": str,
        "stopbits": float,
        "silence_timeout": float,
        "main_fuse": str,
    },
    "store": {"db": str, "raw_days": int},
    "mqtt": {"url": str, "password": str, "topic": str, "discovery_prefix": str},
}


def _checked(path: Path, section: str, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    known = _TYPES[section]
    result: dict[str, Any] = {}
    for key, given in values.items():
        if key not in known:
            raise ConfigError(f"{path}: [{section}] {key}: unknown setting (known: {', '.join(known)})")
        wanted = known[key]
        value = float(given) if wanted is float and type(given) is int else given
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise ConfigError(f"{path}: [{section}] {key}: expected {wanted.__name__}, got {given!r}")
        result[key] = value
    return result


def load_config(env: Mapping[str, str] = os.environ) -> Config:
    """The file (if any), then METER_TUI_PORT on top. A broken file is an error that says where."""
    path = config_path(env)
    meter: dict[str, Any] = {}
    store: dict[str, Any] = {}
    mqtt: dict[str, Any] = {}
    found: Path | None = None
    if path.exists():
        found = path
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: cannot read: {error}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from error
        for section in document:
            if section not in _TYPES:
                raise ConfigError(f"{path}: [{section}]: unknown section (known: {', '.join(_TYPES)})")
        meter = _checked(path, "meter", document.get("meter", {}))
        store = _checked(path, "store", document.get("store", {}))
        mqtt = _checked(path, "mqtt", document.get("mqtt", {}))
    if "main_fuse" in meter and not _FUSE.fullmatch(meter["main_fuse"]):
        raise ConfigError(f"{path}: [meter] main_fuse: expected phases x amperes such as \"3x40\" or \"1x40\", "
                          f"got {meter['main_fuse']!r}")  # fmt: skip
    if env.get("METER_TUI_PORT"):
        meter["port"] = env["METER_TUI_PORT"]
    if "db" in store:
        store["db"] = Path(store["db"]).expanduser()
    return Config(MeterConfig(**meter), StoreConfig(**store), found, MqttConfig(**mqtt))


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


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents as usual) with mode 0700, or tighten it to 0700."""
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
    return private_dir(data_dir(env)), private_dir(user_config_path(APP_NAME))
