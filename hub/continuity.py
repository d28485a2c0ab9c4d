"""Broker continuity: notice when the cluster has lost what it held, and say so loudly.

The embedded broker keeps everything in memory: when it dies, and comes back on the same
address, every topic is empty or gone — outboxes, inboxes, the consent feed, the audit
trail, dead letters, the schema store. A Kafka client does not notice: it reconnects,
topics are auto-created on the next produce, offsets start at 0 again. Apache Kafka can
lose data too (an unclean leader election, a cluster rebuilt from scratch, a topic
deleted by hand). Silently carrying on would make the audit trail lie and leave partners
believing records were delivered that no longer exist anywhere.

So the hub stamps the cluster: it writes an *incarnation marker* (a random id and the
time) as the first record of the ``<prefix>.hub.incarnation`` topic, and remembers the id
in its data directory. :meth:`ContinuityGuard.check` compares the two:

* nothing remembered: the first run with this data directory (``first-run``);
* the broker holds the remembered marker: ``intact``;
* the marker topic is gone, empty, or holds another id: ``lost`` — everything written
  to the cluster since the remembered stamp may be gone.

On ``lost`` the hub logs a CRITICAL message naming the incarnation, when it was stamped,
what is gone and how to recover (:meth:`ContinuityReport.message`), counts it in
``rmt_broker_data_loss_total``, and, in ``rmt-hub up``, recovers (see
:mod:`hub.recovery`): topics re-applied, the schema store and the consent feed rebuilt
from their sources of truth, workers restarted, and partners asked to replay from their
connectors (re-imports are idempotent by event id). Only then is a new incarnation
stamped, so a crash half-way through recovery is detected again at the next start.

:class:`ContinuityWatch` runs the check every few seconds in a thread; a broker that does
not answer is *unreachable*, not lost (it may come back with everything intact).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from kafka import TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from hub.config import HubSettings
from hub.errors import BrokerError, HubError
from hub.kafka import admin_client, consumer, kafka_errors, producer, wait_for_leaders
from hub.kafka.reading import read_to_highwater
from hub.metrics import process_metrics
from topics import catalogue
from topics.catalogue import INCARNATION_MARKER

__all__ = [
    "BrokerDataLoss",
    "ContinuityGuard",
    "ContinuityReport",
    "ContinuityWatch",
    "Incarnation",
    "Verdict",
    "incarnation_topic",
]

_LOG = logging.getLogger(__name__)

MARKER_TYPE = INCARNATION_MARKER
"""The ``type`` field of a marker (the topic carries nothing else)."""


def incarnation_topic(settings: HubSettings) -> str:
    """The marker topic of this hub (one partition; the catalogue's ``incarnation``)."""
    return catalogue.incarnation_topic(settings.topic_prefix)


@dataclass(frozen=True)
class Incarnation:
    """One life of the cluster's data, as stamped by the hub."""

    id: str
    stamped_at: datetime
    bootstrap_servers: str

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "type": MARKER_TYPE,
                "incarnation": self.id,
                "stamped_at": self.stamped_at.isoformat(),
                "bootstrap_servers": self.bootstrap_servers,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Incarnation:
        """Parse a marker; :class:`BrokerError` names what is wrong with a foreign record."""
        try:
            raw: Any = json.loads(data)
            if not isinstance(raw, dict) or raw.get("type") != MARKER_TYPE:
                raise ValueError(f"not a {MARKER_TYPE} record")
            return cls(
                id=str(raw["incarnation"]),
                stamped_at=datetime.fromisoformat(str(raw["stamped_at"])),
                bootstrap_servers=str(raw.get("bootstrap_servers", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BrokerError(f"unreadable incarnation marker: {exc}") from exc

    @classmethod
    def new(cls, bootstrap_servers: str) -> Incarnation:
        return cls(str(uuid.uuid4()), datetime.now(UTC), bootstrap_servers)


class Verdict(StrEnum):
    FIRST_RUN = "first-run"
    INTACT = "intact"
    LOST = "lost"


@dataclass(frozen=True)
class ContinuityReport:
    """What a check found."""

    verdict: Verdict
    remembered: Incarnation | None
    found: Incarnation | None
    topic: str
    bootstrap_servers: str
    checked_at: datetime

    @property
    def lost(self) -> bool:
        return self.verdict is Verdict.LOST

    def message(self) -> str:
        """One line for ``intact``/``first-run``; the full, loud explanation for ``lost``."""
        if self.verdict is Verdict.INTACT and self.remembered is not None:
            return (
                f"broker continuity intact: incarnation {self.remembered.id} "
                f"(stamped {self.remembered.stamped_at:%Y-%m-%d %H:%M:%S} UTC)"
            )
        if self.verdict is Verdict.FIRST_RUN:
            found = f"adopting incarnation {self.found.id}" if self.found else "none found yet"
            return f"broker continuity: first run with this data directory ({found})"
        assert self.remembered is not None
        since = f"{self.remembered.stamped_at:%Y-%m-%d %H:%M:%S} UTC"
        what = (
            f"holds another incarnation ({self.found.id}, stamped "
            f"{self.found.stamped_at:%Y-%m-%d %H:%M:%S} UTC)"
            if self.found is not None
            else f"no longer has the marker topic {self.topic} (or it is empty)"
        )
        return (
            f"BROKER DATA LOSS: the cluster at {self.bootstrap_servers} {what}; this hub "
            f"stamped incarnation {self.remembered.id} at {since}. Everything written to "
            "the cluster since then may be gone: partner outboxes and inboxes, the consent "
            "feed, the disclosure audit trail, dead letters and the schema store. Deliveries "
            "partners have not yet read are lost with it. Recovery: topics re-applied, the "
            "schema store and the consent feed rebuilt from their sources of truth (the "
            "registry's memory, the consent register), router and monitor restarted, and "
            f"every partner must replay what it published since {since} from its connector "
            "(`rmt-hub connect <kind> <file>` again: re-imports are idempotent by event id)."
        )


class BrokerDataLoss(BrokerError):
    """The cluster lost the data this hub wrote to it (see :class:`ContinuityReport`)."""

    def __init__(self, report: ContinuityReport) -> None:
        super().__init__(report.message())
        self.report = report


class ContinuityGuard:
    """Stamps the cluster with an incarnation marker and checks that it is still there."""

    def __init__(self, settings: HubSettings, *, memory_file: Path | None = None) -> None:
        if settings.bootstrap_servers is None:
            raise BrokerError("broker continuity needs running bootstrap servers")
        self.settings = settings
        self.topic = incarnation_topic(settings)
        self.memory_file = memory_file or (
            settings.data_dir / "continuity" / f"{settings.topic_prefix}.json"
        )
        self._lock = threading.Lock()

    # --- the remembered side ----------------------------------------------------------------

    def remembered(self) -> Incarnation | None:
        try:
            return Incarnation.from_json(self.memory_file.read_bytes())
        except FileNotFoundError:
            return None

    def _remember(self, incarnation: Incarnation) -> None:
        self.memory_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.memory_file.with_suffix(".tmp")
        partial.write_bytes(incarnation.to_json())
        partial.replace(self.memory_file)

    # --- the broker side -------------------------------------------------------------------

    def read_marker(self, timeout_s: float = 10.0) -> Incarnation | None:
        """The first marker on the topic; None when the topic is missing or empty.

        Raises :class:`hub.errors.BrokerUnavailable`/:class:`BrokerError` when the cluster
        cannot be asked (that is not a loss)."""
        reader = consumer(
            self.settings,
            group_id=None,
            fetch_max_wait_ms=50,
            client_id=f"{self.settings.client_id}-continuity",
        )
        try:
            with kafka_errors(f"reading {self.topic}"):
                reader.topics()  # refresh metadata: a missing topic must not look stale
                if not reader.partitions_for_topic(self.topic):
                    return None
                tp = TopicPartition(self.topic, 0)
                reader.assign([tp])
                reader.seek_to_beginning(tp)
                for record in read_to_highwater(reader, [tp], what=self.topic, timeout_s=timeout_s):
                    if record.value is not None:
                        return Incarnation.from_json(record.value)
                return None
        finally:
            reader.close()

    def _ensure_topic(self) -> None:
        admin = admin_client(self.settings)
        try:
            with kafka_errors(f"creating {self.topic}"):
                if self.topic not in set(admin.list_topics()):
                    with suppress(TopicAlreadyExistsError):
                        admin.create_topics(
                            [NewTopic(self.topic, 1, self.settings.replication_factor)]
                        )
                    wait_for_leaders(admin, [self.topic])
        finally:
            admin.close()

    def stamp(self) -> Incarnation:
        """Write a new marker and remember it (after a first run or a recovery)."""
        with self._lock:
            incarnation = Incarnation.new(str(self.settings.bootstrap_servers))
            self._ensure_topic()
            writer = producer(
                self.settings, linger_ms=0, client_id=f"{self.settings.client_id}-continuity"
            )
            try:
                with kafka_errors(f"writing {self.topic}"):
                    writer.send(
                        self.topic, key=b"incarnation", value=incarnation.to_json(), partition=0
                    ).get(timeout=15)
            finally:
                writer.close(timeout=5)
            found = self.read_marker()
            if found is None:
                raise BrokerError(f"the incarnation marker written to {self.topic} is not there")
            # Two hub processes stamping at once: the first marker on the topic wins.
            self._remember(found)
            return found

    # --- checking -----------------------------------------------------------------------------

    def check(self) -> ContinuityReport:
        """Compare the broker's marker with the remembered one (no side effects)."""
        remembered = self.remembered()
        found = self.read_marker()
        if remembered is None:
            verdict = Verdict.FIRST_RUN
        elif found is not None and found.id == remembered.id:
            verdict = Verdict.INTACT
        else:
            verdict = Verdict.LOST
        return ContinuityReport(
            verdict=verdict,
            remembered=remembered,
            found=found,
            topic=self.topic,
            bootstrap_servers=str(self.settings.bootstrap_servers),
            checked_at=datetime.now(UTC),
        )

    def establish(self) -> ContinuityReport:
        """At start: adopt or stamp a marker on a first run; report (and log) a loss.

        After a loss nothing is stamped: the caller recovers first, then calls
        :meth:`stamp`, so an interrupted recovery is detected again."""
        report = self.check()
        if report.verdict is Verdict.FIRST_RUN:
            if report.found is not None:
                self._remember(report.found)
            else:
                self.stamp()
            _LOG.info("%s", report.message())
        elif report.lost:
            announce_loss(report)
        return report


def announce_loss(report: ContinuityReport) -> None:
    """Log the loss at CRITICAL and count it."""
    process_metrics().broker_data_loss.inc()
    _LOG.critical("%s", report.message())


class ContinuityWatch:
    """Checks continuity every ``interval_s`` in a thread; calls ``on_loss`` once per loss.

    A broker that cannot be asked is *unreachable* (logged once per outage, not a loss).
    After ``on_loss`` the watch waits until the guard remembers a new, intact incarnation
    (the recovery stamps it) before it reports again."""

    def __init__(
        self,
        guard: ContinuityGuard,
        on_loss: Callable[[ContinuityReport], None],
        *,
        interval_s: float = 2.0,
        keep_alive: Callable[[], object] | None = None,
    ) -> None:
        self.guard = guard
        self.on_loss = on_loss
        self.interval_s = interval_s
        self.keep_alive = keep_alive
        """Called before each check (``rmt-hub up`` restarts a dead embedded broker there)."""
        self.last: ContinuityReport | None = None
        self.unreachable: str | None = None
        self.losses = 0
        self._reported: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ContinuityWatch:
        self._thread = threading.Thread(target=self._run, name="continuity-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def check_now(self) -> ContinuityReport | None:
        """One check; calls ``on_loss`` on a loss not reported yet. If ``on_loss`` fails
        the loss counts as not reported, so the next check tries again."""
        try:
            if self.keep_alive is not None:
                self.keep_alive()
            report = self.guard.check()
        except HubError as exc:
            if self.unreachable is None:
                _LOG.warning("broker continuity: cannot ask the cluster: %s", exc)
            self.unreachable = str(exc)
            return None
        self.unreachable = None
        self.last = report
        if report.lost:
            remembered = report.remembered.id if report.remembered else ""
            if self._reported != remembered:
                self._reported = remembered
                self.losses += 1
                announce_loss(report)
                try:
                    self.on_loss(report)
                except BaseException:
                    self._reported = None
                    raise
        return report

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check_now()
            except Exception:  # the watch must outlive a failing recovery callback
                _LOG.exception("broker continuity watch: check or recovery failed")
