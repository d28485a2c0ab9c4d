"""What a mapper asks of its MapContext's client, without a broker: the partner id and
pseudonyms (the hub's keyed hash of a BSN, with the public development key)."""

from __future__ import annotations

import hashlib
import hmac

from connectors.common import MapContext

__all__ = ["context"]


class _Client:
    def __init__(self, partner_id: str) -> None:
        self.partner_id = partner_id

    def pseudonym(self, bsn: str) -> str:
        if not bsn.isdigit() or len(bsn) not in (8, 9):
            raise ValueError("a BSN has 8 or 9 digits")
        return "psn-" + hmac.new(b"fuzz", bsn.encode(), hashlib.sha256).hexdigest()[:24]


def context(partner_id: str) -> MapContext:
    return MapContext(_Client(partner_id))  # type: ignore[arg-type]
