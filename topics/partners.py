"""The partner directory: which organisations take part, of which kind, in which region.

Plain data (JSON) validated by pydantic. The built-in directory ships with the package;
``HUB_PARTNERS_FILE`` replaces it. The topic catalogue derives each partner's inbox and
outbox from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.configfile import load_config
from hub.ids import PartnerId
from schemas.regions import Region
from schemas.vocabulary import PartnerKind

__all__ = ["Partner", "PartnerDirectory", "load_partners"]

PARTNER_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class Partner(BaseModel):
    """One participating organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: PartnerId = Field(pattern=PARTNER_ID_PATTERN, max_length=60)
    kind: PartnerKind
    name: str = Field(min_length=1)
    region: Region | None = Field(
        default=None, description="The region it serves; None for national parties."
    )


class PartnerDirectory(BaseModel):
    """All partners, unique by id."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    partners: tuple[Partner, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> PartnerDirectory:
        seen: set[str] = set()
        for partner in self.partners:
            if partner.id in seen:
                raise ValueError(f"partner id '{partner.id}' appears twice")
            seen.add(partner.id)
        return self

    def __iter__(self) -> Iterator[Partner]:  # type: ignore[override]
        return iter(self.partners)

    def __len__(self) -> int:
        return len(self.partners)

    def get(self, partner_id: str) -> Partner:
        for partner in self.partners:
            if partner.id == partner_id:
                return partner
        raise KeyError(f"unknown partner '{partner_id}'")

    def of_kind(self, kind: PartnerKind) -> tuple[Partner, ...]:
        return tuple(p for p in self.partners if p.kind is kind)


def load_partners(path: Path | None = None) -> PartnerDirectory:
    """Read the partner directory (the built-in one when ``path`` is None)."""
    if path is None:
        return load_config(
            PartnerDirectory,
            "partner directory",
            "built-in topics/partners.json",
            lambda: resources.files("topics").joinpath("partners.json").read_text("utf-8"),
        )
    return load_config(
        PartnerDirectory, "partner directory", str(path), lambda: path.read_text(encoding="utf-8")
    )
