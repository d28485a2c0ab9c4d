"""The roll-out of the regional mobility teams: from which day each region is live.

Appendix 3 of the working document phases the start per region; the shipped
``schemas/reference/rollout.json`` is that phasing. A deployment replaces it with its
own file (``HUB_ROLLOUT_FILE``): one entry per phase, with the day it starts and its
regions, or ``"others"`` for every region no other phase names. The router refuses a
region's records until its phase has started (docs/decisions/0020-roll-out-phases.md).
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from hub.configfile import load_config
from schemas.regions import Region

__all__ = ["Rollout", "RolloutPhase", "load_rollout", "shipped_rollout"]

OTHERS = "others"


class RolloutPhase(BaseModel):
    """One phase: its regions go live on ``live_from``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: int
    live_from: date
    regions: list[Region] | Literal["others"]


class Rollout(BaseModel):
    """Every region's first live day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = ""
    phases: list[RolloutPhase]

    @model_validator(mode="after")
    def _each_region_once(self) -> Rollout:
        seen: set[Region] = set()
        others = [p.phase for p in self.phases if p.regions == OTHERS]
        if len(others) > 1:
            raise ValueError(f"phases {others} both say 'others': at most one may")
        for phase in self.phases:
            if isinstance(phase.regions, str):
                continue
            twice = seen & set(phase.regions)
            if twice:
                names = ", ".join(sorted(r.value for r in twice))
                raise ValueError(f"phase {phase.phase} names {names} again")
            seen |= set(phase.regions)
        if not others and seen != set(Region):
            missing = sorted(r.value for r in set(Region) - seen)
            raise ValueError(f"no phase for {', '.join(missing)} (add them, or a phase 'others')")
        return self

    def live_from(self, region: Region) -> date:
        """The first day ``region`` is live."""
        for phase in self.phases:
            if not isinstance(phase.regions, str) and region in phase.regions:
                return phase.live_from
        return next(p.live_from for p in self.phases if p.regions == OTHERS)

    def is_live(self, region: Region, day: date) -> bool:
        return day >= self.live_from(region)


def load_rollout(path: Path | None = None) -> Rollout:
    """The roll-out of ``path`` (JSON), or the shipped one; ConfigError says what is wrong."""
    if path is None:
        return shipped_rollout()
    return load_config(
        Rollout, "roll-out file", str(path), lambda: path.read_text(encoding="utf-8")
    )


@cache
def shipped_rollout() -> Rollout:
    """The working document's phasing (appendix 3)."""
    text = resources.files("schemas").joinpath("reference/rollout.json").read_text("utf-8")
    return Rollout.model_validate(json.loads(text))
