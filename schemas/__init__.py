"""Canonical Avro schemas of the hub and the domain vocabulary they use."""

from __future__ import annotations

__all__: list[str] = []
