"""The router's feed of the national monitor: monitor events for every record it accepts.

For each person record the router accepts (it passed validation), :class:`MonitorFeed`
calls :func:`hub.monitor.derive.derive` and returns the events as writes to the monitor
topic (``catalogue.monitor_events``), in the same batch as the record's other writes:
keyed by the **monitor pseudonym**, in the partition that key hashes to (murmur2), not
the client pseudonym's. Every worker has the feed (``RouterOptions.monitor_events``, on
by default) with the keyring :func:`~hub.monitor.pseudonym.load_keyring` finds; every
worker of a hub must hold the same keys.

Events are emitted whatever the subject's consents say, and the monitor pseudonym goes
to the monitor topic and the routing state only, never to an inbox, dead letter,
notice, the disclosure log, a log line or the status file: see
docs/decisions/0006-monitor-pseudonyms.md. A refused record gives no monitor events.

State kept in :class:`~hub.router.state.SubjectState`: ``monitor`` (the person's
:class:`MonitorSubject`, from the latest accepted profile; without one a record gives no
events, counted as ``no_subject``), ``arrangements`` (the latest version of each, which
:func:`derive` compares a new one with) and ``monitor_prior`` (the version before, so a
replay of the latest version derives the same events). An older version than the state
holds gives no events.

Ids are deterministic and skipped when already written in this assignment; after a
rebalance a record routed again may write an event twice (the monitor topic is not read
back), and :class:`~hub.monitor.aggregate.Aggregator` counts each event id once
(docs/decisions/0001-deterministic-ids-not-transactions.md). A version superseded
within a failed batch is not derived again. Failures never refuse or hold a record: a
:class:`~hub.monitor.errors.MonitorError` (or a bug) is logged and counted (``failed``).
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
