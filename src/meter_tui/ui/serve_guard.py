"""Who may talk to `meter-tui serve`: the token, the Host a request names and the Origin a page comes from.

A web page on any site, opened in a browser on the Pi (or at the end of an `ssh -L` tunnel), can open a websocket to
127.0.0.1 or make its own name resolve to it (DNS rebinding). The browser then sends that site's Origin, or its
name as Host: both are checked against this server's own names before anything of the app is served. A request
naming an IP address is no rebinding (that needs a name), so the address the connection arrived at is accepted as
it is. Clients without an Origin (curl, scripts) are not browsers driven by a foreign page and go on to the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

COOKIE = "meter_tui_token"
FORBIDDEN = "403: this meter-tui needs its token: open the URL that `meter-tui serve` printed when it started.\n"
WILDCARDS = ("0.0.0.0", "::", "")
_TOKEN = re.compile(r"(token=)[^&\s\"']*", re.IGNORECASE)


def token_guard(token: str) -> Middleware:
    """aiohttp middleware: the request carries the token (query or cookie), else 403 with nothing of the app."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=403, text=FORBIDDEN)
        response = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response

    return guard


def own_names(bound: str, public_url: str | None, allowed: Iterable[str]) -> frozenset[str]:
    """The names a browser may use for this server: loopback, the machine's names, the bound address, the public
    URL's host and what `--allow-host` adds."""
    names = {"localhost", "127.0.0.1", "::1"}
    machine = socket.gethostname()
    names |= {machine, f"{machine}.local", socket.getfqdn()}
    if bound not in WILDCARDS:
        names.add(bound)
    if public_url and (public := urlsplit(public_url).hostname):
        names.add(public)
    names |= set(allowed)
    return frozenset(name.lower().rstrip(".") for name in names if name)


def host_guard(names: frozenset[str], public_url: str | None) -> Middleware:
    """aiohttp middleware: a Host that is not one of ours (DNS rebinding) or a foreign Origin gets 403."""
    public_origin = _origin(public_url) if public_url else None

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = _hostname(request.host)
        if host is None or not (host in names or _arrived_at(request, host)):
            return web.Response(status=403, text=f"403: {request.host!r} is not a name of this meter-tui; start "
                                "`meter-tui serve` with --allow-host NAME to use it.\n")  # fmt: skip
        origin = request.headers.get("Origin")
        if origin is not None and not _same_origin(origin, request.host, public_origin):
            return web.Response(status=403, text=f"403: a page from {origin} may not use this meter-tui.\n")
        return await handler(request)

    return guard


def _hostname(netloc: str) -> str | None:
    """The name in a Host header (port and IPv6 brackets off), lower case; None when it cannot be read."""
    try:
        name = urlsplit(f"//{netloc}").hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def _same_origin(origin: str, host: str, public_origin: str | None) -> bool:
    """The page that opened this request came from this server, as the browser named it or as --public-url does."""
    seen = _origin(origin)
    return seen is not None and seen in {_origin(f"http://{host}"), public_origin}


def _origin(url: str) -> str | None:
    """`host:port` of an origin, lower case (a browser sends `null` for pages without one: never ours)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port}" if parts.hostname else None
    except ValueError:
        return None


def _arrived_at(request: web.Request, host: str) -> bool:
    """The Host is an IP address: loopback, or the one this connection was made to."""
    try:
        named = ipaddress.ip_address(host)
    except ValueError:
        return False
    if named.is_loopback:
        return True
    local = request.transport.get_extra_info("sockname") if request.transport else None
    if not local:
        return False
    arrived = ipaddress.ip_address(local[0].split("%")[0])
    if isinstance(arrived, ipaddress.IPv6Address) and arrived.ipv4_mapped:
        arrived = arrived.ipv4_mapped
    return named == arrived


class RedactToken(logging.Filter):
    """The access log prints each request line and referrer, `?token=...` included: that part is blanked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg, record.args = _TOKEN.sub(r"\1...", message), None
        return True
