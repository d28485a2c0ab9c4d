"""The topic catalogue as code, the partner directory, and applying both to a cluster."""

from __future__ import annotations

from topics.apply import Action, ApplyReport, TopicChange, apply_catalogue, plan
from topics.catalogue import (
    HUB_PRINCIPAL,
    MONITOR_PRINCIPAL,
    CleanupPolicy,
    KeyKind,
    TopicCatalogue,
    TopicSpec,
    build_catalogue,
)
from topics.partners import Partner, PartnerDirectory, load_partners

__all__ = [
    "HUB_PRINCIPAL",
    "MONITOR_PRINCIPAL",
    "Action",
    "ApplyReport",
    "CleanupPolicy",
    "KeyKind",
    "Partner",
    "PartnerDirectory",
    "TopicCatalogue",
    "TopicChange",
    "TopicSpec",
    "apply_catalogue",
    "build_catalogue",
    "load_partners",
    "plan",
]
