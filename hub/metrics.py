"""Prometheus metrics of every hub process, under one set of standard names.

One :class:`HubMetrics` per process (:func:`process_metrics`) holds its own
:class:`prometheus_client.CollectorRegistry` (never the library's global one), so tests
can build fresh, isolated instances with ``HubMetrics()``. :mod:`hub.observability`
serves it at ``/metrics``.

The metrics
-----------

=========================================  =========  =====================================
name                                       type       labels
=========================================  =========  =====================================
``rmt_records_in_total``                   counter    ``topic``, ``partner``
``rmt_records_out_total``                  counter    ``topic``, ``partner``
``rmt_records_dead_lettered_total``        counter    ``topic``, ``partner``, ``reason``
``rmt_consent_decisions_total``            counter    ``outcome``
``rmt_delivery_latency_seconds``           histogram  (none)
``rmt_consumer_lag``                       gauge      ``topic``, ``partition``, ``group``
``rmt_broker_data_loss_total``             counter    (none)
``rmt_consents_expiring``                  gauge      (none)
``rmt_erasure_acks_overdue``               gauge      (none)
=========================================  =========  =====================================

plus the process collectors (``process_*``, ``python_gc_*``, ``python_info``).

* ``partner`` is the partner the record came **from** (records in, dead-lettered) or goes
  **to** (records out), as its partner id; ``hub`` for the hub's own topics (consent
  changes, audit). ``topic`` is the full topic name.
* ``reason`` of a dead letter is a short, fixed code (``schema``, ``no_consent``,
  ``undecodable``, ...), never a message text.
* ``outcome`` of a consent decision: ``allowed`` or ``denied`` (the consent service
  counts every decision it answers); the router may add ``partial`` for a record that
  is delivered with some categories withheld.
* ``rmt_delivery_latency_seconds``: from the source event's ``occurred_at`` to the
  moment the record is written to the recipient's inbox (end to end).
* ``rmt_consumer_lag``: high watermark minus the consumer's position, per partition.
* ``rmt_consents_expiring``: GIVEN consents whose ``valid_until`` falls within the next
  30 days (the consent service; refreshed by its background loop).
* ``rmt_erasure_acks_overdue``: erasure notices of the last 90 days that their recipient
  has not acknowledged within 7 days (the consent service; refreshed by its background
  loop).
* ``rmt_broker_data_loss_total``: times this process found the cluster without the
  incarnation marker the hub stamped (:mod:`hub.continuity`).

Label values are never personal data: only topic names, partner ids, partition numbers,
group ids and fixed codes. As a last guard a value that looks like a citizen service
number (eight or nine digits) is refused with ``ValueError``.

Using it (the router, for example)::

    from hub.metrics import process_metrics

    metrics = process_metrics()
    metrics.record_in(outbox_topic, publisher)                # read from a partner outbox
    metrics.record_out(inbox_topic, recipient)                # delivered to an inbox
    metrics.dead_letter(outbox_topic, publisher, "schema")    # sent to the dead letters
    metrics.consent_decision("allowed")                       # or "denied" / "partial"
    metrics.observe_latency(delivered_at - occurred_at)       # seconds (float)
    metrics.set_lag(outbox_topic, partition, group, highwater - position)

and serve it over HTTP with ``app.include_router(observability_router(metrics, {...}))``
(:mod:`hub.observability`). Tests read values with :meth:`HubMetrics.value`.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

__all__ = [
    "CONTENT_TYPE",
    "LATENCY_BUCKETS",
    "HubMetrics",
    "process_metrics",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Prometheus text exposition format's content type."""

LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)
"""Upper bounds (seconds) of the end-to-end latency histogram."""

_BSN_LIKE = re.compile(r"^\d{8,9}$")


def _label(value: object) -> str:
    text = str(value)
    if _BSN_LIKE.match(text.replace(" ", "").replace(".", "")):
        raise ValueError("a metric label value must never be a citizen service number")
    return text


