"""Serving the teaching page (:mod:`sim.app`, Solara's Starlette app on uvicorn) to this machine
only.

The page can read and drive the model, so it answers only requests addressed to this machine
by name: a Host header of ``127.0.0.1``, ``localhost`` or ``[::1]`` (or the address given with
``--host``), with the port it listens on. Anything else (a DNS-rebinding page that reaches the
port as ``evil.example``) gets 403. A websocket is upgraded only when its Origin is absent or
one of those same addresses: a page on another site the user visits cannot open one.

The socket is bound here, before Solara is imported, so a port in use or a port the user may
not open is one line for the user, not uvicorn's log and exit.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any, Callable

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_HOST = re.compile(r"^(?P<name>\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(?P<port>\d{1,5}))?$")
_ORIGIN = re.compile(r"^https?://(?P<host>[^/?#]+)$")


class PageError(Exception):
    """The page cannot be served (e.g. its port is in use): one line for the user."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` and listening, or a :class:`PageError`."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise PageError(f"--host {host}: not an address this machine can listen on "
                        f"({getattr(exc, 'strerror', None) or exc})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PageError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); expected "
                        "a free port this user may open on an address of this machine "
                        "(--port 0 picks a free one)") from None
    return sock


def allowed_hosts(host: str) -> tuple[str, ...]:
    """The names the page answers to: the loopback ones, and the address it was told to listen
    on when that is a single address (not a wildcard such as 0.0.0.0)."""
    given = f"[{host}]" if ":" in host and not host.startswith("[") else host
    wildcard = given in ("0.0.0.0", "[::]", "")
    return LOOPBACK_NAMES + (() if wildcard or given in LOOPBACK_NAMES else (given.lower(),))


def host_allowed(value: str, names: tuple[str, ...], port: int) -> bool:
    """Whether a Host header (or an Origin's host part) names this page: one of ``names``,
    with ``port`` or no port."""
    match = _HOST.match(value)
    if match is None:
        return False
    given_port = match["port"]
    return match["name"].lower() in names and (given_port is None or int(given_port) == port)


def origin_allowed(value: str | None, names: tuple[str, ...], port: int) -> bool:
    """Whether a websocket's Origin is absent (not a browser page) or this page itself."""
    if value is None:
        return True
    match = _ORIGIN.match(value)
    return match is not None and host_allowed(match["host"], names, port)


class LoopbackOnly:
    """ASGI middleware: refuses (403) a request whose Host is not one of ``names`` with ``port``,
    and a websocket whose Origin is another site, before the app sees either."""

    def __init__(self, app: Callable[..., Any], names: tuple[str, ...], port: int):
        self.app, self.names, self.port = app, names, port

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not self._allowed(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})  # uvicorn answers 403
                return
            body = b"403 Forbidden: the teaching page answers only to this machine (localhost)\n"
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: dict[str, Any]) -> bool:
        headers: dict[bytes, list[bytes]] = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.lower(), []).append(value)
        hosts = headers.get(b"host", [])
        if len(hosts) != 1 or not host_allowed(hosts[0].decode("latin-1"), self.names, self.port):
            return False
        if scope["type"] != "websocket":
            return True
        origins = headers.get(b"origin", [])
        if len(origins) > 1:
            return False
        origin = origins[0].decode("latin-1") if origins else None
        return origin_allowed(origin, self.names, self.port)


def serve(host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve the page on ``host``:``port`` until Ctrl-C or SIGTERM (uvicorn's own handling).
    Solara runs in production mode, with its usage telemetry off. Raises :class:`PageError`
    when the socket cannot be opened, before anything else starts."""
    sock = listening_socket(host, port)
    port = sock.getsockname()[1]
    os.environ.update({"SOLARA_APP": "sim.app", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
                       "SERVER_NAME": host, "SERVER_PORT": str(port)})
    import uvicorn
    from solara.server import settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    from solara.server.starlette import app

    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    announce(f"serving the teaching page on http://{shown}:{port}/ (Ctrl-C stops)")
    config = uvicorn.Config(LoopbackOnly(app, allowed_hosts(host), port), log_level="warning",
                            access_log=False, lifespan="on", proxy_headers=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
