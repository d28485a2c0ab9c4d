"""The registry's store: every schema, version and config change, kept in a Kafka topic.

The topic (``HUB_SCHEMA_REGISTRY_TOPIC``, default ``_schemas``, one partition) holds
records in Confluent Schema Registry's own JSON layout, so the log reads like one a
Confluent registry would write::

    key   {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}
    value {"subject":"s","version":1,"id":7,"schema":"...","deleted":false}
          (+ "references": [...] when the schema uses other subjects' types)
          null = the version was deleted permanently
    key   {"keytype":"CONFIG","subject":"s"|null,"magic":0}
    value {"compatibilityLevel":"FULL"}        null = back to the default
    key   {"keytype":"DELETE_SUBJECT","subject":"s","magic":0}   (read, never written)
    value {"subject":"s","version":3}          soft-deletes versions 1..3
    key   {"keytype":"NOOP","magic":0}
    value {"maxId":12}                          highest id ever handed out (see below)

How it stays consistent:

* :meth:`KafkaSchemaStore.start` reads the whole topic, up to the *fetch* high
  watermark of its partition, before it serves anything; ``end_offsets()`` is never
  used (the embedded broker answers it wrongly). A reader thread then follows the topic.
* The in-memory view (:class:`RegistryState`) changes only by applying records read
  back from the topic, in log order. A write is produced, then the writer waits until
  the reader has applied its offset. So every registry process on the topic, and a
  restarted one, builds the same view from the same log.
* Two processes may race for the same id or the same (subject, version). Applying is
  deterministic: the record that comes *first* in the log wins, a later one that
  contradicts it is ignored, and the losing writer sees that when its record is read
  back and retries (:mod:`hub.registry.service`). A loser of a (subject, version) race
  writes the winner's value again, so the winner stays the latest value for that key
  and log compaction on Apache Kafka keeps it.
* Ids are never reused: the next id is one above every id ever seen in the log,
  including ids of deleted and ignored records. Because compaction could remove the
  record of a permanently deleted schema with the highest id, a permanent delete also
  writes a ``NOOP`` record carrying the high-water id.

Correctness does not rest on compaction (the embedded broker does none): the topic
only ever grows there, and replaying it gives the same view.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import (
    admin_client,
    consumer,
    discard_producer,
    kafka_errors,
    producer,
    wait_for_leaders,
)
from hub.registry.compatibility import CompatibilityLevel
from hub.registry.errors import StoreError, StoreTimeoutError
from hub.registry.schema import SchemaReference

__all__ = [
    "KafkaSchemaStore",
    "RegistryState",
    "SchemaText",
    "StoredVersion",
    "config_key",
    "noop_key",
    "schema_key",
]

_LOG = logging.getLogger(__name__)

_POLL_MS = 100
_FETCH_WAIT_MS = 100  # bounds read-back latency of a write (the reader's fetch long-poll)
_RETRY_S = 0.5


@dataclass(frozen=True)
class SchemaText:
    """A schema's identity: its canonical text and the references it resolves through."""

    text: str
    references: tuple[SchemaReference, ...] = ()


@dataclass(frozen=True)
class StoredVersion:
    """One version of a subject."""

    subject: str
    version: int
    schema_id: int
    schema: SchemaText
    deleted: bool = False


