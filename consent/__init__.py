"""Consent: records, the policy matrix and decisions (plain domain code, no broker)."""

from __future__ import annotations

__all__: list[str] = []
