"""Audit records as the router writes them (chained and hub-signed), for consent-service
tests that stand in for the router: with record security on, the consent service takes
only such records as disclosures."""

from __future__ import annotations

from hub.config import HubSettings
from hub.kafka import producer
from hub.router.validation import partition_of
from hub.security.audit_chain import AuditChainer
from hub.security.config import partner_key_store
from hub.security.hub_identity import HUB_ID, ensure_hub_identity

__all__ = ["publish_hub_audit"]


def publish_hub_audit(settings: HubSettings, topic: str, key: bytes, value: bytes) -> None:
    """Write ``value`` to ``topic`` as the hub's audit entry (a chain of its own that
    starts at this entry; on the key's partition); waits for the acknowledgement."""
    store = partner_key_store(settings)
    ensure_hub_identity(store)
    chainer = AuditChainer(store.private(HUB_ID))
    partition = partition_of(key, settings.topic_partitions)
    chainer.resume(partition, None)
    headers = chainer.link(partition, key=key, value=value, headers=[])
    sender = producer(settings)
    try:
        sender.send(topic, key=key, value=value, headers=headers, partition=partition).get(
            timeout=10
        )
    finally:
        sender.close()
