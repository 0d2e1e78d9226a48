"""Which meter a source names, whatever its spelling: the key of the one-owner lock.

People name one meter in several ways: `/dev/ttyUSB0` in a cron line and its `/dev/serial/by-id/...` link in the
config file (as the README advises), `socket://localhost:23` in one window and `socket://127.0.0.1:23` in another.
Keyed as written, each spelling would get an owner of its own: two readers splitting one serial port's bytes, or
two recorders doubling the energy of one network reader. So a device is keyed by the device itself (its major and
minor number, after following links), a network reader by the address its name resolves to.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

RESOLVE_SECONDS = 3.0  # at boot the resolver may hang for long; the meter must not wait for it
_NETWORK = ("socket", "rfc2217")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


@dataclass(frozen=True, slots=True)
class MeterIdentity:
    """The lock key of a source, and what to tell the user when it could not be made spelling-proof ('' if not)."""

    key: str
    note: str = ""


def port_identity(port: str, resolve_seconds: float = RESOLVE_SECONDS) -> MeterIdentity:
    """The identity of a serial device or pyserial URL (the config's `port`)."""
    if "://" not in port:
        return MeterIdentity(_device_key(port))
    address = urlsplit(port)
    if address.scheme not in _NETWORK or not address.hostname or address.port is None:
        return MeterIdentity(f"url:{port}")  # loop://, spy://...: compared as written
    host, note = _host_key(address.hostname, address.port, resolve_seconds)
    # socket:// and rfc2217:// to one host and port reach one server, hence one meter: the scheme is not in the key.
    return MeterIdentity(f"tcp:{host}:{address.port}", note)


def _device_key(path: str) -> str:
    """A device by its number (so that any link or second node to it is the same meter), else by its real path (a
    device not plugged in yet: its link cannot be followed, the name as written is the best there is)."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except OSError:
        return f"path:{real}"
    if stat.S_ISCHR(info.st_mode):
        return f"device:{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
    return f"path:{real}"


def _host_key(host: str, port: int, seconds: float) -> tuple[str, str]:
    """An address for the key: loopback addresses (and localhost) are one machine; a name is resolved, IPv4 first."""
    literal = _address(host)
    if literal is not None:
        return literal, ""
    if host.lower().rstrip(".") in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        return "loopback", ""
    found, error = _resolve(host, port, seconds)
    if not found:
        return host.lower().rstrip("."), (
            f"{host} cannot be resolved now ({error}): the meter's lock uses the name as written, so another "
            "spelling of this reader (its address) is not known as the same meter until a restart; the history "
            "still has one writer at most"
        )
    keys = sorted({key for key in (_address(a) for a in found) if key is not None}, key=lambda k: (":" in k, k))
    return ("loopback" if "loopback" in keys else keys[0]), ""


def _address(text: str) -> str | None:
    """A canonical address, 'loopback' for any loopback one; None when `text` is not an address."""
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return "loopback" if address.is_loopback else str(address)


def _resolve(host: str, port: int, seconds: float) -> tuple[list[str], str]:
    """The addresses of `host`, asked in a thread so that a resolver hanging at boot costs `seconds` at most."""
    result: list[str] = []
    problem: list[str] = []

    def ask() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            result.extend(str(info[4][0]) for info in infos)
        except (OSError, UnicodeError) as error:
            problem.append(getattr(error, "strerror", None) or str(error))

    thread = threading.Thread(target=ask, name="meter-tui resolve", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return [], f"no answer in {seconds:g} s"
    return result, problem[0] if problem else "no address"
