"""Make a cluster match the topic catalogue, idempotently.

``plan`` compares the catalogue with what the cluster reports; ``apply_catalogue``
creates missing topics and repairs what the broker lets it repair (more partitions,
changed configs). Running it twice changes nothing the second time and says so.

Only config keys the broker reports are compared: a broker that does not describe topic
configs (the embedded one) cannot show drift there, which the report states.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.config import HubSettings
from hub.kafka import admin_client, kafka_errors, wait_for_leaders
from topics.catalogue import TopicCatalogue, TopicSpec

__all__ = ["Action", "ApplyReport", "TopicChange", "apply_catalogue", "apply_to_cluster", "plan"]


class Action(StrEnum):
    CREATE = "create"
    UNCHANGED = "unchanged"
    ADD_PARTITIONS = "add partitions"
    ALTER_CONFIG = "alter config"
    DRIFT = "drift"  # differs, and cannot be repaired automatically


@dataclass(frozen=True)
class TopicChange:
    topic: TopicSpec
    action: Action
    detail: str = ""
    done: bool = False


@dataclass(frozen=True)
class ApplyReport:
    changes: tuple[TopicChange, ...]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return any(c.done for c in self.changes)

    @property
    def pending(self) -> tuple[TopicChange, ...]:
        """Differences that remain after this run (drift, or everything in a dry run)."""
        return tuple(c for c in self.changes if c.action is not Action.UNCHANGED and not c.done)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def summary(self) -> str:
        total = len(self.changes)
        if not any(c.action is not Action.UNCHANGED for c in self.changes):
            return f"nothing to change: all {total} topics match the catalogue"
        parts = [
            f"{self.count(action)} {action.value}"
            for action in Action
            if action is not Action.UNCHANGED and self.count(action)
        ]
        verb = "would apply" if self.dry_run else "applied"
        return f"{verb}: {', '.join(parts)} ({self.count(Action.UNCHANGED)} unchanged)"


def _partition_counts(admin: KafkaAdminClient, names: Sequence[str]) -> dict[str, int]:
    if not names:
        return {}
    described = admin.describe_topics(list(names))
    return {d["name"]: len(d["partitions"]) for d in described if d.get("error_code", 0) == 0}


def _reported_configs(admin: KafkaAdminClient, names: Sequence[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    described = admin.describe_configs(resources).get("topic", {})
    result: dict[str, dict[str, str]] = {}
    for name, entries in described.items():
        result[name] = {
            key: str(entry["value"] if isinstance(entry, dict) else entry)
            for key, entry in entries.items()
        }
    return result


def plan(admin: KafkaAdminClient, catalogue: TopicCatalogue) -> list[TopicChange]:
    """What would change to make the cluster match ``catalogue``."""
    with kafka_errors("reading the cluster's topics"):
        existing = set(admin.list_topics())
        present = [t.name for t in catalogue if t.name in existing]
        partitions = _partition_counts(admin, present)
        configs = _reported_configs(admin, present)
    changes: list[TopicChange] = []
    for topic in catalogue:
        if topic.name not in existing:
            changes.append(TopicChange(topic, Action.CREATE, f"{topic.partitions} partitions"))
            continue
        actual = partitions.get(topic.name, topic.partitions)
        if actual < topic.partitions:
            changes.append(
                TopicChange(topic, Action.ADD_PARTITIONS, f"{actual} -> {topic.partitions}")
            )
            continue
        if actual > topic.partitions:
            changes.append(
                TopicChange(
                    topic,
                    Action.DRIFT,
                    f"has {actual} partitions, catalogue says {topic.partitions}; "
                    "Kafka cannot remove partitions",
                )
            )
            continue
        reported = configs.get(topic.name, {})
        differing = {
            key: value
            for key, value in topic.configs().items()
            if key in reported and reported[key] != value
        }
        if differing:
            detail = ", ".join(f"{k}: {reported[k]} -> {v}" for k, v in differing.items())
            changes.append(TopicChange(topic, Action.ALTER_CONFIG, detail))
        else:
            changes.append(TopicChange(topic, Action.UNCHANGED))
    return changes


def _execute(admin: KafkaAdminClient, change: TopicChange) -> TopicChange:
    topic = change.topic
    try:
        if change.action is Action.CREATE:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            topic.name,
                            topic.partitions,
                            topic.replication_factor,
                            topic_configs=topic.configs(),
                        )
                    ]
                )
            except TopicAlreadyExistsError:
                return TopicChange(topic, Action.UNCHANGED, "created concurrently by another")
        elif change.action is Action.ADD_PARTITIONS:
            admin.create_partitions({topic.name: topic.partitions})
        elif change.action is Action.ALTER_CONFIG:
            admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic.name, configs=topic.configs())],
                incremental=True,
            )
        else:
            return change
    except KafkaError as exc:
        return TopicChange(
            topic, Action.DRIFT, f"{change.detail}; the broker refused: {type(exc).__name__}"
        )
    return TopicChange(topic, change.action, change.detail, done=True)


def _recreate(admin: KafkaAdminClient, change: TopicChange, timeout_s: float = 15.0) -> TopicChange:
    """Delete a topic with too many partitions and create it as the catalogue says."""
    topic = change.topic
    try:
        admin.delete_topics([topic.name])
        deadline = time.monotonic() + timeout_s
        while topic.name in set(admin.list_topics()):
            if time.monotonic() > deadline:
                return TopicChange(topic, Action.DRIFT, f"{change.detail}; delete did not finish")
            time.sleep(0.1)
    except KafkaError as exc:
        return TopicChange(
            topic, Action.DRIFT, f"{change.detail}; the broker refused: {type(exc).__name__}"
        )
    created = _execute(admin, TopicChange(topic, Action.CREATE))
    detail = f"recreated: {change.detail}"
    return TopicChange(topic, Action.CREATE, detail, done=created.done)


def apply_catalogue(
    admin: KafkaAdminClient,
    catalogue: TopicCatalogue,
    *,
    dry_run: bool = False,
    recreate_drifted: bool = False,
) -> ApplyReport:
    """Create and repair topics so the cluster matches ``catalogue``.

    ``recreate_drifted`` deletes and recreates topics with more partitions than the
    catalogue says. Only for recovery after a broker lost its data (hub.recovery): the
    embedded broker auto-creates any topic a client asks for with 4 partitions, whatever
    the client wants, and whatever such a topic holds was written after the loss."""
    changes = plan(admin, catalogue)
    if not dry_run:
        changes = [
            _recreate(admin, c)
            if recreate_drifted and c.action is Action.DRIFT
            else _execute(admin, c)
            for c in changes
        ]
        created = [c.topic.name for c in changes if c.done and c.action is Action.CREATE]
        if created:
            with kafka_errors("waiting for created topics"):
                wait_for_leaders(admin, created)
    return ApplyReport(tuple(changes), dry_run)


def apply_to_cluster(
    settings: HubSettings,
    catalogue: TopicCatalogue,
    *,
    dry_run: bool = False,
    recreate_drifted: bool = False,
) -> ApplyReport:
    """:func:`apply_catalogue` through an admin client of its own for ``settings``."""
    admin = admin_client(settings)
    try:
        return apply_catalogue(admin, catalogue, dry_run=dry_run, recreate_drifted=recreate_drifted)
    finally:
        admin.close()
