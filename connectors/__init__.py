"""Connectors, one package per partner kind, turning partner exports into canonical records.

``uwv``, ``gemeente``, ``sbb`` (file importers), ``social_partners`` (a webhook),
``delivery`` (a partner's inbox to a file drop or a webhook), ``demo`` (synthetic input
files and feeding them in), and ``common`` (what they share). See README.md.
"""

from __future__ import annotations

__all__: list[str] = []
