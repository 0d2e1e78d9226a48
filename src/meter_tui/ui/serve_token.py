"""Where `meter-tui serve` gets its token, and the URL it prints at start.

A token on the command line (`--token T`) is shown by `ps` to every user of the machine, and a token printed into a
log (the systemd journal) is read by whoever reads the log. So the token comes from METER_TUI_SERVE_TOKEN or a file
(`--token-file`); `--token` still works, with a warning. Off loopback without one, a token is made up once and kept
in the serve folder (0600), so a bookmark survives a restart; its value is printed only to a terminal.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from meter_tui.config import ConfigError
from meter_tui.ui.serve_guard import WILDCARDS

TOKEN_ENV = "METER_TUI_SERVE_TOKEN"
WARN_ARGUMENT = (f"meter-tui serve: --token shows in `ps` to every user of this machine: put the token in "
                 f"{TOKEN_ENV} or in a file named by --token-file")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    kept_in: Path | None = None  # the file that holds a made-up token


def serve_token(
    given: str | None, token_file: Path | None, host: str, folder: Path, env: Mapping[str, str] = os.environ
) -> Token | None:
    """The token a browser must give: --token, --token-file, the environment, or (off loopback) the kept one."""
    if given:
        print(WARN_ARGUMENT, file=sys.stderr, flush=True)
        return Token(given)
    if token_file is not None:
        return Token(_read(token_file))
    if env.get(TOKEN_ENV):
        return Token(env[TOKEN_ENV].strip())
    if loopback(host):
        return None
    kept = folder / "token"
    try:
        made = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Token(_read(kept), kept)
    except OSError as error:
        raise ConfigError(f"{kept}: cannot keep the serve token there: {error.strerror}") from error
    with os.fdopen(made, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(18) + "\n")
    return Token(_read(kept), kept)


def _read(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the serve token: {getattr(error, 'strerror', None) or error}") from None
    if not token or any(char.isspace() for char in token):
        raise ConfigError(f"{path}: the serve token must be one word on one line")
    return token


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_urls(host: str, port: int, public_url: str | None) -> list[str]:
    """The URLs to print: the public one, else the machine's name and address when bound to every interface (a
    browser elsewhere cannot open 0.0.0.0), else the bound address."""
    if public_url:
        return [public_url.rstrip("/") + "/"]
    if host not in WILDCARDS:
        shown = f"[{host}]" if ":" in host else host
        return [f"http://{shown}:{port}/"]
    names = [socket.gethostname(), _own_address()]
    return [f"http://{name}:{port}/" for name in names if name]


def _own_address() -> str | None:
    """The address other machines reach this one at (the outgoing interface's; a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def announce(urls: list[str], token: Token | None, *, terminal: bool) -> str:
    """The line printed at start: the URL to open, with the token only where it cannot end up in a log."""
    if token is None:
        return f"meter-tui serve: open {' or '.join(urls)}"
    if token.kept_in is None:
        value, where = "TOKEN", "TOKEN being the one you gave"
    elif terminal:
        value, where = token.value, f"kept in {token.kept_in}"
    else:
        value, where = "TOKEN", f"TOKEN being the one kept in {token.kept_in}"
    opened = " or ".join(f"{url}?token={value}" for url in urls)
    return f"meter-tui serve: open {opened}  ({where}; a request without it gets 403)"
