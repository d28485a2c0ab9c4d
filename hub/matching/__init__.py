"""The brokering function's matching: plain domain code, no Kafka, no faust.

* :mod:`hub.matching.vocabulary` - the competence vocabulary (data/competences.json) and
  the mapping of free text onto it (rapidfuzz);
* :mod:`hub.matching.regions` - neighbouring labour-market regions (data);
* :mod:`hub.matching.model` - candidates, openings, proposals and their explanations;
* :mod:`hub.matching.gate` - who is a candidate: available, and consent covers matching;
* :mod:`hub.matching.scoring` - people against vacancies, per criterion, pre-indexed;
* :mod:`hub.matching.coupling` - surplus companies against companies with vacancies;
* :mod:`hub.matching.book` - the state a stream process keeps, proposals on demand;
* :mod:`hub.matching.addressing` - who receives a proposal, projected to their consent.

The design: docs/decisions/0023-matching.md.
"""

from __future__ import annotations

from hub.matching.errors import MatchingError

__all__ = ["MatchingError"]
