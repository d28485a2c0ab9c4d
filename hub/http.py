"""Running the hub's HTTP apps (registry, consent service) inside a hub process.

:class:`HttpServer` runs an ASGI app with uvicorn on a background thread, binds first
(so port 0 gives a free port and the real port is known before serving), and stops
cleanly. No server starts at import time.

Proxy headers (``X-Forwarded-Proto``, ``X-Forwarded-For``) are believed only from the
``trusted_proxies`` given (``HUB_TRUSTED_PROXIES``; none by default): from anyone else
the request's scheme and client address are those of the connection itself.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import uvicorn

from hub.errors import HubError
from hub.lifecycle import Startable

__all__ = ["HttpServer", "HttpServerError"]


class HttpServerError(HubError):
    """An HTTP server of the hub could not start or stop."""


class HttpServer(Startable):
    """An ASGI app served on ``host:port`` from a daemon thread."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "http",
        trusted_proxies: Sequence[str] = (),
    ):
        self._app = app
        self._trusted_proxies = list(trusted_proxies)
        self._host = host
        self._requested_port = port
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise HttpServerError(f"{self._name} server is not running")
        return f"http://{self._host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> str:
        """Bind, start serving, return the base URL once the server accepts requests."""
        # IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections;
        # without it every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise HttpServerError(
                f"{self._name}: cannot bind {self._host}:{self._requested_port}: {exc.strerror}"
            ) from exc
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            loop="asyncio",
            proxy_headers=bool(self._trusted_proxies),
            forwarded_allow_ips=self._trusted_proxies,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"{self._name}-http",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not self._thread.is_alive():
                raise HttpServerError(f"{self._name} server exited during start-up")
            if time.monotonic() > deadline:
                self.stop()
                raise HttpServerError(f"{self._name} server did not start within {timeout_s}s")
            time.sleep(0.01)
        return self.url

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask uvicorn to finish in-flight requests and exit; idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.port = None
