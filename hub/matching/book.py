"""What the matching service knows, refreshed record by record; proposals on demand.

The book keeps the latest profile, availability and consents per person, and the open
vacancies and staff surpluses. The party that published a person's latest availability
receives their proposals: the router accepts an availability only from the person's
first-responsible party. The pool is evaluated when proposals are asked for, through the
consent gate (:mod:`hub.matching.gate`) at that moment, so a withdrawn or expired
consent, or an availability set to false, takes the person out of every proposal made
after it. Plain Python: a stream process feeds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from consent.decision import CompiledConsent
from consent.policy import PolicyMatrix
from hub.matching.coupling import Coupling, SurplusCompany, couple, surplus
from hub.matching.gate import candidate, opening
from hub.matching.model import Candidate, Opening, Proposal
from hub.matching.scoring import Pool, propose, score
from hub.matching.vocabulary import CompetenceVocabulary
from schemas.models import Availability, CanonicalRecord, ClientProfile, StaffSurplus, Vacancy
from schemas.regions import Region
from topics.partners import Partner

__all__ = ["MatchingBook"]


class MatchingBook:
    """The matching service's state and its questions."""

    def __init__(
        self,
        partners: Mapping[str, Partner],
        vocab: CompetenceVocabulary,
        policy: PolicyMatrix,
        clock: Callable[[], datetime],
    ) -> None:
        self._partners = partners
        self._vocab = vocab
        self._policy = policy
        self._clock = clock
        self._profiles: dict[str, ClientProfile] = {}
        self._availability: dict[str, Availability] = {}
        self._consents: dict[str, tuple[CompiledConsent, ...]] = {}
        self._openings: dict[str, Opening] = {}
        self._closing: dict[str, datetime | None] = {}
        self._surpluses: dict[str, SurplusCompany] = {}

    def apply(self, record: CanonicalRecord) -> bool:
        """Take in an accepted record; False when matching does not read its type."""
        if isinstance(record, ClientProfile):
            self._profiles[record.client_pseudonym] = record
        elif isinstance(record, Availability):
            self._availability[record.client_pseudonym] = record
        elif isinstance(record, Vacancy):
            self._openings[record.vacancy_id] = opening(record, self._vocab)
            until = record.open_until
            self._closing[record.vacancy_id] = (
                None
                if until is None
                else datetime.combine(until, datetime.max.time(), tzinfo=record.occurred_at.tzinfo)
            )
        elif isinstance(record, StaffSurplus):
            self._surpluses[record.surplus_id] = surplus(record, self._vocab)
        else:
            return False
        return True

    def set_consents(self, pseudonym: str, consents: Sequence[CompiledConsent]) -> None:
        """The person's consents as they are now (from the consent feed)."""
        self._consents[pseudonym] = tuple(consents)

    def candidates(self) -> list[Candidate]:
        """The pool now: available, and consent covers matching (deny by default)."""
        now = self._clock()
        found = []
        for pseudonym, availability in self._availability.items():
            profile = self._profiles.get(pseudonym)
            recipient = self._partners.get(availability.source_partner)
            if profile is None or recipient is None:
                continue
            made = candidate(
                profile,
                availability,
                self._consents.get(pseudonym, ()),
                recipient,
                self._vocab,
                now=now,
                policy=self._policy,
            )
            if made is not None:
                found.append(made)
        return found

    def openings(self, region: Region | None = None) -> list[Opening]:
        """The vacancies open now (of ``region``)."""
        now = self._clock()
        return [
            o
            for vacancy_id, o in sorted(self._openings.items())
            if (region is None or o.region is region)
            and ((until := self._closing[vacancy_id]) is None or until >= now)
        ]

    def proposals(self, vacancy_id: str, *, top: int = 5) -> list[Proposal]:
        """The best proposals for an open vacancy now (none when it is closed or unknown)."""
        found = [o for o in self.openings() if o.vacancy_id == vacancy_id]
        if not found:
            return []
        return propose(found[0], Pool(self.candidates()), self._vocab, top=top)

    def explain(self, vacancy_id: str, pseudonym: str) -> Proposal | None:
        """The proposal of one person for one vacancy now, whatever its rank; None when the
        person is not in the pool or does not match."""
        found = [o for o in self.openings() if o.vacancy_id == vacancy_id]
        person = [c for c in self.candidates() if c.pseudonym == pseudonym]
        if not found or not person:
            return None
        return score(person[0], found[0], self._vocab)

    def couplings(self, region: Region | None = None) -> list[Coupling]:
        """Surplus companies coupled to other companies' open vacancies (of ``region``)."""
        surpluses = [
            s for _, s in sorted(self._surpluses.items()) if region is None or s.region is region
        ]
        return couple(surpluses, self.openings(region), self._vocab)
