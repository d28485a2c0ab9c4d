"""The schema registry: Confluent's REST API and semantics, embedded in the hub.

Partners' Confluent serializers (Java, .NET, Python) talk to it unchanged. In embedded
mode (``HUB_SCHEMA_REGISTRY_URL`` unset) the hub serves it itself, keeping schemas in
the ``_schemas`` topic (:mod:`hub.registry.store`); in production the same client
(:class:`RegistryClient`) talks to any Confluent-compatible registry by URL.

Layers: :mod:`~hub.registry.api` (routes -> controller) -> :mod:`~hub.registry.service`
(semantics) -> :mod:`~hub.registry.store` (the topic); compatibility rules in
:mod:`~hub.registry.compatibility`. The server side (:mod:`hub.registry.embedded`:
``EmbeddedRegistry``, ``registry_for``) is imported from its module, so clients and
serializers do not load FastAPI and uvicorn. Importing this package starts nothing.
"""

from __future__ import annotations

from hub.registry.client import RegisteredSchema, RegistryClient, client_for
from hub.registry.compatibility import DEFAULT_LEVEL, CompatibilityLevel, Incompatibility
from hub.registry.errors import IncompatibleSchemaError, RegistryError
from hub.registry.schema import SchemaReference

__all__ = [
    "DEFAULT_LEVEL",
    "CompatibilityLevel",
    "Incompatibility",
    "IncompatibleSchemaError",
    "RegisteredSchema",
    "RegistryClient",
    "RegistryError",
    "SchemaReference",
    "client_for",
]
