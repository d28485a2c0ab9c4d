"""Isolated hubs (own topic prefix, partner directory, keys) and record readers shared
by the connector tests and the reliability tests that drive connectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.config import HubSettings
from hub.registry import RegistryClient
from hub.sdk import CanonicalCodec, scan_topic
from hub.security.config import ensure_keys, partner_key_store, security_enabled
from hub.security.envelope import EnvelopeDecryptor, is_encrypted
from hub.security.headers import ENC_KEY
from hub.serde import SerializationContext
from schemas.models import CanonicalRecord
from topics import apply_to_cluster, build_catalogue, load_partners

PARTNERS = [
    {"id": "uwv", "kind": "UWV", "name": "UWV", "region": None},
    {"id": "sbb", "kind": "SBB", "name": "SBB", "region": None},
    {"id": "sp-werkgevers", "kind": "SOCIAL_PARTNER", "name": "Werkgevers", "region": None},
    {
        "id": "gemeente-amsterdam",
        "kind": "GEMEENTE",
        "name": "Gemeente Amsterdam",
        "region": "GROOT_AMSTERDAM",
    },
]
DATA = Path(__file__).parents[1] / "connectors" / "data"


def isolated_hub(
    base: HubSettings, registry_url: str, home: Path, prefix: str
) -> tuple[HubSettings, list[str]]:
    """Settings with their own topic prefix, partner directory (one partner of every kind)
    and data dir under ``home``, the catalogue applied and, with record security on, keys
    for every partner; and the topics created (the caller deletes them)."""
    partners = home / "partners.json"
    partners.write_text(json.dumps({"partners": PARTNERS}), encoding="utf-8")
    settings = base.model_copy(
        update={
            "topic_prefix": prefix,
            "partners_file": partners,
            "schema_registry_url": registry_url,
            "data_dir": home / "data",
        }
    )
    catalogue = build_catalogue(settings)
    apply_to_cluster(settings, catalogue)
    if security_enabled(settings):
        ensure_keys(settings, load_partners(partners))
    return settings, catalogue.names()


def read_records(
    settings: HubSettings, topic: str, *, keys: set[bytes] | None = None
) -> list[tuple[bytes | None, CanonicalRecord, dict[str, str]]]:
    """Every record on ``topic`` (key, decoded record, headers), up to the high watermark;
    encrypted values are decrypted with their recipient's key first. ``keys``: only the
    records under these keys (a shared topic may hold other tests' undecodable ones)."""
    found: list[tuple[bytes | None, CanonicalRecord, dict[str, str]]] = []
    assert settings.schema_registry_url is not None
    with RegistryClient(settings.schema_registry_url) as registry:
        codec = CanonicalCodec(registry)

        def visit(record: Any) -> None:
            if keys is not None and record.key not in keys:
                return
            ctx = SerializationContext(topic, partition=record.partition, offset=record.offset)
            headers = {k: bytes(v).decode() for k, v in record.headers or ()}
            found.append((record.key, codec.decode(plaintext(settings, record), ctx), headers))

        scan_topic(settings, topic, visit)
    return found


def plaintext(settings: HubSettings, record: Any) -> bytes:
    """The value of a kafka-python record, decrypted with its recipient's key if encrypted."""
    headers = [(str(k), bytes(v or b"")) for k, v in record.headers or ()]
    if not is_encrypted(headers):
        return bytes(record.value)
    store = partner_key_store(settings)
    recipient = store.directory().get(dict(headers)[ENC_KEY].decode()).partner_id
    return EnvelopeDecryptor(store.private_keys(recipient)).decrypt(
        topic=record.topic, key=record.key, value=record.value, headers=headers
    )
