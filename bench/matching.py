"""Matching quality and throughput on a labelled synthetic region.

    python bench/matching.py [--people 20000] [--vacancies 2000] [--seed 7] [--no-progress]

Generates one labour-market region (Groot Amsterdam, a tenth of the people in
neighbouring regions) of available people and open vacancies, with known good pairs:
per vacancy two people who fit it as they are (all its competences in their own words -
synonyms the vocabulary must recognise -, its occupation and sector, the education and
Dutch it asks, its hours) and, when the vacancy takes trainees, two who fit once trained
(one competence short, closable by praktijkleren or schooling, or an education level
short). Decoys per vacancy: a full fit living far away and one whose Dutch is below the
requirement (never to be proposed when the vacancy takes no trainees), and two weaker
fits (a competence short, another occupation and sector, fewer hours) that must rank
below the good ones. The other people have random competences, occupations and levels.
Then runs
:func:`hub.matching.scoring.propose_all` and prints the precision and recall of the top 5
proposals per vacancy against the labelled pairs (overall and for the trainable ones),
and the throughput: vacancies x available people in reach, scored per second, one core
(the pool's index rules out people sharing nothing with a vacancy; those pairs count as
scored, and the pairs scored in full are printed too).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.progress import Progress

from hub.matching.model import Candidate, MatchKind, Opening
from hub.matching.regions import neighbours
from hub.matching.scoring import SHORTLIST, Pool, propose_all
from hub.matching.vocabulary import CompetenceVocabulary, load_vocabulary
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, LanguageLevel, Sector

REGION = Region.GROOT_AMSTERDAM
LEVELS = [
    EducationLevel.VMBO,
    EducationLevel.MBO_1,
    EducationLevel.MBO_2,
    EducationLevel.MBO_3,
    EducationLevel.MBO_4,
    EducationLevel.HBO,
]
LANGUAGES = [LanguageLevel.A2, LanguageLevel.B1, LanguageLevel.B2, LanguageLevel.C1]


def _words(vocab: CompetenceVocabulary, kind: str) -> dict[str, list[str]]:
    """Entry id -> the texts that name it (name and synonyms): what people write."""
    import json  # noqa: PLC0415
    from importlib import resources  # noqa: PLC0415

    data = json.loads(
        resources.files("hub.matching").joinpath("data/competences.json").read_text("utf-8")
    )
    return {e["id"]: [e["name"], *e["synonyms"]] for e in data[kind]}


def generate(
    people: int, vacancies: int, seed: int, vocab: CompetenceVocabulary
) -> tuple[
    list[Opening],
    list[Candidate],
    dict[str, set[str]],
    dict[str, set[str]],
    dict[str, set[str]],
]:
    rng = random.Random(seed)
    comp_words = _words(vocab, "competences")
    occ_words = _words(vocab, "occupations")
    trainable = [c for c in comp_words if vocab.competence_entry(c).trainable_by]
    occupations = list(occ_words)
    sectors = list(Sector)
    near = sorted(neighbours(REGION))

    def text_ids(
        entries: list[str], words: dict[str, list[str]], occupation: bool
    ) -> frozenset[str]:
        texts = [rng.choice(words[e]) for e in entries]
        return vocab.occupation_ids(texts) if occupation else vocab.competence_ids(texts)

    openings: list[Opening] = []
    good: dict[str, set[str]] = {}
    good_trainable: dict[str, set[str]] = {}
    ineligible: dict[str, set[str]] = defaultdict(set)
    planted: list[Candidate] = []
    for v in range(vacancies):
        required = rng.sample(trainable, 4)
        occupation = rng.choice(occupations)
        level = rng.choice(LEVELS[1:5])
        opening = Opening(
            vacancy_id=f"vac-{v}",
            employer=f"Bedrijf {v % 700}",
            title=occ_words[occupation][0],
            region=REGION,
            sector=rng.choice(sectors),
            competences=frozenset(required),
            occupations=frozenset({occupation}),
            education_level=level,
            language_level=rng.choice(LANGUAGES[:3]),
            hours_per_week=rng.choice([24, 32, 36, 40]),
            trainable=rng.random() < 0.5,
        )
        openings.append(opening)
        good[opening.vacancy_id] = set()
        good_trainable[opening.vacancy_id] = set()
        first_fit = len(planted)
        for n in range(2):
            pseudonym = f"fit-{v}-{n}"
            planted.append(
                Candidate(
                    pseudonym=pseudonym,
                    region=REGION if n == 0 else rng.choice([REGION, *near]),
                    first_responsible="uwv",
                    competences=text_ids(required, comp_words, False),
                    occupations=text_ids([occupation], occ_words, True),
                    sectors=frozenset({opening.sector}),
                    education_level=level,
                    starting_qualification=True,
                    language_level=LanguageLevel.C1,
                    hours_per_week=opening.hours_per_week,
                )
            )
            good[opening.vacancy_id].add(pseudonym)
        if opening.trainable:
            for n in range(2):
                pseudonym = f"trainee-{v}-{n}"
                short = required[:3] if n == 0 else required
                planted.append(
                    Candidate(
                        pseudonym=pseudonym,
                        region=REGION,
                        first_responsible="gemeente-amsterdam",
                        competences=text_ids(short, comp_words, False),
                        occupations=text_ids([occupation], occ_words, True),
                        sectors=frozenset({opening.sector}),
                        education_level=level if n == 0 else EducationLevel.VMBO,
                        starting_qualification=n == 0,
                        language_level=LanguageLevel.B2,
                        hours_per_week=opening.hours_per_week,
                    )
                )
                good[opening.vacancy_id].add(pseudonym)
                good_trainable[opening.vacancy_id].add(pseudonym)
        # decoys: a full fit living far away, and a full fit whose Dutch is below the
        # requirement - both must never be proposed for a vacancy without trainees -, and
        # two weaker fits (a competence short, another occupation, sector and hours) that
        # must rank below the good ones
        base = planted[first_fit]
        far = replace(base, pseudonym=f"far-{v}", region=Region.ZUID_LIMBURG)
        planted.append(far)
        ineligible[opening.vacancy_id].add(far.pseudonym)
        mute = replace(base, pseudonym=f"mute-{v}", language_level=LanguageLevel.A1)
        planted.append(mute)
        if not opening.trainable:
            ineligible[opening.vacancy_id].add(mute.pseudonym)
        other_occupation = next(o for o in occupations if o != occupation)
        for n in range(2):
            planted.append(
                replace(
                    base,
                    pseudonym=f"weak-{v}-{n}",
                    competences=text_ids(required[1:] if n else required[:3], comp_words, False),
                    occupations=text_ids([other_occupation], occ_words, True),
                    sectors=frozenset({rng.choice([x for x in sectors if x != opening.sector])}),
                    hours_per_week=max(8, opening.hours_per_week - 16),
                )
            )
    noise = [
        Candidate(
            pseudonym=f"p-{i}",
            region=REGION if rng.random() < 0.9 else rng.choice(near),
            first_responsible="uwv",
            competences=text_ids(rng.sample(list(comp_words), 5), comp_words, False),
            occupations=text_ids([rng.choice(occupations)], occ_words, True),
            sectors=frozenset({rng.choice(sectors)}),
            education_level=rng.choice(LEVELS),
            starting_qualification=None,
            language_level=rng.choice(LANGUAGES),
            hours_per_week=rng.choice([16, 24, 32, 36, 40]),
        )
        for i in range(max(0, people - len(planted)))
    ]
    pool = planted[:people] + noise
    rng.shuffle(pool)
    return openings, pool, good, good_trainable, ineligible


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--vacancies", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    vocab = load_vocabulary()
    started = time.perf_counter()
    openings, people, good, good_trainable, ineligible = generate(
        args.people, args.vacancies, args.seed, vocab
    )
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    pool = Pool(people)
    index_s = time.perf_counter() - started
    pairs = sum(pool.in_reach(o) for o in openings)
    scored = sum(min(len(pool.shortlist(o)), SHORTLIST) for o in openings[:50])
    with Progress(disable=args.no_progress, transient=True) as bar:
        task = bar.add_task("matching", total=len(openings))
        started, cpu = time.perf_counter(), time.process_time()
        proposals = propose_all(
            openings, pool, vocab, top=args.top, progress=lambda n: bar.advance(task, n)
        )
        wall_s, match_s = time.perf_counter() - started, time.process_time() - cpu
    proposed = hits = wanted = 0
    t_hits = t_wanted = 0
    trainable_kind = wrong = 0
    for vacancy_id, found in proposals.items():
        names = {p.pseudonym for p in found}
        proposed += len(found)
        hits += len(names & good[vacancy_id])
        wanted += len(good[vacancy_id])
        t_hits += len(names & good_trainable[vacancy_id])
        t_wanted += len(good_trainable[vacancy_id])
        trainable_kind += sum(p.kind is MatchKind.TRAINABLE for p in found)
        wrong += len(names & ineligible[vacancy_id])
    best = sum(min(args.top, len(g)) for g in good.values()) / max(1, args.top * len(good))
    print(f"region                {REGION} (+{len(neighbours(REGION))} neighbouring regions)")
    print(f"available people      {len(people):>12,}")
    print(f"vacancies             {len(openings):>12,}")
    print(f"labelled good pairs   {wanted:>12,}  ({t_wanted:,} trainable)")
    print(f"generated in          {generated_s:>12.1f} s  (vocabulary mapping of the texts)")
    print(f"index built in        {index_s:>12.2f} s")
    print(f"matching time         {match_s:>12.2f} s CPU, one core  ({wall_s:.2f} s wall)")
    print(f"precision@{args.top}           {hits / max(1, proposed):>12.3f}  (at most {best:.3f})")
    print(f"recall@{args.top}              {hits / max(1, wanted):>12.3f}")
    print(f"recall@{args.top} trainable    {t_hits / max(1, t_wanted):>12.3f}")
    print(f"proposals             {proposed:>12,}  ({trainable_kind:,} trainable)")
    print(f"ineligible proposed   {wrong:>12,}  (decoys far away or below the Dutch asked)")
    print(
        f"scored in full        {scored / max(1, min(50, len(openings))):>12,.0f}  "
        f"per vacancy (the shortlist, at most {SHORTLIST})"
    )
    print(
        f"throughput            {pairs / max(match_s, 1e-9):>12,.0f} pairs/s  "
        f"({pairs:,} vacancy x person, per CPU second)"
    )


if __name__ == "__main__":
    main()
