"""The embedded registry: store + service + HTTP server, in this process.

Used only when ``HUB_SCHEMA_REGISTRY_URL`` is unset (:func:`registry_for`); with it set,
the hub talks to that registry and starts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hub.config import HubSettings
from hub.http import HttpServer
from hub.lifecycle import Startable
from hub.observability import broker_check
from hub.registry.api import create_app
from hub.registry.compatibility import DEFAULT_LEVEL, CompatibilityLevel
from hub.registry.service import RegistryService
from hub.registry.store import KafkaSchemaStore

__all__ = ["EmbeddedRegistry", "registry_for"]


class EmbeddedRegistry(Startable):
    """A Confluent-compatible registry over the settings' cluster, served over HTTP."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        host: str | None = None,
        port: int | None = None,
        topic: str | None = None,
        default_level: CompatibilityLevel = DEFAULT_LEVEL,
    ) -> None:
        self.store = KafkaSchemaStore(settings, topic)
        self.service = RegistryService(self.store, default_level=default_level)
        self._server = HttpServer(
            create_app(
                self.service,
                readiness={"broker": broker_check(settings), "store": self.service.subjects},
            ),
            host=settings.registry_host if host is None else host,
            port=settings.registry_port if port is None else port,
            name="schema-registry",
        )

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> str:
        """Load the store, then serve; returns the base URL."""
        self.store.start()
        try:
            return self._server.start()
        except BaseException:
            self.store.stop()
            raise

    def stop(self) -> None:
        """Stop serving, then stop following the store; idempotent."""
        self._server.stop()
        self.store.stop()


@contextmanager
def registry_for(settings: HubSettings) -> Iterator[str]:
    """The registry URL to use: HUB_SCHEMA_REGISTRY_URL, or an embedded one started here.

    Yields the URL (the settings are left as they are: the topic catalogue keys the
    ``_schemas`` topic on ``schema_registry_url`` being unset).
    """
    if settings.schema_registry_url:
        yield settings.schema_registry_url
        return
    with EmbeddedRegistry(settings) as registry:
        yield registry.url
