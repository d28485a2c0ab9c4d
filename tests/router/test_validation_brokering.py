"""The brokering records' rules, without a broker: a staff surplus from a social partner
or UWV with a sane period; an availability only from the first-responsible party."""

from __future__ import annotations

from datetime import date

from hub.router.validation import Rejection, partition_of
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import JobSeekerCategory
from tests.router.helpers import records
from tests.router.test_validation import PARTITIONS, WHO, known, refused, run


def _surplus_run(publisher: str, **changes: object) -> Rejection | None:
    record = records.surplus(source_partner=publisher, **changes)
    key = record.surplus_id.encode()
    return run(record, publisher=publisher, key=key, partition=partition_of(key, PARTITIONS))


def test_a_surplus_comes_from_a_social_partner_or_uwv() -> None:
    assert _surplus_run("sp-werkgevers") is None
    assert _surplus_run("uwv") is None
    for other in ("sbb", "gemeente-amsterdam", "mbo-amsterdam"):
        refused(_surplus_run(other), DeadLetterReason.PUBLISHER_NOT_ALLOWED, "source_partner")


def test_a_surplus_has_staff_and_a_period_that_does_not_end_before_it_starts() -> None:
    refused(
        _surplus_run("sp-werkgevers", staff_count=0),
        DeadLetterReason.SCHEMA_INVALID,
        "staff_count",
    )
    refused(
        _surplus_run(
            "sp-werkgevers", expected_from=date(2021, 6, 1), expected_until=date(2021, 5, 31)
        ),
        DeadLetterReason.SCHEMA_INVALID,
        "expected_until",
    )


def test_a_surplus_key_must_be_its_surplus_id() -> None:
    record = records.surplus(source_partner="sp-werkgevers")
    refused(
        run(record, publisher="sp-werkgevers", key=b"other", partition=partition_of(b"other", 4)),
        DeadLetterReason.KEY_MISMATCH,
        "surplus_id",
    )


def test_only_the_first_responsible_party_marks_a_person_available() -> None:
    ww = known()  # a WW entrant: UWV
    assert run(records.availability(WHO), subject=ww) is None
    refused(
        run(
            records.availability(WHO, source_partner="gemeente-amsterdam"),
            publisher="gemeente-amsterdam",
            subject=ww,
        ),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        "source_partner",
    )
    young = known(job_seeker_category=JobSeekerCategory.YOUNG_PERSON)
    assert (
        run(
            records.availability(WHO, source_partner="gemeente-amsterdam"),
            publisher="gemeente-amsterdam",
            subject=young,
        )
        is None
    )
    # nobody knows who is responsible yet: refused, the hub cannot check the rule
    refused(run(records.availability(WHO)), DeadLetterReason.PUBLISHER_NOT_ALLOWED)


def test_an_availability_must_say_available_or_not() -> None:
    refused(
        run(records.availability(WHO, available=None), subject=known()),
        DeadLetterReason.SCHEMA_INVALID,
        "available",
    )
