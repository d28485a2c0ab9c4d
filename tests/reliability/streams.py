"""Streams of records about subjects whose consent changes mid-stream, and what each
record's fate must be.

A :class:`Subject` keeps, in ``time.monotonic()`` seconds, when its grant and withdrawal
were acknowledged and when each record about it was published; :meth:`Subject.expected`
says whether a record must be delivered (after an acknowledged grant, about a subject
never withdrawn), must not be (publication started after the withdrawal was acknowledged,
or no grant stored), or may be either. :func:`routed_everything` waits until the router
has routed every record published so far about the subjects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub

__all__ = ["Subject", "routed_everything"]


@dataclass
class Subject:
    """One client of a stream and what the consent service acknowledged about it."""

    pseudonym: str
    consent_id: str | None = None
    granted_at: float | None = None
    """When the grant was acknowledged (None: never acknowledged)."""
    grant_unanswered: bool = False
    """A grant request got no answer (the service died): it may or may not be stored."""
    withdraw_asked_at: float | None = None
    withdrawn_at: float | None = None
    """When the withdrawal was acknowledged."""
    published: list[tuple[str, float, float]] = field(default_factory=list)
    """(event id, publish started, publish acknowledged) of each record about the subject."""

    def expected(self, started: float) -> bool | None:
        """Whether a record must be delivered (True), must not (False), or either (None)."""
        if self.withdrawn_at is not None and started > self.withdrawn_at:
            return False
        if self.granted_at is None:
            return None if self.grant_unanswered else False
        if started < self.granted_at:
            return None  # the router may have seen the grant before the answer came
        if self.withdraw_asked_at is not None:
            # before the withdrawal: delivered if the router routed it before applying the
            # withdrawal, which it may apply before a record published earlier (lag)
            return None
        return True


def routed_everything(hub: Hub, subjects: Iterable[str], timeout_s: float = 120) -> None:
    """Publish a record the router must refuse (an invalid BSN) about every subject, last on
    its partition, and wait for all their dead letters: everything published before them
    has been routed."""
    markers = set()
    for subject in subjects:
        marker = records.profile(subject, bsn="123456789")
        hub.publish(marker)
        markers.add(str(marker.event_id))
    hub.wait_for(
        hub.dead_letters,
        lambda rs: markers <= {str(getattr(r.record, "event_id", "")) for r in rs},
        timeout_s=timeout_s,
        what="the dead letters of the markers",
    )
