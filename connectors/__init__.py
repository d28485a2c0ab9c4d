"""Connectors, one package per partner kind, turning partner exports into canonical records."""

from __future__ import annotations

__all__: list[str] = []
