"""Every file connector through the real broker: canonical records, re-import, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from connectors.common import ImportReport, InputFormatError, print_report
from connectors.gemeente import import_gemeente
from connectors.sbb import import_sbb
from connectors.uwv import import_uwv
from hub.config import HubSettings
from hub.sdk import PartnerClient
from schemas.menu_card import Instrument
from schemas.models import ClientProfile, DeadLetter, PersonalArrangement, PlacementOutcome, Vacancy
from schemas.models.enums import Credential, DeadLetterReason, OutcomeType, ServiceKind
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, JobSeekerCategory, LanguageLevel, Sector
from tests.helpers.connectors import DATA, read_records

pytestmark = pytest.mark.integration


def _outbox(settings: HubSettings, partner: str) -> list[object]:
    return [
        r for _, r, _ in read_records(settings, f"{settings.topic_prefix}.partner.{partner}.outbox")
    ]


def _dead_letters(settings: HubSettings) -> list[DeadLetter]:
    letters = [r for _, r, _ in read_records(settings, f"{settings.topic_prefix}.hub.deadletter")]
    assert all(isinstance(letter, DeadLetter) for letter in letters)
    return letters  # type: ignore[return-value]


def _problems(report: ImportReport) -> list[tuple[int, str | None, DeadLetterReason]]:
    return [(e.line, e.field, e.code) for e in report.errors]


def test_gemeente_csv_maps_to_client_profiles_and_imports_once(env: HubSettings) -> None:
    path = DATA / "gemeente.csv"
    with PartnerClient(env, "gemeente-amsterdam") as client:
        report = import_gemeente(client, path, progress=False)
        assert (report.rows, report.published, report.rejected_rows) == (3, 3, 0)
        sanne = client.pseudonym("725763863")
    with PartnerClient(env, "gemeente-amsterdam") as client:  # the same file again
        again = import_gemeente(client, path, progress=False)
    assert (again.published, again.duplicates) == (0, 3)

    records = _outbox(env, "gemeente-amsterdam")
    assert len(records) == 3
    by_name = {r.given_name: r for r in records if isinstance(r, ClientProfile)}
    profile = by_name["Sanne"]
    assert profile.client_pseudonym == sanne
    assert profile.source_partner == "gemeente-amsterdam"
    assert profile.family_name_prefix == "van"
    assert str(profile.date_of_birth) == "2003-02-14"
    assert str(profile.occurred_at) == "2026-11-03 00:00:00+00:00"
    assert profile.region is Region.GROOT_AMSTERDAM
    assert profile.job_seeker_category is JobSeekerCategory.YOUNG_PERSON
    assert profile.sectors == [Sector.HOSPITALITY]
    assert profile.contact is not None
    assert profile.contact.city == "Amsterdam"
    bijstand = by_name["Mohammed"]
    assert bijstand.municipality_code == "0384"  # GM0384 normalised
    assert bijstand.benefit_status.value == "BIJSTAND"
    assert bijstand.has_debts is True
    assert by_name["Petra"].job_seeker_category is JobSeekerCategory.SELF_EMPLOYED
    assert by_name["Petra"].starting_qualification is True  # derived from hbo


def test_gemeente_bad_rows_are_reported_by_line_and_dead_lettered(env: HubSettings) -> None:
    path = DATA / "gemeente_bad.csv"
    with PartnerClient(env, "gemeente-amsterdam") as client:
        report = import_gemeente(client, path, progress=False)
    assert (report.rows, report.published, report.rejected_rows) == (6, 2, 4)
    assert _problems(report) == [
        (3, "BSN", DeadLetterReason.BSN_INVALID),
        (4, "Geboortedatum", DeadLetterReason.SCHEMA_INVALID),
        (5, "Gemeentecode", DeadLetterReason.MUNICIPALITY_UNKNOWN),
        (6, "Doelgroep", DeadLetterReason.SCHEMA_INVALID),
    ]
    assert report.errors[0].file == str(path)
    assert "eleven-test" in report.errors[0].reason
    assert "not an existing date" in report.errors[1].reason
    assert "not in the CBS municipality table of 2026" in report.errors[2].reason
    assert "historic code of a municipality that merged" in report.errors[2].reason
    assert {r.given_name for r in _outbox(env, "gemeente-amsterdam")} == {"Sanne", "Joost"}  # type: ignore[attr-defined]

    letters = _dead_letters(env)
    assert sorted(letter.source_offset for letter in letters) == [3, 4, 5, 6]
    bsn = next(letter for letter in letters if letter.source_offset == 3)
    assert bsn.source_topic == "file:gemeente_bad.csv"
    assert bsn.source_partner == "gemeente-amsterdam"
    assert bsn.reason is DeadLetterReason.BSN_INVALID
    assert bsn.field == "BSN"
    assert bsn.original_value is not None
    assert b"Kees" in bsn.original_value

    # importing it again reports again but publishes nothing new, dead letters included
    with PartnerClient(env, "gemeente-amsterdam") as client:
        again = import_gemeente(client, path, progress=False)
    assert (again.published, again.duplicates, again.rejected_rows, again.dead_letters) == (
        0,
        2,
        4,
        0,
    )
    assert len(_dead_letters(env)) == 4

    console = Console(record=True, width=200)
    print_report(report, console)
    text = console.export_text()
    assert "gemeente_bad.csv" in text
    assert "Gemeentecode" in text
    assert "4 rows rejected" in text


def test_gemeente_file_without_required_columns_is_refused(
    env: HubSettings, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("BSN,Naam\n123456782,Jan\n", encoding="utf-8")
    with (
        PartnerClient(env, "gemeente-amsterdam") as client,
        pytest.raises(InputFormatError, match="Voornamen"),
    ):
        import_gemeente(client, path, progress=False)


def test_uwv_jsonl_maps_profiles_and_arrangements(env: HubSettings) -> None:
    with PartnerClient(env, "uwv") as client:
        report = import_uwv(client, DATA / "uwv.jsonl", progress=False)
        fatima = client.pseudonym("321146487")
    assert (report.rows, report.records, report.published, report.rejected_rows) == (3, 4, 4, 0)
    records = _outbox(env, "uwv")
    profiles = {r.given_name: r for r in records if isinstance(r, ClientProfile)}
    assert set(profiles) == {"Fatima", "Henk", "Yara"}
    assert profiles["Fatima"].job_seeker_category is JobSeekerCategory.WW_ENTRANT
    assert profiles["Fatima"].work_history[0].sector is Sector.HOSPITALITY
    assert profiles["Henk"].sectors == [Sector.AVIATION]  # from the work history
    assert profiles["Henk"].region is Region.RIJNMOND
    assert profiles["Yara"].language_level is LanguageLevel.NATIVE
    assert profiles["Yara"].banenafspraak is True
    (arrangement,) = [r for r in records if isinstance(r, PersonalArrangement)]
    assert arrangement.client_pseudonym == fatima
    assert arrangement.composed_by.partner_id == "uwv"
    assert [s.instrument for s in arrangement.services] == [
        Instrument.PRACTICAL_LEARNING_MBO,
        Instrument.TAILORED_BUDGET,
    ]
    assert arrangement.services[0].kind is ServiceKind.ADDITIONAL
    assert arrangement.services[0].cost is not None
    assert arrangement.services[0].cost.amount_cents == 250_000
    assert arrangement.services[1].cost is not None
    assert arrangement.services[1].cost.amount_cents == 42_500

    with PartnerClient(env, "uwv") as client:
        assert import_uwv(client, DATA / "uwv.jsonl", progress=False).published == 0


def test_uwv_bad_lines_are_reported_and_good_ones_published(env: HubSettings) -> None:
    with PartnerClient(env, "uwv") as client:
        report = import_uwv(client, DATA / "uwv_bad.jsonl", progress=False)
    assert (report.rows, report.published, report.rejected_rows) == (5, 2, 3)
    problems = _problems(report)
    assert problems[0] == (2, "bsn", DeadLetterReason.BSN_INVALID)
    assert problems[1][:2] == (3, None)  # broken JSON: the line as a whole
    assert problems[1][2] is DeadLetterReason.DECODE_ERROR
    assert (4, "geboortedatum", DeadLetterReason.SCHEMA_INVALID) in problems
    assert (4, "sectoren[0]", DeadLetterReason.SCHEMA_INVALID) in problems  # every problem
    assert "invalid JSON" in report.errors[1].reason
    assert len(_dead_letters(env)) == 3


def test_sbb_csv_maps_learning_jobs_vacancies_and_enrolments(env: HubSettings) -> None:
    with PartnerClient(env, "sbb") as client:
        report = import_sbb(client, DATA / "sbb.csv", progress=False)
        sanne = client.pseudonym("725763863")
    assert (report.rows, report.published, report.rejected_rows) == (4, 4, 0)
    records = _outbox(env, "sbb")
    vacancies = {r.vacancy_id: r for r in records if isinstance(r, Vacancy)}
    learning = vacancies["sbb-lb-000101"]
    assert learning.trainable is True
    assert learning.positions == 3
    assert learning.education_level is EducationLevel.MBO_2
    assert learning.required_competences[0].code == "25404"
    assert [c.name for c in learning.required_competences[1:]] == ["Heftruck rijden", "Orderpicken"]
    assert vacancies["sbb-vac-000202"].trainable is True
    outcomes = {r.outcome_id: r for r in records if isinstance(r, PlacementOutcome)}
    started = outcomes["sbb-enr-000303:placed_in_work"]
    assert started.client_pseudonym == sanne
    assert started.vacancy_id == "sbb-lb-000101"
    finished = outcomes["sbb-enr-000304:schooling_finished"]
    assert finished.outcome is OutcomeType.SCHOOLING_FINISHED
    assert finished.credential is Credential.PRACTICE_STATEMENT
    assert str(finished.ended_on) == "2026-07-10"

    with PartnerClient(env, "sbb") as client:
        assert import_sbb(client, DATA / "sbb.csv", progress=False).duplicates == 4


def test_sbb_bad_rows(env: HubSettings) -> None:
    with PartnerClient(env, "sbb") as client:
        report = import_sbb(client, DATA / "sbb_bad.jsonl", progress=False)
    assert (report.rows, report.published, report.rejected_rows) == (4, 1, 3)
    assert [(e.line, e.field) for e in report.errors] == [
        (2, "soort"),
        (3, "einddatum"),
        (4, "uren_per_week"),
    ]
