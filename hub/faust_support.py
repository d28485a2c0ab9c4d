"""What every faust app of the hub (router, monitor) needs from the settings.

The broker URL list and the credentials for the settings' security protocol, so the
same worker runs on the embedded broker (plaintext) and on Apache Kafka with TLS or
SASL. Importing this module does not import faust; :func:`faust_credentials` does.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from hub.config import HubSettings
from hub.errors import ConfigError

__all__ = ["broker_url", "faust_credentials", "ssl_context"]


def broker_url(settings: HubSettings) -> str:
    """The bootstrap servers as faust's ``broker`` URL list."""
    if settings.bootstrap_servers is None:
        raise ConfigError("no bootstrap servers: set HUB_BOOTSTRAP_SERVERS")
    return ";".join(f"kafka://{server}" for server in settings.bootstrap_servers.split(","))


def ssl_context(settings: HubSettings) -> ssl.SSLContext | None:
    """The TLS context of the settings (None for PLAINTEXT and SASL_PLAINTEXT)."""
    if not settings.security_protocol.endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None,
        certfile=str(settings.ssl_certfile) if settings.ssl_certfile else None,
        keyfile=str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
    )
    return context


def faust_credentials(settings: HubSettings) -> Any:
    """faust's ``broker_credentials`` for the settings' security protocol (None: plaintext)."""
    import faust  # noqa: PLC0415 - only processes that run a faust app pay for it

    context = ssl_context(settings)
    if settings.security_protocol.startswith("SASL_"):
        assert settings.sasl_password is not None  # checked by HubSettings
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            mechanism=settings.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None