class HubMetrics:
    """The standard metrics of a hub process, in a registry of their own."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, process_collectors: bool = True
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        if process_collectors:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.records_in = Counter(
            "rmt_records_in",
            "Records read, per topic and the partner they came from.",
            ("topic", "partner"),
            registry=self.registry,
        )
        self.records_out = Counter(
            "rmt_records_out",
            "Records written, per topic and the partner they go to.",
            ("topic", "partner"),
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "rmt_records_dead_lettered",
            "Records refused (dead-lettered or skipped), per topic, partner and reason code.",
            ("topic", "partner", "reason"),
            registry=self.registry,
        )
        self.consent_refused = Counter(
            "rmt_consent_changes_refused",
            "Consent feed records the router refused (unsigned, forged, another signer, out "
            "of chain): they had no effect; per reason code.",
            ("reason",),
            registry=self.registry,
        )
        self.consent_decisions = Counter(
            "rmt_consent_decisions",
            "Consent decisions, by outcome (allowed, denied, partial).",
            ("outcome",),
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "rmt_delivery_latency_seconds",
            "End-to-end latency: source event occurred_at to delivery in the inbox.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "rmt_consumer_lag",
            "High watermark minus the consumer position, per partition.",
            ("topic", "partition", "group"),
            registry=self.registry,
        )

        self.broker_data_loss = Counter(
            "rmt_broker_data_loss",
            "Times the cluster was found without the incarnation marker this hub stamped "
            "(the broker lost its data; see hub.continuity).",
            registry=self.registry,
        )

        self.consents_expiring = Gauge(
            "rmt_consents_expiring",
            "GIVEN consents whose valid_until falls within the next 30 days.",
            registry=self.registry,
        )
        self.erasure_acks_overdue = Gauge(
            "rmt_erasure_acks_overdue",
            "Erasure notices of the last 90 days not acknowledged within 7 days.",
            registry=self.registry,
        )

    # --- recording -------------------------------------------------------------------------
    def record_in(self, topic: str, partner: str, count: int = 1) -> None:
        self.records_in.labels(_label(topic), _label(partner)).inc(count)

    def record_out(self, topic: str, partner: str, count: int = 1) -> None:
        self.records_out.labels(_label(topic), _label(partner)).inc(count)

    def dead_letter(self, topic: str, partner: str, reason: str, count: int = 1) -> None:
        self.dead_lettered.labels(_label(topic), _label(partner), _label(reason)).inc(count)

    def consent_change_refused(self, reason: str, count: int = 1) -> None:
        self.consent_refused.labels(_label(reason)).inc(count)

    def consent_decision(self, outcome: str, count: int = 1) -> None:
        self.consent_decisions.labels(_label(outcome)).inc(count)

    def set_consents_expiring(self, count: int) -> None:
        self.consents_expiring.set(max(0, count))

    def set_erasure_acks_overdue(self, count: int) -> None:
        self.erasure_acks_overdue.set(max(0, count))

    def observe_latency(self, seconds: float) -> None:
        self.delivery_latency.observe(max(0.0, seconds))

    def set_lag(self, topic: str, partition: int, group: str, lag: int) -> None:
        self.consumer_lag.labels(_label(topic), str(partition), _label(group)).set(max(0, lag))

    # --- reading ---------------------------------------------------------------------------
    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0.0 when it has none yet), e.g.
        ``value("rmt_records_out_total", topic=t, partner="uwv")``."""
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    def exposition(self) -> bytes:
        """Everything in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


_PROCESS: HubMetrics | None = None
_PROCESS_LOCK = threading.Lock()


def process_metrics() -> HubMetrics:
    """This process's metrics (created on first use; every service of the process shares it)."""
    global _PROCESS  # noqa: PLW0603 - one registry per process, by design
    with _PROCESS_LOCK:
        if _PROCESS is None:
            _PROCESS = HubMetrics()
        return _PROCESS
