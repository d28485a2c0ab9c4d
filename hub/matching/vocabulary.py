"""The competence vocabulary: documented entries in data, free text mapped onto them.

Profiles, vacancies and staff surpluses name competences and occupations in free text
("Heftruck", "reachtruck", "Orderpicking"). Matching compares vocabulary entries, never
text: :meth:`CompetenceVocabulary.competence` maps a text onto the entry whose name or
synonym it resembles most (rapidfuzz ``WRatio``, at least :data:`MIN_SIMILARITY`), once
per distinct text (cached). A text that resembles nothing stays unmapped and counts for
nothing; the explanation says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz, process, utils

from hub.matching.errors import MatchingError
from schemas.menu_card import Instrument

__all__ = ["MIN_SIMILARITY", "CompetenceVocabulary", "Entry", "load_vocabulary"]

MIN_SIMILARITY = 85.0
"""The least rapidfuzz WRatio (0-100) at which a text is taken for a vocabulary entry."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A competence or occupation of the vocabulary."""

    id: str
    name: str
    trainable_by: tuple[Instrument, ...] = ()


class _Labels:
    """The labels (names and synonyms, normalised) of one kind of entry."""

    def __init__(self, entries: list[Entry], synonyms: dict[str, list[str]]) -> None:
        self.entries = {e.id: e for e in entries}
        self.labels: list[str] = []
        self.owner: list[str] = []
        for entry in entries:
            for label in (entry.name, *synonyms[entry.id]):
                self.labels.append(utils.default_process(label))
                self.owner.append(entry.id)
        self.exact = dict(zip(self.labels, self.owner, strict=True))

    def lookup(self, text: str) -> Entry | None:
        key = utils.default_process(text)
        if not key:
            return None
        if key in self.exact:
            return self.entries[self.exact[key]]
        found = process.extractOne(
            key, self.labels, scorer=fuzz.WRatio, score_cutoff=MIN_SIMILARITY, processor=None
        )
        return None if found is None else self.entries[self.owner[found[2]]]


class CompetenceVocabulary:
    """Competences (with the instruments that train them) and occupations."""

    def __init__(self, data: dict[str, Any]) -> None:
        try:
            competences = [
                Entry(c["id"], c["name"], tuple(Instrument(i) for i in c["trainable_by"]))
                for c in data["competences"]
            ]
            occupations = [Entry(o["id"], o["name"]) for o in data["occupations"]]
            self._competences = _Labels(
                competences, {c["id"]: list(c["synonyms"]) for c in data["competences"]}
            )
            self._occupations = _Labels(
                occupations, {o["id"]: list(o["synonyms"]) for o in data["occupations"]}
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MatchingError(f"the competence vocabulary is malformed: {exc!r}") from exc
        self.version = str(data.get("version", ""))
        self.competence = lru_cache(maxsize=65_536)(self._competences.lookup)
        self.occupation = lru_cache(maxsize=65_536)(self._occupations.lookup)

    def competence_entry(self, entry_id: str) -> Entry:
        return self._competences.entries[entry_id]

    def occupation_entry(self, entry_id: str) -> Entry:
        return self._occupations.entries[entry_id]

    def competence_ids(self, texts: list[str]) -> frozenset[str]:
        return frozenset(e.id for t in texts if (e := self.competence(t)) is not None)

    def occupation_ids(self, texts: list[str]) -> frozenset[str]:
        return frozenset(e.id for t in texts if (e := self.occupation(t)) is not None)


@cache
def load_vocabulary() -> CompetenceVocabulary:
    """The shipped vocabulary (hub/matching/data/competences.json)."""
    text = resources.files("hub.matching").joinpath("data/competences.json").read_text("utf-8")
    return CompetenceVocabulary(json.loads(text))
