"""The policy matrix file and its rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consent.errors import PolicyError
from consent.policy import MONITORING_ONLY, load_policy
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory, PartnerKind, Purpose

BUILT_IN = Path(__file__).parents[2] / "consent" / "policy_matrix.json"


def _matrix() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUILT_IN.read_text())
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps(data))
    return path


def test_the_built_in_matrix_covers_every_kind_and_purpose() -> None:
    policy = load_policy()
    for kind in PartnerKind:
        for purpose in Purpose:
            assert isinstance(policy.allowed(kind, purpose), frozenset)
            assert policy.why(kind, purpose)


def test_the_monitor_gets_only_statistics() -> None:
    policy = load_policy()
    for kind in PartnerKind:
        assert policy.allowed(kind, Purpose.MONITORING) <= MONITORING_ONLY
        for purpose in Purpose:
            if purpose is not Purpose.MONITORING:
                assert DataCategory.STATISTICAL not in policy.allowed(kind, purpose)


def test_choices_from_the_domain() -> None:
    policy = load_policy()
    assert policy.implied_categories == {DataCategory.META, DataCategory.PSEUDONYM}
    assert not policy.implied_categories & SPECIAL_CATEGORIES
    # only UWV is the cashier
    for kind in PartnerKind:
        cell = policy.allowed(kind, Purpose.BUDGET_ADMINISTRATION)
        assert bool(cell) is (kind is PartnerKind.UWV)
    assert DataCategory.IDENTITY not in policy.allowed(
        PartnerKind.UWV, Purpose.BUDGET_ADMINISTRATION
    )
    # SBB and schools never receive health data or debts, and are never first-responsible
    for kind in (PartnerKind.SBB, PartnerKind.EDUCATION):
        for purpose in Purpose:
            assert DataCategory.HEALTH not in policy.allowed(kind, purpose)
            assert DataCategory.DEBTS not in policy.allowed(kind, purpose)
        assert not policy.allowed(kind, Purpose.RESPONSIBILITY_TRANSFER)
        assert not policy.allowed(kind, Purpose.INTAKE_DIAGNOSIS)
    # debts are for the municipality's debt counselling (and UWV's diagnosis)
    assert DataCategory.DEBTS in policy.allowed(PartnerKind.GEMEENTE, Purpose.WARM_HANDOVER)
    assert DataCategory.DEBTS not in policy.allowed(
        PartnerKind.SOCIAL_PARTNER, Purpose.INTAKE_DIAGNOSIS
    )
    # vacancies are not personal data
    for kind in PartnerKind:
        for purpose in Purpose:
            assert DataCategory.BUSINESS not in policy.allowed(kind, purpose)


def test_a_missing_cell_is_refused(tmp_path: Path) -> None:
    data = _matrix()
    del data["kinds"]["SBB"]["WARM_HANDOVER"]
    with pytest.raises(PolicyError, match=r"kinds\.SBB\.WARM_HANDOVER: missing"):
        load_policy(_write(tmp_path, data))


def test_a_missing_kind_is_refused(tmp_path: Path) -> None:
    data = _matrix()
    del data["kinds"]["EDUCATION"]
    with pytest.raises(PolicyError, match=r"kinds\.EDUCATION: missing"):
        load_policy(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("kind", "purpose", "category", "message"),
    [
        ("UWV", "MONITORING", "identity", "MONITORING may only get"),
        ("UWV", "MONITORING", "pseudonym", "MONITORING may only get"),
        ("GEMEENTE", "ARRANGEMENT", "statistical", "for MONITORING only"),
        ("GEMEENTE", "ARRANGEMENT", "business", "not personal data"),
    ],
)
def test_rules_of_the_matrix(
    tmp_path: Path, kind: str, purpose: str, category: str, message: str
) -> None:
    data = _matrix()
    data["kinds"][kind][purpose]["categories"].append(category)
    with pytest.raises(PolicyError, match=message):
        load_policy(_write(tmp_path, data))


def test_health_is_never_implied(tmp_path: Path) -> None:
    data = _matrix()
    data["implied_categories"].append("health")
    with pytest.raises(PolicyError, match="special category"):
        load_policy(_write(tmp_path, data))


def test_unknown_category_and_bad_json(tmp_path: Path) -> None:
    data = _matrix()
    data["kinds"]["UWV"]["SCHOOLING"]["categories"].append("shoe_size")
    with pytest.raises(PolicyError, match=r"kinds\.UWV\.SCHOOLING\.categories"):
        load_policy(_write(tmp_path, data))
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "x",\n  oops}')
    with pytest.raises(PolicyError, match="line 2"):
        load_policy(broken)
    with pytest.raises(PolicyError, match="No such file"):
        load_policy(tmp_path / "missing.json")
