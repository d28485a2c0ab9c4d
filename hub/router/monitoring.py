"""The router's feed of the national monitor: monitor events for every record it accepts.

For each person record the router accepts (it passed validation), :class:`MonitorFeed`
calls :func:`hub.monitor.derive.derive` and returns the events as writes to the monitor
topic (``catalogue.monitor_events``), in the same batch as the record's other writes:
wire format through the schema registry, CloudEvents headers (``ce_id`` = the monitor
event id), keyed by the **monitor pseudonym**, in the partition that key hashes to
(murmur2, as a Kafka producer's default partitioner would choose it; not the
partition of the client pseudonym, which would tell the monitor something about it).

:class:`~hub.router.processing.RouterCore` takes the feed as ``monitor``; every worker
:func:`~hub.router.runtime.run_worker` starts has it (``RouterOptions.monitor_events``,
on by default), with the keyring :func:`~hub.monitor.pseudonym.load_keyring` finds
(``HUB_MONITOR_KEY``, else the key files in the data dir - every worker of a hub must
hold the same keys, or one person gets several pseudonyms).

Not gated on consent (a decision)
---------------------------------
Monitor events are emitted whatever the subject's consents say, and a withdrawal does
not take them back. They are not a disclosure of the person's data to a partner: the
policy matrix (``consent/policy_matrix.json``) lets the MONITORING purpose have
``meta`` and ``statistical`` data only - generalised attributes and amounts, a monitor
pseudonym under a key no partner holds, no direct identifier and not even the partners'
pseudonym (DOMAIN.md: "the national monitor needs none of the direct identifiers"). The
bi-monthly report to the national steering group and the cashier's budget figures must
count everyone served, not only those who consented to data *exchange* between
partners: gating would bias the figures and leave commitments from the pooled budget
out. Consent in DOMAIN.md governs what passes between the partners ("who needs which
data to draw up and use the personal arrangement"); the router's own hub-internal
processing (validation, routing state) is not gated either. Records must still be valid:
a refused record gives no monitor events.

Where the pseudonym goes
------------------------
The monitor pseudonym (and the :class:`~hub.monitor.derive.MonitorSubject` holding it)
is written to the monitor topic and to the hub-internal routing-state topic only, never
to an inbox, a dead letter, a notice, the audit topic, a log line or the status file.

State (in :class:`~hub.router.state.SubjectState`, persisted in the routing state)
---------------------------------------------------------------------------------------
* ``monitor``: the person's :class:`MonitorSubject`, made from each accepted
  :class:`ClientProfile` (:func:`subject_from_profile`; it needs the BSN, which only a
  profile carries). A record about a person without one (no profile accepted yet) gives
  no events: counted in :attr:`MonitorFeed.stats` (``no_subject``) and logged.
* ``arrangements``: the latest accepted version of each arrangement - the
  ``previous_arrangement`` :func:`derive` compares a new version with;
* ``monitor_prior``: the version before that one, so a replay of the latest version
  (after a crash) is derived again exactly against what it was derived against first.

A version older than the one the state holds (a lower revision, out of order) gives no
monitor events: the router's state keeps the newer version, and the monitor's figures
follow the router's state.

At least once, deduplicated by event id
---------------------------------------
Event ids are deterministic (keyed hashes of the step, :mod:`hub.monitor.pseudonym`), so
routing a record again gives the same ids. Within a worker's assignment an id already
written is skipped (``PartitionState.written``, like every other write of the router),
so a replayed record writes no second event. The loader does not read the monitor topic
(it is not partitioned like the client-pseudonym topics), so after a restart or
rebalance a record routed again - a replay of the uncommitted tail, or a retried batch -
may write an event a second time: the national monitor drops it,
:class:`~hub.monitor.aggregate.Aggregator` counts each event id once per person. (With
record security on, a partner's second copy of a record is refused before routing by the
replay guard; what reaches the feed again is then a redelivery of the same offsets.)

An accepted record routed again is derived again: records without routing state
(referral, outcome) always; an intake or transfer from the person's current subject; an
arrangement version when it is still the latest of its arrangement, against
``monitor_prior``. A version that a later one in the same failed batch superseded is not
derived again (its context is gone): its events are lost only when the batch's routing
state landed and its monitor events did not. Writing the routing-state snapshots after
the batch's other writes are acknowledged (as the audit is) would close that gap.

Failures never refuse or hold a record: a :class:`~hub.monitor.errors.MonitorError` (no
region known, a key missing) - or a bug - is logged and counted (``failed``), and the
record is routed as it would be without the monitor.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from hub.config import HubSettings
from hub.monitor.derive import DeriveContext, derive, subject_from_profile
from hub.monitor.errors import MonitorError
from hub.monitor.pseudonym import MonitorPseudonymiser, load_keyring
from hub.router.processing import Write
from hub.router.state import PartitionState, SubjectState, superseded
from hub.router.validation import partition_of
from schemas.models import ClientProfile, MonitorEvent, PersonalArrangement, PersonRecord
from topics.catalogue import TopicCatalogue
from topics.partners import Partner

__all__ = ["MonitorFeed"]

_LOG = logging.getLogger(__name__)

Claim = Callable[[PartitionState, str], bool]
"""Claims a write id: True when it is not written yet (and notes it), False to skip it."""


class MonitorFeed:
    """Derives the monitor events of accepted records; plain Python, no I/O."""

    def __init__(self, pseudonymiser: MonitorPseudonymiser, *, topic: str, partitions: int) -> None:
        self.pseudonymiser = pseudonymiser
        self.topic = topic
        self.partitions = partitions
        self.stats: Counter[str] = Counter()
        """``events`` written, ``no_subject`` (records before any profile), ``failed``,
        ``superseded`` (out-of-order versions), ``not_rederived`` (see the module doc)."""

    @classmethod
    def from_settings(cls, settings: HubSettings, catalogue: TopicCatalogue) -> MonitorFeed:
        """The feed with the monitor keyring of ``settings`` (:func:`load_keyring`)."""
        spec = catalogue.monitor_events
        return cls(
            MonitorPseudonymiser(load_keyring(settings)),
            topic=spec.name,
            partitions=spec.partitions,
        )

    def writes(
        self,
        state: PartitionState,
        record: PersonRecord,
        publisher: Partner,
        *,
        replay: bool,
        claim: Claim,
    ) -> list[Write]:
        """The monitor writes of the accepted ``record``; call it before the record is
        applied to the subject's state (``replay``: it was applied before)."""
        try:
            events = self._events(state, record, publisher, replay=replay)
        except MonitorError as exc:
            self.stats["failed"] += 1
            _LOG.warning("monitor: no events for %s %s: %s", record.avro_name, record.event_id, exc)
            return []
        except Exception:  # a bug here must neither refuse nor hold partner traffic
            self.stats["failed"] += 1
            _LOG.exception("monitor: deriving %s %s failed", record.avro_name, record.event_id)
            return []
        writes = [self._write(event) for event in events if claim(state, event.event_id)]
        self.stats["events"] += len(writes)
        return writes

    def _write(self, event: MonitorEvent) -> Write:
        key = event.monitor_pseudonym.encode("ascii")
        return Write(self.topic, partition_of(key, self.partitions), key, event, event.event_id)

    def _events(
        self, state: PartitionState, record: PersonRecord, publisher: Partner, *, replay: bool
    ) -> list[MonitorEvent]:
        subject = state.subjects.get(record.client_pseudonym)
        if isinstance(record, ClientProfile):
            if not replay or subject is None or subject.monitor is None:
                subject = subject or state.subject(record.client_pseudonym)
                subject.monitor = subject_from_profile(record, self.pseudonymiser, subject.monitor)
            return []  # a profile is no step
        if subject is None or subject.monitor is None:
            self.stats["no_subject"] += 1
            _LOG.warning(
                "monitor: no events for %s %s: no profile of the person accepted yet",
                record.avro_name,
                record.event_id,
            )
            return []
        previous: PersonalArrangement | None = None
        if isinstance(record, PersonalArrangement):
            comparable, previous = self._previous(subject, record, replay=replay)
            if not comparable:
                return []
        context = DeriveContext(
            subject=subject.monitor,
            publisher_kind=publisher.kind,
            pseudonymiser=self.pseudonymiser,
            previous_arrangement=previous,
        )
        return derive(record, context)

    def _previous(
        self, subject: SubjectState, record: PersonalArrangement, *, replay: bool
    ) -> tuple[bool, PersonalArrangement | None]:
        """Whether ``record`` gives events, and the version it is compared with."""
        key = record.arrangement_id or ""
        current = subject.arrangements.get(key)
        if not replay:
            if superseded(record, current):
                self.stats["superseded"] += 1
                return False, None
            return True, current
        if current is None or current.event_id != record.event_id:
            self.stats["not_rederived"] += 1
            return False, None
        return True, subject.monitor_prior.get(key)
