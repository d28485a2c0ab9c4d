"""Monitor settings with topics of their own, and their clean-up."""

from __future__ import annotations

import uuid
from pathlib import Path

from kafka.admin import NewTopic

from hub.config import HubSettings
from hub.kafka import admin_client, create_topics
from topics.catalogue import build_catalogue


def make_monitor_env(hub_settings: HubSettings, registry_url: str, home: Path) -> HubSettings:
    """Settings with a prefix of their own, the monitor topic created (4 partitions)."""
    prefix = f"m{uuid.uuid4().hex[:10]}"
    settings = hub_settings.model_copy(
        update={
            "topic_prefix": prefix,
            "schema_registry_url": registry_url,
            "data_dir": home / prefix,
        }
    )
    spec = build_catalogue(settings).monitor_events
    admin = admin_client(settings)
    try:
        create_topics(admin, [NewTopic(spec.name, spec.partitions, 1)])
    finally:
        admin.close()
    return settings


def drop_topics(settings: HubSettings, *extra: str) -> None:
    admin = admin_client(settings)
    try:
        names = [
            n for n in admin.list_topics() if n.startswith(settings.topic_prefix) or n in extra
        ]
        if names:
            admin.delete_topics(names)
    finally:
        admin.close()
