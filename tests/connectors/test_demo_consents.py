"""The demo consents: generated from the seed, within the policy matrix, granted into a real
consent service before the feed, and about the very pseudonyms the imported records carry."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.demo import CONSENTS, DemoManifest, feed_demo, generate, load_demo_consents
from connectors.demo.consents import DEMO_ACTOR
from consent.model import LegalBasis
from consent.policy import load_policy
from consent.runtime import ConsentRuntime
from hub.config import HubSettings
from hub.sdk.pseudonym import DEVELOPMENT_PSEUDONYM_KEY, Pseudonymiser, pseudonym_key
from schemas.models import ClientProfile
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose
from tests.helpers.connectors import read_records
from topics import load_partners

EDUCATION = DataCategory.EDUCATION
HEALTH = DataCategory.HEALTH
_NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _bsns(directory: Path) -> set[str]:
    """Every nine-digit run in the export files (the BSNs, valid or not)."""
    found: set[str] = set()
    for file in DemoManifest.load(directory).files:
        found |= set(re.findall(r"\b\d{9}\b", (directory / file.path).read_text("utf-8")))
    return found


def test_demo_consents_are_deterministic_within_policy_and_name_no_bsn(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", people=300, seed=5)
    generate(tmp_path / "b", people=300, seed=5)
    generate(tmp_path / "c", people=300, seed=6)
    text = (tmp_path / "a" / CONSENTS).read_bytes()
    assert text == (tmp_path / "b" / CONSENTS).read_bytes()
    assert text != (tmp_path / "c" / CONSENTS).read_bytes()

    consents = load_demo_consents(tmp_path / "a")
    assert len(consents) == first.consents == DemoManifest.load(tmp_path / "a").consents
    assert not _bsns(tmp_path / "a") & set(re.findall(r"\d{9}", text.decode()))
    assert all(c.subject is None for c in consents)  # no pseudonymiser given

    # About 80% of the valid person rows of UWV, the gemeenten and the social partners.
    people = sum(
        f.rows - len(f.invalid_lines)
        for f in first.files
        if f.kind in ("uwv", "gemeente")
        or (f.kind == "social_partners" and f.endpoint != "/v1/vacancies")
    )
    assert 0.7 * people < len(consents) < 0.9 * people
    assert len({(c.file, c.row) for c in consents}) == len(consents)

    policy = load_policy()
    partners = {p.id: p for p in load_partners()}
    health = 0
    for consent in consents:
        terms = consent.consent_terms("psn-test", now=_NOW)
        controller = partners[terms.controller]
        assert terms.job_seeker_category is not None
        allowed = {terms.job_seeker_category.first_responsible}
        if terms.job_seeker_category is JobSeekerCategory.THREATENED_EMPLOYEE:
            allowed.add(PartnerKind.UWV)
        assert controller.kind in allowed
        kinds = {r.partner_kind for r in terms.recipients}
        assert None not in kinds
        assert controller.kind not in kinds
        cells = [policy.allowed(k, p) for k in kinds if k is not None for p in terms.purposes]
        for category in terms.data_categories:
            assert any(category in cell for cell in cells), (consent, category)
        assert DataCategory.DEBTS not in terms.data_categories
        explicit = DataCategory.HEALTH in terms.data_categories
        assert (terms.legal_basis is LegalBasis.EXPLICIT_CONSENT) is explicit
        health += explicit
    assert 0 < health < len(consents)  # some share health, so the others' is withheld
    assert Counter(c.file.split("/")[0] for c in consents).keys() == {
        "uwv",
        "gemeente",
        "social_partners",
    }

    # With a pseudonymiser the generator writes the subjects too (still no BSN).
    pseudonymise = Pseudonymiser(DEVELOPMENT_PSEUDONYM_KEY)
    generate(tmp_path / "d", people=300, seed=5, pseudonymise=pseudonymise)
    with_subjects = load_demo_consents(tmp_path / "d")
    assert [c.terms for c in with_subjects] == [c.terms for c in consents]
    assert all(c.subject and c.subject.startswith("psn-") for c in with_subjects)


@pytest.mark.integration
def test_demo_consents_are_granted_before_the_feed_for_the_imported_pseudonyms(
    env: HubSettings, tmp_path: Path
) -> None:
    directory = tmp_path / "demo"
    manifest = generate(directory, people=40, seed=11, partners=load_partners(env.partners_file))
    consents = load_demo_consents(directory)
    assert manifest.consents == len(consents) > 0

    with ConsentRuntime(env, publish_timeout_s=30) as runtime:
        first = feed_demo(env, directory, consent_service=runtime.service)
        assert first.consents_granted == len(consents)
        assert f"{len(consents)} consents granted" in first.summary()

        # The pseudonyms the SDK computed for the imported rows, per publishing partner.
        imported: dict[str, set[str]] = {}
        for controller in {c.terms["controller"] for c in consents}:
            topic = f"{env.topic_prefix}.partner.{controller}.outbox"
            imported[controller] = {
                r.client_pseudonym
                for _, r, _ in read_records(env, topic)
                if isinstance(r, ClientProfile)
            }
        pseudonymise = Pseudonymiser(pseudonym_key(env))
        exports = {f.path: f for f in manifest.files}
        checked = 0
        health_seen: set[bool] = set()
        for consent in consents:
            export = exports[consent.file]
            bsn = _bsn_at(directory / export.path, export.kind, consent.row)
            subject = pseudonymise(bsn)
            assert subject in imported[consent.terms["controller"]]
            (record,) = runtime.service.for_subject(subject)
            assert record.controller == consent.terms["controller"]
            assert record.proof.recorded_by == DEMO_ACTOR
            assert runtime.service.bsn_on_file(subject)
            # What the router will ask: each named recipient of the directory gets the
            # education level for the arrangement; health only with explicit consent.
            for partner in load_partners(env.partners_file):
                if partner.id == record.controller or not any(
                    r.matches(partner.id, partner.kind, partner.region) for r in record.recipients
                ):
                    continue
                decide = runtime.service.decide
                checked += 1
                assert decide(subject, partner.id, Purpose.ARRANGEMENT, [EDUCATION]).allowed
                if partner.kind is PartnerKind.UWV:
                    health = decide(subject, partner.id, Purpose.MATCHING_PLACEMENT, [HEALTH])
                    assert health.allowed is (HEALTH in record.data_categories)
                    health_seen.add(health.allowed)
        assert checked > 0
        assert health_seen == {True, False}  # health shared by some, withheld for others
        assert runtime.service.status_counts().get("GIVEN") == len(consents)

        again = feed_demo(env, directory, consent_service=runtime.service)
        assert again.consents_granted == 0
        assert again.published == 0
        assert runtime.service.status_counts().get("GIVEN") == len(consents)


def _bsn_at(path: Path, kind: str, row: int) -> str:
    text = path.read_text("utf-8")
    if kind == "uwv":
        return str(json.loads(text.splitlines()[row - 1])["bsn"])
    if kind == "gemeente":
        return text.splitlines()[row - 1].split(";")[0]
    return str(json.loads(text)["werknemers"][row - 1]["bsn"])
