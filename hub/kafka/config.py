"""The one mapping from :class:`~hub.config.HubSettings` to client configuration.

Every Kafka client of the hub gets its bootstrap servers, client id, timeouts, security
protocol, SASL credentials and TLS files from here: kafka-python (:mod:`hub.kafka`),
aiokafka (the router), faust (the router's and monitor's apps) and confluent-kafka
(interoperability tests, tools). The producer's acks and idempotence are here too.
Importing this module does not import faust; :func:`faust_credentials` does.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from hub.config import HubSettings
from hub.errors import ConfigError

__all__ = [
    "aiokafka_config",
    "bootstrap_servers",
    "confluent_config",
    "confluent_producer_config",
    "faust_broker_url",
    "faust_credentials",
    "kafka_python_config",
    "producer_guarantees",
    "ssl_context",
]


def bootstrap_servers(settings: HubSettings) -> list[str]:
    """The bootstrap servers as a list; :class:`ConfigError` when none are set."""
    if settings.bootstrap_servers is None:
        raise ConfigError(
            "no bootstrap servers: start the embedded broker first or set HUB_BOOTSTRAP_SERVERS"
        )
    return settings.bootstrap_servers.split(",")


def _sasl(settings: HubSettings) -> tuple[str, str, str] | None:
    """(mechanism, username, password) for a SASL protocol, else None."""
    if not settings.security_protocol.startswith("SASL_"):
        return None
    mechanism, username, password = (
        settings.sasl_mechanism,
        settings.sasl_username,
        settings.sasl_password,
    )
    assert mechanism and username and password  # noqa: PT018 - checked by HubSettings
    return mechanism, username, password.get_secret_value()


def _tls_files(settings: HubSettings) -> dict[str, str]:
    """The configured TLS files by role (cafile, certfile, keyfile)."""
    files = {
        "cafile": settings.ssl_cafile,
        "certfile": settings.ssl_certfile,
        "keyfile": settings.ssl_keyfile,
    }
    return {role: str(path) for role, path in files.items() if path is not None}


def kafka_python_config(settings: HubSettings) -> dict[str, Any]:
    """kafka-python settings shared by every client of this process."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": settings.client_id,
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": settings.request_timeout_ms,
    }
    if sasl := _sasl(settings):
        mechanism, username, password = sasl
        config |= {
            "sasl_mechanism": mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    config |= {f"ssl_{role}": path for role, path in _tls_files(settings).items()}
    return config


def ssl_context(settings: HubSettings) -> ssl.SSLContext | None:
    """The TLS context of the settings for aiokafka and faust (None without TLS)."""
    if not settings.security_protocol.endswith("SSL"):
        return None
    files = _tls_files(settings)
    context: ssl.SSLContext = create_ssl_context(
        cafile=files.get("cafile"), certfile=files.get("certfile"), keyfile=files.get("keyfile")
    )
    return context


def aiokafka_config(settings: HubSettings, client_id: str | None = None) -> dict[str, Any]:
    """aiokafka settings; ``client_id`` replaces the settings' one (e.g. per router client)."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": client_id or settings.client_id,
        "request_timeout_ms": settings.request_timeout_ms,
        "security_protocol": settings.security_protocol,
    }
    if (context := ssl_context(settings)) is not None:
        config["ssl_context"] = context
    if sasl := _sasl(settings):
        mechanism, username, password = sasl
        config |= {
            "sasl_mechanism": mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    return config


def producer_guarantees(settings: HubSettings) -> dict[str, Any]:
    """acks from all replicas, idempotent where the broker grants producer ids
    (``HubSettings.idempotent_producer``): kafka-python's and aiokafka's names."""
    return {"acks": "all", "enable_idempotence": settings.idempotent_producer}


def faust_broker_url(settings: HubSettings) -> str:
    """The bootstrap servers as faust's ``broker`` URL list."""
    return ";".join(f"kafka://{server}" for server in bootstrap_servers(settings))


def faust_credentials(settings: HubSettings) -> Any:
    """faust's ``broker_credentials`` for the settings' security protocol (None: plaintext)."""
    import faust  # noqa: PLC0415 - only processes that run a faust app pay for it

    context = ssl_context(settings)
    if sasl := _sasl(settings):
        mechanism, username, password = sasl
        return faust.SASLCredentials(
            username=username, password=password, mechanism=mechanism, ssl_context=context
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def confluent_config(settings: HubSettings) -> dict[str, Any]:
    """confluent-kafka (librdkafka) settings; its ``socket.timeout.ms`` is the request
    timeout of every client kind (``request.timeout.ms`` is a producer-only property)."""
    config: dict[str, Any] = {
        "bootstrap.servers": ",".join(bootstrap_servers(settings)),
        "client.id": settings.client_id,
        "security.protocol": settings.security_protocol,
        "socket.timeout.ms": settings.request_timeout_ms,
    }
    if sasl := _sasl(settings):
        mechanism, username, password = sasl
        config |= {
            "sasl.mechanism": mechanism,
            "sasl.username": username,
            "sasl.password": password,
        }
    files = _tls_files(settings)
    for role, key in (
        ("cafile", "ssl.ca.location"),
        ("certfile", "ssl.certificate.location"),
        ("keyfile", "ssl.key.location"),
    ):
        if role in files:
            config[key] = files[role]
    return config


def confluent_producer_config(settings: HubSettings) -> dict[str, Any]:
    """:func:`confluent_config` with the guarantees of :func:`producer_guarantees`."""
    return confluent_config(settings) | {
        "acks": "all",
        "enable.idempotence": settings.idempotent_producer,
    }
