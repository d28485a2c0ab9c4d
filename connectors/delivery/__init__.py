"""Outbound delivery of a partner's inbox: to a file drop or a webhook.

:func:`open_sink` turns a target (``file:DIR`` or ``http(s)://...``) into a sink;
:func:`deliver` runs the delivery loop (:mod:`connectors.delivery.runner`) for one
partner and target until stopped. Format and guarantees: README.md beside this file.
"""

from __future__ import annotations

import threading
from pathlib import Path

from connectors.common.errors import ConnectorError
from connectors.delivery.filedrop import FileDrop, FileDropError, FileFormat
from connectors.delivery.ledger import DeliveryLedger, LedgerError
from connectors.delivery.runner import Deliverer, DeliveryStats, delivery_group, ledger_path
from connectors.delivery.sink import Delivered, DeliveryFailed, DeliveryInterrupted, Sink
from connectors.delivery.webhook import WebhookSink, redact_url
from hub.config import HubSettings
from hub.registry import RegistryClient
from hub.sdk import PartnerClient
from hub.security.shredding import SubjectKeyProvider

__all__ = [
    "Delivered",
    "Deliverer",
    "DeliveryFailed",
    "DeliveryInterrupted",
    "DeliveryLedger",
    "DeliveryStats",
    "FileDrop",
    "FileDropError",
    "FileFormat",
    "LedgerError",
    "Sink",
    "WebhookSink",
    "deliver",
    "delivery_group",
    "ledger_path",
    "open_sink",
    "redact_url",
]


def open_sink(
    target: str,
    *,
    partner_id: str,
    fmt: FileFormat = "jsonl",
    max_attempts: int = 5,
    backoff_s: float = 0.5,
    stop: threading.Event | None = None,
) -> Sink:
    """``file:DIR`` (or ``file://DIR``) -> FileDrop; ``http(s)://...`` -> WebhookSink."""
    if target.startswith(("http://", "https://")):
        return WebhookSink(target, max_attempts=max_attempts, backoff_s=backoff_s, stop=stop)
    if target.startswith("file:"):
        path = target.removeprefix("file:")
        path = path.removeprefix("//") if path.startswith("//") else path
        if not path:
            raise ConnectorError("file: needs a directory, e.g. file:/srv/drop/uwv")
        return FileDrop(Path(path), partner_id=partner_id, fmt=fmt)
    raise ConnectorError(f"unknown delivery target {target!r}: use file:DIR or http(s)://...")


def deliver(
    settings: HubSettings,
    partner_id: str,
    sink: Sink,
    *,
    registry: RegistryClient | None = None,
    registry_url: str | None = None,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
    subject_keys: SubjectKeyProvider | None = None,
) -> DeliveryStats:
    """Deliver ``partner_id``'s inbox to ``sink`` until ``stop`` (or idle); close all.

    Sealed special-category fields are delivered opened while a consent entitles the
    partner (``subject_keys``; by default the consent service's grants when
    ``HUB_CONSENT_URL`` and ``HUB_CONSENT_API_KEY`` are set), else null."""
    client = PartnerClient(
        settings,
        partner_id,
        registry=registry,
        registry_url=registry_url,
        group_id=delivery_group(settings, partner_id, sink),
        subject_keys=subject_keys,
    )
    try:
        with DeliveryLedger(ledger_path(settings, partner_id, sink)) as ledger:
            deliverer = Deliverer(client, sink, ledger, stop=stop)
            try:
                return deliverer.run(idle_exit_s=idle_exit_s)
            finally:
                deliverer.close()
    finally:
        client.close()
