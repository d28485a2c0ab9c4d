"""The registry's core: Confluent Schema Registry semantics over a :class:`KafkaSchemaStore`.

Knows nothing of HTTP. Every refusal is a :class:`~hub.registry.errors.RegistryError`
carrying Confluent's error code; :mod:`hub.registry.api` maps them to responses.

Semantics follow Confluent's registry:

* Registering a schema a subject already has (not deleted) returns its id, no new
  version. Otherwise the schema is checked against the subject's live versions under the
  subject's compatibility level (or the global one; default ``BACKWARD_TRANSITIVE``) and
  refused with 409 naming the field and rule, or stored as the next version.
* Ids are global: the same schema under two subjects has one id. A new schema gets one
  above every id the store has ever seen, so an id never names another schema, also
  after soft and permanent deletes.
* Versions of a subject count up and are not reused while any version (live or
  soft-deleted) remains. Deleting is soft first (``DELETE``), permanent second
  (``DELETE ...?permanent=true``).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace

import avro.schema

from hub.registry.compatibility import (
    DEFAULT_LEVEL,
    CompatibilityLevel,
    Incompatibility,
    check_compatibility,
)
from hub.registry.errors import (
    IncompatibleSchemaError,
    InvalidSchemaError,
    InvalidVersionError,
    ReferenceExistsError,
    SchemaNotFoundError,
    StoreError,
    SubjectConfigNotFoundError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from hub.registry.schema import AVRO, SchemaReference, canonical_text, parse_avro
from hub.registry.store import KafkaSchemaStore, RegistryState, SchemaText, StoredVersion

__all__ = ["CompatibilityReport", "RegistryService", "SchemaInput", "parse_version"]

_LOG = logging.getLogger(__name__)

_RACE_RETRIES = 10
_RACE_BACKOFF_S = 0.02  # times the attempt number, jittered: losers step aside
LATEST = "latest"


@dataclass(frozen=True)
class SchemaInput:
    """A schema as a client sends it (``schema``, ``schemaType``, ``references``)."""

    schema: str
    schema_type: str = AVRO
    references: tuple[SchemaReference, ...] = ()


@dataclass(frozen=True)
class CompatibilityReport:
    """The outcome of a compatibility test."""

    is_compatible: bool
    incompatibilities: tuple[Incompatibility, ...] = ()

    @property
    def messages(self) -> list[str]:
        return [str(i) for i in self.incompatibilities]


def parse_version(version: str | int) -> int | None:
    """A version number from a path segment: ``latest`` and ``-1`` give None (the latest)."""
    if isinstance(version, int):
        number = version
    elif version.strip().lower() == LATEST:
        return None
    else:
        try:
            number = int(version)
        except ValueError:
            number = 0
    if number == -1:
        return None
    if number < 1 or number > 2**31 - 1:
        raise InvalidVersionError(
            f"The specified version '{version}' is not a valid version id. Allowed values "
            'are between [1, 2^31-1] and the string "latest"'
        )
    return number


class RegistryService:
    """Subjects, versions, ids and compatibility, stored in ``store``."""

    def __init__(
        self, store: KafkaSchemaStore, *, default_level: CompatibilityLevel = DEFAULT_LEVEL
    ) -> None:
        self._store = store
        self.default_level = default_level

    # --- helpers -----------------------------------------------------------------------------

    @property
    def _state(self) -> RegistryState:
        return self._store.state

    def _identity(self, schema: SchemaInput) -> SchemaText:
        if schema.schema_type.upper() != AVRO:
            raise InvalidSchemaError(
                f"Invalid schema type {schema.schema_type!r}: this registry serves AVRO only"
            )
        return SchemaText(canonical_text(schema.schema), tuple(schema.references))

    def _reference_texts(self, references: tuple[SchemaReference, ...]) -> list[str]:
        """Texts of every referenced schema, dependencies first (caller holds the view)."""
        ordered: list[str] = []
        visiting: set[tuple[str, int]] = set()
        done: set[tuple[str, int]] = set()

        def visit(ref: SchemaReference) -> None:
            key = (ref.subject, ref.version)
            if key in done:
                return
            if key in visiting:
                raise InvalidSchemaError(
                    f"Invalid schema: circular reference through {ref.subject} v{ref.version}"
                )
            visiting.add(key)
            entry = self._state.subjects.get(ref.subject, {}).get(ref.version)
            if entry is None:
                raise InvalidSchemaError(
                    f"Invalid schema: reference {ref.name!r} to subject {ref.subject!r} "
                    f"version {ref.version} does not exist"
                )
            for inner in entry.schema.references:
                visit(inner)
            visiting.discard(key)
            done.add(key)
            ordered.append(entry.schema.text)

        for ref in references:
            visit(ref)
        return ordered

    def _parse(self, text: SchemaText) -> avro.schema.Schema:
        return parse_avro(text.text, self._reference_texts(text.references))

    def _live_versions(self, subject: str, *, deleted: bool = False) -> list[StoredVersion]:
        versions = self._state.versions(subject, deleted=deleted)
        if not versions:
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        return versions

    def _version(self, subject: str, version: str | int, *, deleted: bool) -> StoredVersion:
        number = parse_version(version)
        versions = self._live_versions(subject, deleted=deleted)
        if number is None:
            return versions[-1]
        for entry in versions:
            if entry.version == number:
                return entry
        raise VersionNotFoundError(f"Version {number} not found.")

    def level_for(self, subject: str | None) -> CompatibilityLevel:
        """The level that applies to ``subject``: its own, else the global, else default."""
        configs = self._state.configs
        if subject is not None and subject in configs:
            return configs[subject]
        return configs.get(None, self.default_level)

    def _incompatibilities(
        self, subject: str, new: avro.schema.Schema, against: list[StoredVersion]
    ) -> list[Incompatibility]:
        previous = [(f"version {e.version}", self._parse(e.schema)) for e in against]
        return check_compatibility(new, previous, self.level_for(subject))

    # --- subjects and versions ------------------------------------------------------------------

    def subjects(self, *, deleted: bool = False, prefix: str = "") -> list[str]:
        with self._store.reading():
            return [s for s in self._state.subject_names(deleted=deleted) if s.startswith(prefix)]

    def versions(self, subject: str, *, deleted: bool = False) -> list[int]:
        with self._store.reading():
            return [e.version for e in self._live_versions(subject, deleted=deleted)]

    def get_version(
        self, subject: str, version: str | int, *, deleted: bool = False
    ) -> StoredVersion:
        with self._store.reading():
            return self._version(subject, version, deleted=deleted)

    def schema_by_id(self, schema_id: int) -> SchemaText:
        """The schema with this id, while any version (soft-deleted too) still uses it."""
        with self._store.reading():
            text = self._state.schemas.get(schema_id)
            if text is not None and self.usages(schema_id):
                return text
        raise SchemaNotFoundError(f"Schema {schema_id} not found")

    def usages(self, schema_id: int, *, deleted: bool = True) -> list[StoredVersion]:
        """Every (subject, version) using the id."""
        with self._store.reading():
            return [
                entry
                for name in sorted(self._state.subjects)
                for entry in self._state.versions(name, deleted=deleted)
                if entry.schema_id == schema_id
            ]

    def referrers(self, subject: str, version: str | int) -> list[StoredVersion]:
        """Live versions whose schema refers to this subject version."""
        with self._store.reading():
            entry = self._version(subject, version, deleted=True)
            ref = SchemaReference(name="", subject=entry.subject, version=entry.version)
            return [u for u in self._state.referrers(ref) if not u.deleted]

    def lookup(self, subject: str, schema: SchemaInput, *, deleted: bool = False) -> StoredVersion:
        """The version of ``subject`` holding exactly this schema."""
        identity = self._identity(schema)
        with self._store.reading():
            for entry in reversed(self._live_versions(subject, deleted=deleted)):
                if entry.schema == identity:
                    return entry
            self._parse(identity)  # an invalid schema is a 422, not a 404
        raise SchemaNotFoundError("Schema not found")

    def register(self, subject: str, schema: SchemaInput) -> StoredVersion:
        """Register ``schema`` under ``subject``; the existing version if it is there."""
        identity = self._identity(schema)
        with self._store.write_lock:
            for attempt in range(_RACE_RETRIES):
                with self._store.reading():
                    live = self._state.versions(subject)
                    for entry in live:
                        if entry.schema == identity:
                            return entry
                    parsed = self._parse(identity)
                    issues = self._incompatibilities(subject, parsed, live)
                    if issues:
                        details = [str(i) for i in issues]
                        raise IncompatibleSchemaError(
                            "Schema being registered is incompatible with an earlier schema "
                            f'for subject "{subject}", details: [{"; ".join(details)}]',
                            details,
                        )
                    schema_id = self._state.ids.get(identity, self._state.max_id + 1)
                    candidate = StoredVersion(
                        subject, self._state.next_version(subject), schema_id, identity
                    )
                self._store.write_schema(candidate)
                with self._store.reading():
                    won = self._state.subjects.get(subject, {}).get(candidate.version)
                if won == candidate:
                    _LOG.info(
                        "registered %s version %d as id %d", subject, won.version, won.schema_id
                    )
                    return candidate
                if won is not None:
                    # Lost the (subject, version) race: make the winner the key's latest
                    # value again, so compaction keeps it, then try the next version.
                    self._store.write_schema(won)
                _LOG.info("registration of %s lost a race to another registry; retrying", subject)
                time.sleep(random.uniform(0, _RACE_BACKOFF_S * (attempt + 1)))  # noqa: S311
        raise StoreError(
            f"could not register a schema under {subject!r}: other registries kept winning "
            f"the race for ids and versions ({_RACE_RETRIES} attempts)"
        )

    def check(
        self, subject: str, schema: SchemaInput, version: str | int | None = None
    ) -> CompatibilityReport:
        """Test ``schema`` against one version (or, with None, every version per the level)."""
        identity = self._identity(schema)
        with self._store.reading():
            if version is None:
                against = self._state.versions(subject)
            else:
                against = [self._version(subject, version, deleted=False)]
            parsed = self._parse(identity)
            issues = self._incompatibilities(subject, parsed, against)
        return CompatibilityReport(not issues, tuple(issues))

    # --- deletes -----------------------------------------------------------------------------

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete every version, or permanently delete soft-deleted ones."""
        with self._store.write_lock:
            with self._store.reading():
                every = self._state.versions(subject, deleted=True)
                live = [e for e in every if not e.deleted]
                if not every:
                    raise SubjectNotFoundError(f"Subject '{subject}' not found.")
                if permanent and live:
                    raise SubjectNotSoftDeletedError(
                        f"Subject '{subject}' was not deleted first before being permanently "
                        "deleted"
                    )
                if not permanent and not live:
                    raise SubjectSoftDeletedError(
                        f"Subject '{subject}' was soft deleted.Set permanent=true to delete "
                        "permanently"
                    )
                for entry in every:
                    self._refuse_if_referenced(entry)
            if permanent:
                self._store.write_high_water(self._state.max_id)
                for entry in every:
                    self._store.tombstone_schema(subject, entry.version)
                if subject in self._state.configs:
                    self._store.write_config(subject, None)
                return [e.version for e in every]
            for entry in live:
                self._store.write_schema(replace(entry, deleted=True))
            return [e.version for e in live]

    def delete_version(self, subject: str, version: str | int, *, permanent: bool = False) -> int:
        """Soft-delete one version, or permanently delete a soft-deleted one."""
        with self._store.write_lock:
            with self._store.reading():
                latest_live = parse_version(version) is None and not permanent
                entry = self._version(subject, version, deleted=not latest_live)
                if permanent and not entry.deleted:
                    raise VersionNotSoftDeletedError(
                        f"Subject '{subject}' Version {entry.version} was not deleted first "
                        "before being permanently deleted"
                    )
                if not permanent and entry.deleted:
                    raise VersionSoftDeletedError(
                        f"Subject '{subject}' Version {entry.version} was soft deleted.Set "
                        "permanent=true to delete permanently"
                    )
                self._refuse_if_referenced(entry)
            if permanent:
                self._store.write_high_water(self._state.max_id)
                self._store.tombstone_schema(subject, entry.version)
            else:
                self._store.write_schema(replace(entry, deleted=True))
            return entry.version

    def _refuse_if_referenced(self, entry: StoredVersion) -> None:
        ref = SchemaReference(name="", subject=entry.subject, version=entry.version)
        users = [u for u in self._state.referrers(ref) if not u.deleted]
        if users:
            names = ", ".join(f"{u.subject} v{u.version}" for u in users)
            raise ReferenceExistsError(
                f"One or more references exist to the schema {{subject={entry.subject}, "
                f"version={entry.version}}}: {names}"
            )

    # --- config -----------------------------------------------------------------------------------

    def get_config(self, subject: str | None, *, default_to_global: bool = False) -> str:
        with self._store.reading():
            if subject is not None and subject not in self._state.configs and not default_to_global:
                raise SubjectConfigNotFoundError(
                    f"Subject '{subject}' does not have subject-level compatibility configured"
                )
            return self.level_for(subject).value

    def set_config(self, subject: str | None, level: str) -> CompatibilityLevel:
        parsed = CompatibilityLevel.parse(level)
        with self._store.write_lock:
            self._store.write_config(subject, parsed)
        return parsed

    def delete_config(self, subject: str | None) -> str:
        """Drop the subject's (or the global) level; returns the level it had."""
        with self._store.write_lock:
            with self._store.reading():
                if subject is not None and subject not in self._state.configs:
                    raise SubjectNotFoundError(f"Subject '{subject}' not found.")
                previous = self.level_for(subject).value
            self._store.write_config(subject, None)
        return previous