@dataclass
class RegistryState:
    """The registry's view, built only by :meth:`apply`-ing records in log order."""

    subjects: dict[str, dict[int, StoredVersion]] = field(default_factory=dict)
    schemas: dict[int, SchemaText] = field(default_factory=dict)
    """Every id ever bound, with its schema (kept after deletes, so ids stay stable)."""
    ids: dict[SchemaText, int] = field(default_factory=dict)
    configs: dict[str | None, CompatibilityLevel] = field(default_factory=dict)
    max_id: int = 0
    ignored: int = 0
    """Records that lost a race or could not be read (for diagnostics)."""

    # --- applying the log ---------------------------------------------------------------

    def apply(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        keytype = key.get("keytype")
        if keytype == "SCHEMA":
            self._apply_schema(key, value)
        elif keytype == "CONFIG":
            self._apply_config(key, value)
        elif keytype == "DELETE_SUBJECT":
            self._apply_delete_subject(key, value)
        elif keytype == "NOOP" and value and isinstance(value.get("maxId"), int):
            self.max_id = max(self.max_id, value["maxId"])
        # Other Confluent key types (MODE, CLEAR_SUBJECT, CONTEXT, ...) change nothing here.

    def _apply_schema(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        subject, version = str(key["subject"]), int(key["version"])
        if value is None:  # permanent delete of one version
            versions = self.subjects.get(subject, {})
            versions.pop(version, None)
            if not versions:
                self.subjects.pop(subject, None)
            return
        schema_id = int(value["id"])
        self.max_id = max(self.max_id, schema_id)
        text = SchemaText(
            str(value["schema"]),
            tuple(SchemaReference.from_json(r) for r in value.get("references") or ()),
        )
        existing = self.subjects.get(subject, {}).get(version)
        if existing is not None and (existing.schema_id != schema_id or existing.schema != text):
            self.ignored += 1  # a later writer lost the race for this (subject, version)
            return
        bound = self.schemas.get(schema_id)
        if bound is not None and bound != text:
            self.ignored += 1  # a later writer lost the race for this id
            return
        self.schemas[schema_id] = text
        self.ids.setdefault(text, schema_id)
        self.subjects.setdefault(subject, {})[version] = StoredVersion(
            subject, version, schema_id, text, bool(value.get("deleted", False))
        )

    def _apply_config(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        subject = key.get("subject")
        scope = None if subject is None else str(subject)
        if value is None or value.get("compatibilityLevel") is None:
            self.configs.pop(scope, None)
            return
        try:
            self.configs[scope] = CompatibilityLevel.parse(value["compatibilityLevel"])
        except HubError:
            self.ignored += 1

    def _apply_delete_subject(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        if value is None:
            return
        subject, upto = str(key["subject"]), int(value["version"])
        versions = self.subjects.get(subject, {})
        for number, entry in versions.items():
            if number <= upto:
                versions[number] = replace(entry, deleted=True)

    # --- queries -------------------------------------------------------------------------

    def versions(self, subject: str, *, deleted: bool = False) -> list[StoredVersion]:
        """The subject's versions, oldest first; soft-deleted ones only with ``deleted``."""
        entries = self.subjects.get(subject, {})
        return [entries[v] for v in sorted(entries) if deleted or not entries[v].deleted]

    def subject_names(self, *, deleted: bool = False) -> list[str]:
        return sorted(s for s in self.subjects if self.versions(s, deleted=deleted))

    def next_version(self, subject: str) -> int:
        """One above every version the subject has, soft-deleted ones included."""
        return max(self.subjects.get(subject, {}), default=0) + 1

    def referrers(self, reference: SchemaReference) -> list[StoredVersion]:
        """Versions (soft-deleted included) whose schema refers to ``reference``'s target."""
        return [
            entry
            for versions in self.subjects.values()
            for entry in versions.values()
            if any(
                r.subject == reference.subject and r.version == reference.version
                for r in entry.schema.references
            )
        ]


# --- record keys and values (Confluent's layout) ------------------------------------------------


def _dumps(data: dict[str, Any] | None) -> bytes | None:
    if data is None:
        return None
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def schema_key(subject: str, version: int) -> dict[str, Any]:
    return {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}


def schema_value(entry: StoredVersion) -> dict[str, Any]:
    value: dict[str, Any] = {
        "subject": entry.subject,
        "version": entry.version,
        "id": entry.schema_id,
        "schema": entry.schema.text,
        "deleted": entry.deleted,
    }
    if entry.schema.references:
        value["references"] = [r.to_json() for r in entry.schema.references]
    return value


def config_key(subject: str | None) -> dict[str, Any]:
    return {"keytype": "CONFIG", "subject": subject, "magic": 0}


def noop_key() -> dict[str, Any]:
    return {"keytype": "NOOP", "magic": 0}


# --- the store ---------------------------------------------------------------------------------


class KafkaSchemaStore:
    """A :class:`RegistryState` kept in, and followed from, a one-partition Kafka topic."""

    def __init__(
        self,
        settings: HubSettings,
        topic: str | None = None,
        *,
        timeout_s: float = 15.0,
    ) -> None:
        self._settings = settings
        self.topic = topic or settings.schema_registry_topic
        self._timeout_s = timeout_s
        self._tp = TopicPartition(self.topic, 0)
        self._state = RegistryState()
        self._cond = threading.Condition()
        self._position = 0  # next offset to apply
        self._highwater: int | None = None
        self._failure: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        self.write_lock = threading.RLock()
        """Held by the service around read-check-write sequences of this process."""
        self.resets = 0
        """Times the topic was found reset below what had been applied (data loss)."""

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> KafkaSchemaStore:
        """Create the topic if needed, read it to the high watermark, then follow it."""
        if self._thread is not None:
            return self
        self._ensure_topic()
        self._consumer = consumer(
            self._settings,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=_FETCH_WAIT_MS,
            client_id=f"{self._settings.client_id}-registry",
        )
        try:
            with kafka_errors(f"reading the schema store {self.topic}"):
                self._consumer.assign([self._tp])
                self._consumer.seek_to_beginning(self._tp)
            self._producer = producer(
                self._settings, linger_ms=0, client_id=f"{self._settings.client_id}-registry"
            )
        except HubError as exc:
            self._close_clients()
            raise StoreError(f"schema store {self.topic}: {exc}") from exc
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._follow, name=f"registry-store-{self.topic}", daemon=True
        )
        self._thread.start()
        try:
            self._wait(lambda: self._highwater is not None and self._position >= self._highwater)
        except HubError:
            self.stop()
            raise
        _LOG.info(
            "schema store %s loaded: %d records, %d subjects, max id %d",
            self.topic,
            self._position,
            len(self._state.subjects),
            self._state.max_id,
        )
        return self

    def _pause(self) -> None:
        """Stop the follower and close the clients; the view in memory stays."""
        self.stop()

    def _resume(self) -> None:
        """Follow again with fresh clients, from the beginning of the (new) topic; applying
        what is read again is idempotent. Waits until it has read to the high watermark."""
        with self._cond:
            self._position = 0
            self._highwater = None
        self.start()

    def stop(self) -> None:
        """Stop following the topic and close the Kafka clients; idempotent."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self._timeout_s)
            self._thread = None
        self._close_clients()

    def _close_clients(self) -> None:
        if self._producer is not None:
            discard_producer(self._producer, timeout_s=5)
            self._producer = None
        if self._consumer is not None:
            with suppress(KafkaError, OSError):
                self._consumer.close()
            self._consumer = None

    def __enter__(self) -> KafkaSchemaStore:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _ensure_topic(self, *, recreate_wrong: bool = False) -> None:
        """Create the one-partition topic if missing. ``recreate_wrong``: a topic with more
        partitions (auto-created by a client after the broker lost it) is deleted and
        created again — only when its content is known to be lost anyway."""
        try:
            admin = admin_client(self._settings)
        except HubError as exc:
            raise StoreError(f"schema store {self.topic}: {exc}") from exc
        try:
            with kafka_errors(f"creating the schema store topic {self.topic}"):
                partitions = self._create_if_missing(admin)
                if recreate_wrong and partitions and partitions[0] != 1:
                    _LOG.warning(
                        "schema store %s has %d partitions (auto-created after a data loss); "
                        "recreating it with 1",
                        self.topic,
                        partitions[0],
                    )
                    admin.delete_topics([self.topic])
                    deadline = time.monotonic() + self._timeout_s
                    while self.topic in set(admin.list_topics()):
                        if time.monotonic() > deadline:
                            raise StoreError(f"schema store {self.topic} was not deleted")
                        time.sleep(0.1)
                    partitions = self._create_if_missing(admin)
        except HubError as exc:
            raise StoreError(f"schema store {self.topic}: {exc}") from exc
        finally:
            admin.close()
        if partitions and partitions[0] != 1:
            raise StoreError(
                f"the schema store topic {self.topic} has {partitions[0]} partitions; "
                "it must have exactly 1 so every registry reads one order"
            )

    def _create_if_missing(self, admin: Any) -> list[int]:
        if self.topic not in set(admin.list_topics()):
            with suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [
                        NewTopic(
                            self.topic,
                            1,
                            self._settings.replication_factor,
                            topic_configs={"cleanup.policy": "compact"},
                        )
                    ]
                )
            wait_for_leaders(admin, [self.topic])
        described = admin.describe_topics([self.topic])
        return [len(d["partitions"]) for d in described if d.get("error_code", 0) == 0]

    # --- following the topic -----------------------------------------------------------------

    def _follow(self) -> None:
        cons = self._consumer
        assert cons is not None
        while not self._stopping.is_set():
            try:
                batches = cons.poll(timeout_ms=_POLL_MS)
                position = cons.position(self._tp)
                highwater = cons.highwater(self._tp)
            except (KafkaError, OSError, ValueError) as exc:
                with self._cond:
                    self._failure = f"{type(exc).__name__}: {exc}"
                    self._cond.notify_all()
                _LOG.warning("schema store %s: %s; retrying", self.topic, self._failure)
                self._stopping.wait(_RETRY_S)
                continue
            with self._cond:
                records = batches.get(self._tp, [])
                if (records and records[0].offset < self._position) or position < self._position:
                    # The topic starts again below what was applied: the broker lost it
                    # (memory-only broker restarted, topic recreated). The view in memory
                    # stays; hub.recovery writes it back with republish().
                    _LOG.critical(
                        "schema store %s was reset by the broker (read up to offset %d, now "
                        "at %d): its records are gone; the registry keeps serving its view",
                        self.topic,
                        self._position,
                        records[0].offset if records else position,
                    )
                    self.resets += 1
                    self._position = records[0].offset if records else position
                for record in records:
                    self._apply(record.offset, record.key, record.value)
                self._position = max(self._position, position)
                if highwater is not None:
                    self._highwater = highwater
                self._failure = None
                self._cond.notify_all()

    def _apply(self, offset: int, key: bytes | None, value: bytes | None) -> None:
        try:
            key_json = json.loads(key) if key is not None else None
            value_json = json.loads(value) if value is not None else None
            if not isinstance(key_json, dict) or not (
                value_json is None or isinstance(value_json, dict)
            ):
                raise ValueError("key or value is not a JSON object")
            self._state.apply(key_json, value_json)
        except (ValueError, KeyError, TypeError, HubError) as exc:
            self._state.ignored += 1
            _LOG.warning("schema store %s: skipped offset %d: %s", self.topic, offset, exc)

    def _wait(self, ready: Any) -> None:
        deadline = time.monotonic() + self._timeout_s
        with self._cond:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    detail = f" (last error: {self._failure})" if self._failure else ""
                    raise StoreTimeoutError(
                        f"schema store {self.topic} was not read back within "
                        f"{self._timeout_s:.0f}s{detail}"
                    )
                if self._thread is None or not self._thread.is_alive():
                    raise StoreError(f"schema store {self.topic} is not running")
                self._cond.wait(min(remaining, 0.5))

    # --- reading and writing -------------------------------------------------------------------

    @property
    def state(self) -> RegistryState:
        """The current view; read it while holding :meth:`reading`."""
        return self._state

    def reading(self) -> threading.Condition:
        """A context manager that keeps the view still while it is read."""
        return self._cond

    def write(self, key: dict[str, Any], value: dict[str, Any] | None) -> int:
        """Append one record and return once it has been applied; returns its offset."""
        prod = self._producer
        if prod is None:
            raise StoreError(f"schema store {self.topic} is not running")
        try:
            with kafka_errors(f"writing to the schema store {self.topic}"):
                metadata = prod.send(
                    self.topic, key=_dumps(key), value=_dumps(value), partition=0
                ).get(timeout=self._timeout_s)
        except HubError as exc:
            raise StoreError(f"schema store {self.topic}: {exc}") from exc
        offset = int(metadata.offset)
        self._wait(lambda: self._position > offset)
        return offset

    def write_schema(self, entry: StoredVersion) -> None:
        self.write(schema_key(entry.subject, entry.version), schema_value(entry))

    def tombstone_schema(self, subject: str, version: int) -> None:
        self.write(schema_key(subject, version), None)

    def write_config(self, subject: str | None, level: CompatibilityLevel | None) -> None:
        value = None if level is None else {"compatibilityLevel": level.value}
        self.write(config_key(subject), value)

    def write_high_water(self, max_id: int) -> None:
        self.write(noop_key(), {"maxId": max_id})

    def republish(self) -> int:
        """Write the whole view back to the topic; returns the records written.

        After the broker lost the topic (:mod:`hub.continuity`), the registry's memory is
        the only copy of the schemas that records on the wire refer to by id. Every
        version (ids unchanged, soft deletes kept), every compatibility setting and the
        highest id are appended again; applying them is idempotent, so records that
        survived are not disturbed, and registries started later read the same ids."""
        with self.write_lock:
            # Stop following while the topic is put right: a follower asking for a missing
            # topic makes the embedded broker auto-create it with 4 partitions.
            self._pause()
            try:
                self._ensure_topic(recreate_wrong=True)
            finally:
                self._resume()
            with self._cond:
                entries = sorted(
                    (e for versions in self._state.subjects.values() for e in versions.values()),
                    key=lambda e: (e.schema_id, e.subject, e.version),
                )
                configs = dict(self._state.configs)
                max_id = self._state.max_id
            for entry in entries:
                self.write_schema(entry)
            for scope, level in configs.items():
                self.write_config(scope, level)
            self.write_high_water(max_id)
            _LOG.warning(
                "schema store %s republished: %d versions, %d settings, max id %d",
                self.topic,
                len(entries),
                len(configs),
                max_id,
            )
            return len(entries) + len(configs) + 1

    @property
    def records_read(self) -> int:
        """Offsets applied so far (the next offset to read)."""
        return self._position

    def snapshot(self) -> Iterator[StoredVersion]:
        """Every version of every subject (soft-deleted included), for diagnostics."""
        with self._cond:
            entries = [e for versions in self._state.subjects.values() for e in versions.values()]
        yield from entries
