"""Canonical Avro schemas of the hub and the domain vocabulary they use.

The ``*.avsc`` files in this package are the source of truth; :func:`load_schemas`
parses and checks them. The pydantic models are in :mod:`schemas.models`, Avro
encoding and decoding in :mod:`schemas.codec`, example records in :mod:`schemas.examples`.
"""

from __future__ import annotations

from schemas.loader import MESSAGE_ROLE, NAMESPACE, SchemaSet, load_schemas

__all__ = ["MESSAGE_ROLE", "NAMESPACE", "SchemaSet", "load_schemas"]
