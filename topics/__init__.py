"""The topic catalogue as code, the partner directory, and applying both to a cluster."""

from __future__ import annotations

from topics.apply import (
    Action,
    ApplyReport,
    TopicChange,
    apply_catalogue,
    apply_to_cluster,
    plan,
)
from topics.catalogue import (
    AGGREGATOR_PRINCIPAL,
    CONSENT_PRINCIPAL,
    MONITOR_PRINCIPAL,
    OPERATOR_PRINCIPAL,
    REGISTRY_PRINCIPAL,
    ROUTER_PRINCIPAL,
    SCHEMA_REGISTRY_PRINCIPAL,
    SERVICE_PRINCIPALS,
    CleanupPolicy,
    KeyKind,
    TopicCatalogue,
    TopicSpec,
    build_catalogue,
)
from topics.partners import Partner, PartnerDirectory, load_partners

__all__ = [
    "AGGREGATOR_PRINCIPAL",
    "CONSENT_PRINCIPAL",
    "MONITOR_PRINCIPAL",
    "OPERATOR_PRINCIPAL",
    "REGISTRY_PRINCIPAL",
    "ROUTER_PRINCIPAL",
    "SCHEMA_REGISTRY_PRINCIPAL",
    "SERVICE_PRINCIPALS",
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
    "apply_to_cluster",
    "build_catalogue",
    "load_partners",
    "plan",
]
