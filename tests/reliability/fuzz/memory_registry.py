"""A schema registry held in memory, for the in-process fuzz harnesses.

The harnesses exercise the wire-format decoder and the router's decode path without a
broker or an HTTP registry (libFuzzer runs them tens of thousands of times a second);
this class answers the same calls :class:`hub.registry.client.RegistryClient` does that
the serde layer uses: ``register``, ``lookup``, ``schema`` and ``version``, with the same
error (SchemaNotFoundError) for an id it does not hold.
"""

from __future__ import annotations

import json
from typing import Any

from hub.registry.client import RegisteredSchema
from hub.registry.errors import SchemaNotFoundError, SubjectNotFoundError
from hub.registry.schema import canonical_text

__all__ = ["MemoryRegistry"]


class MemoryRegistry:
    """Ids from 1 up, one per distinct schema text; subjects keep their versions."""

    url = "memory://registry"

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._by_id: dict[int, RegisteredSchema] = {}
        self._subjects: dict[str, list[int]] = {}

    def register(self, subject: str, schema: str | dict[str, Any], references: Any = ()) -> int:
        text = schema if isinstance(schema, str) else canonical_text(schema)
        text = canonical_text(json.loads(text))
        schema_id = self._ids.get(text)
        if schema_id is None:
            schema_id = self._ids[text] = len(self._ids) + 1
            self._by_id[schema_id] = RegisteredSchema(schema_id, text, subject=subject)
        versions = self._subjects.setdefault(subject, [])
        if schema_id not in versions:
            versions.append(schema_id)
        return schema_id

    def lookup(self, subject: str, schema: str | dict[str, Any], *_: Any, **__: Any) -> Any:
        schema_id = self.register(subject, schema)
        return self._by_id[schema_id]

    def schema(self, schema_id: int) -> RegisteredSchema:
        found = self._by_id.get(schema_id)
        if found is None:
            raise SchemaNotFoundError(f"Schema {schema_id} not found")
        return found

    def version(self, subject: str, version: int | str = "latest") -> RegisteredSchema:
        versions = self._subjects.get(subject)
        if not versions:
            raise SubjectNotFoundError(f"Subject {subject!r} not found")
        index = -1 if version == "latest" else int(version) - 1
        return self._by_id[versions[index]]

    def close(self) -> None:
        pass
