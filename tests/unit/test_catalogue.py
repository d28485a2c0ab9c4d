"""The topic catalogue and partner directory, without a broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import load_settings
from hub.errors import ConfigError, TopicError
from schemas import load_schemas
from topics import ROUTER_PRINCIPAL, KeyKind, TopicSpec, build_catalogue, load_partners


def test_builtin_directory_has_every_partner_kind() -> None:
    partners = load_partners()
    assert {p.kind.value for p in partners} == {
        "UWV",
        "GEMEENTE",
        "SOCIAL_PARTNER",
        "SBB",
        "EDUCATION",
    }


def test_every_partner_gets_an_inbox_and_an_outbox() -> None:
    settings = load_settings()
    catalogue = build_catalogue(settings)
    for partner in load_partners():
        outbox = catalogue.outbox(partner.id)
        inbox = catalogue.inbox(partner.id)
        assert outbox.writers == (partner.id,)
        assert outbox.readers == (ROUTER_PRINCIPAL,)
        assert inbox.readers == (partner.id, ROUTER_PRINCIPAL)
        assert inbox.writers == (ROUTER_PRINCIPAL,)


def test_a_partner_reads_only_its_own_inbox() -> None:
    catalogue = build_catalogue(load_settings())
    readable = [t.name for t in catalogue.readable_by("uwv")]
    assert readable == ["rmt.partner.uwv.inbox"]


def test_catalogue_is_consistent_with_schemas_and_directory() -> None:
    catalogue = build_catalogue(load_settings())
    catalogue.check(load_schemas().names(), [p.id for p in load_partners()])
    assert catalogue.dead_letter.value_schemas == ("nl.rmt.hub.DeadLetter",)
    assert catalogue.monitor_events.key is KeyKind.MONITOR_PSEUDONYM


def test_person_topics_are_co_partitioned_with_the_consent_feed() -> None:
    catalogue = build_catalogue(load_settings(topic_partitions=6))
    counts = {t.partitions for t in catalogue if t.co_partitioned}
    assert counts == {6}
    assert catalogue.consent_changes.co_partitioned


def test_check_names_an_unknown_value_schema() -> None:
    catalogue = build_catalogue(load_settings())
    broken = catalogue.model_copy(
        update={
            "topics": (
                *catalogue.topics,
                TopicSpec(
                    **{
                        **catalogue.dead_letter.model_dump(),
                        "name": "rmt.extra",
                        "value_schemas": ("nl.rmt.hub.Nope",),
                    }
                ),
            )
        }
    )
    with pytest.raises(TopicError, match=r"rmt.extra: value schema nl.rmt.hub.Nope does not exist"):
        broken.check(load_schemas().names(), [p.id for p in load_partners()])


def test_check_refuses_broken_co_partitioning() -> None:
    catalogue = build_catalogue(load_settings())
    odd = catalogue.consent_changes.model_copy(update={"partitions": 1})
    broken = catalogue.model_copy(
        update={"topics": tuple(odd if t.name == odd.name else t for t in catalogue)}
    )
    with pytest.raises(TopicError, match="co-partitioned"):
        broken.check(load_schemas().names(), [p.id for p in load_partners()])


def test_partner_file_errors_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "partners.json"
    path.write_text(json.dumps({"partners": [{"id": "x", "kind": "BANK", "name": "n"}]}))
    with pytest.raises(ConfigError, match=r"partners.json: partners.0.kind: Input should be"):
        load_partners(path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        load_partners(path)


def test_duplicate_partner_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "partners.json"
    entry = {"id": "uwv", "kind": "UWV", "name": "UWV"}
    path.write_text(json.dumps({"partners": [entry, entry]}))
    with pytest.raises(ConfigError, match="'uwv' appears twice"):
        load_partners(path)


def test_partners_file_setting_drives_the_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "partners.json"
    path.write_text(json.dumps({"partners": [{"id": "uwv", "kind": "UWV", "name": "UWV"}]}))
    catalogue = build_catalogue(load_settings(partners_file=path))
    assert [t.name for t in catalogue if ".partner." in t.name] == [
        "rmt.partner.uwv.outbox",
        "rmt.partner.uwv.inbox",
    ]


def test_a_partner_named_like_a_hub_service_is_refused(tmp_path: Path) -> None:
    """A partner ``router`` would get the router's ACLs: its id is a service principal."""
    directory = tmp_path / "partners.json"
    partners = json.loads((Path(__file__).parents[2] / "topics" / "partners.json").read_text())
    partners["partners"][0]["id"] = "router"
    directory.write_text(json.dumps(partners), encoding="utf-8")
    with pytest.raises(TopicError, match="router"):
        build_catalogue(load_settings(partners_file=directory))
