"""Issue 16 (part 4): the subject-key service, on the real broker with real router workers.

The hub seals special-category (health) fields with a key per subject. The keys live in
the consent database, one store for every router replica and the consent service, and
the consent service grants a key to a partner while - and only while - a consent entitles
it to the subject's health data, wrapped to the partner's X25519 key. The SDK and the
file delivery connector open the sealed fields with it; after a withdrawal the grant is
refused and the key destroyed.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.delivery import FileDrop, deliver
from consent.api import issue_key
from consent.model import Role
from consent.runtime import ConsentRuntime
from consent.subject_keys import subject_key_store
from hub.config import HubSettings
from hub.http import HttpServer
from hub.router.options import RouterOptions
from hub.router.runtime import RouterProcess
from hub.router.validation import partition_of
from hub.sdk import InboxMessage, PartnerClient
from hub.sdk.subject_keys import consent_subject_keys
from hub.security.errors import SubjectKeyRefused, SubjectKeyShredded
from hub.security.shredding import TOKEN_PREFIX
from hub.serde import SerializationContext
from schemas.models import ClientProfile, ErasureNotice
from schemas.models.enums import HealthNeed
from schemas.vocabulary import DataCategory, Purpose
from tests.consent.factories import terms
from tests.plugins.hub import own_hub
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub
from tests.router.helpers.workers import wait_split

pytestmark = pytest.mark.integration

GEMEENTE = "gemeente-amsterdam"
CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
    DataCategory.HEALTH,
)
HEALTH = {"work_limitation": True, "health_needs": [HealthNeed.WORKPLACE_ADAPTATION]}


@dataclass
class KeyService:
    """The hub's consent service over HTTP, on the database the router workers share."""

    hub: Hub
    runtime: ConsentRuntime
    url: str
    gemeente_key: str

    def partner_settings(self) -> HubSettings:
        """The gemeente's settings: where to ask for subject keys, with its API key."""
        return self.hub.settings.model_copy(
            update={"consent_url": self.url, "consent_api_key": SecretStr(self.gemeente_key)}
        )

    def grant_health(self, who: str) -> Any:
        """An officer records explicit consent: the gemeente may receive the health data."""
        return self.runtime.service.grant(
            terms(
                who,
                controller="uwv",
                job_seeker_category="WW_ENTRANT",
                recipients=[{"partner_id": GEMEENTE}],
                purposes=[Purpose.ARRANGEMENT.value],
                data_categories=[c.value for c in CATEGORIES],
                legal_basis="EXPLICIT_CONSENT",
            ),
            actor="officer:test",
        )


@pytest.fixture(scope="module")
def service(
    hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KeyService]:
    """A hub with one router worker and its consent service (SQLite in the data dir: the
    same database the worker keeps its subject keys in)."""
    with own_hub(hub_settings, tmp_path_factory.mktemp("subject-keys"), "skey") as hub:
        worker = hub.worker()
        runtime = ConsentRuntime(hub.settings)
        _, gemeente_key = issue_key(runtime.store, Role.PARTNER, "adam-system", GEMEENTE)
        runtime.start()
        http = HttpServer(runtime.app, name="consent-keys")
        try:
            url = http.start()
            worker.wait_ready(90, partitions=hub.settings.topic_partitions)
            yield KeyService(hub, runtime, url, gemeente_key)
        finally:
            http.stop()
            runtime.stop()


def _published(service: KeyService, who: str) -> ClientProfile:
    """UWV publishes a profile with health fields; returns once the gemeente has it."""
    profile = records.profile(who, **HEALTH)
    service.hub.publish(profile)
    service.hub.wait_for(
        lambda: service.hub.inbox(GEMEENTE),
        lambda rs: any(getattr(r.record, "event_id", None) == profile.event_id for r in rs),
        timeout_s=60,
        what="the profile in the gemeente's inbox",
    )
    return profile


def _withdrawn(service: KeyService, consent_id: str, who: str) -> None:
    """The officer withdraws; returns once the router sent the erasure notice (it destroys
    the subject's key before)."""
    service.runtime.service.withdraw(consent_id, actor="officer:test", reason=None)
    service.hub.wait_for(
        lambda: service.hub.inbox(GEMEENTE),
        lambda rs: any(
            isinstance(r.record, ErasureNotice) and r.record.client_pseudonym == who for r in rs
        ),
        timeout_s=60,
        what="the erasure notice",
    )


def _read_as_gemeente(service: KeyService, group: str) -> list[InboxMessage]:
    """The gemeente's inbox through the SDK, with the consent service's subject keys."""
    with PartnerClient(service.partner_settings(), GEMEENTE, group_id=group) as client:
        return list(client.subscribe(idle_timeout_s=3))


def _profile_of(messages: list[InboxMessage], event_id: str) -> InboxMessage:
    (found,) = [m for m in messages if getattr(m.record, "event_id", None) == event_id]
    assert found.error is None, found.error
    return found


def test_regression_an_entitled_gemeente_could_not_open_the_health_fields_with_the_sdk(
    service: KeyService,
) -> None:
    """A gemeente with explicit health consent received sealed tokens it could never open:
    there was no way to get a subject key. Now the SDK asks the consent service, which
    grants the key wrapped to the gemeente's key; after withdrawal it is refused."""
    who = records.subject()
    consent = service.grant_health(who)
    profile = _published(service, who)

    group = f"{service.hub.settings.topic_prefix}.sdk"
    got = _profile_of(_read_as_gemeente(service, f"{group}-1"), profile.event_id)
    assert isinstance(got.record, ClientProfile)
    assert got.record.work_limitation is True  # plaintext, opened with the granted key
    assert got.record.health_needs == [HealthNeed.WORKPLACE_ADAPTATION]
    assert got.record.sealed_fields is None
    assert got.disclosure is not None  # what was disclosed, from inside the envelope
    assert DataCategory.HEALTH in got.disclosure.data_categories
    assert "work_limitation" in got.disclosure.fields

    # the key on the wire: a grant wrapped to the gemeente's key, never the key itself
    key_id = _key_id(_token(service, profile.event_id))
    with httpx.Client(base_url=service.url, headers={"X-API-Key": service.gemeente_key}) as http:
        answer = http.get(f"/v1/subject-keys/{who}/{key_id}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["recipient"] == GEMEENTE
    assert body["consent_ids"] == [consent.id]
    assert body["cache_for_s"] <= 60
    secret = subject_key_store(service.hub.settings, cache_ttl_s=0.0)
    try:
        plain = secret.key(who, key_id).secret
    finally:
        secret.close()
    assert plain not in base64.b64decode(body["blob_b64"])
    assert plain.hex() not in answer.text

    _withdrawn(service, consent.id, who)
    keys = consent_subject_keys(service.partner_settings(), GEMEENTE, ttl_s=0.0)
    assert keys is not None
    try:
        with pytest.raises((SubjectKeyRefused, SubjectKeyShredded)):
            keys.key(who, key_id)  # fetch refused
    finally:
        keys.close()
    with httpx.Client(base_url=service.url, headers={"X-API-Key": service.gemeente_key}) as http:
        assert http.get(f"/v1/subject-keys/{who}/{key_id}").status_code == 403
    later = _profile_of(_read_as_gemeente(service, f"{group}-2"), profile.event_id)
    assert isinstance(later.record, ClientProfile)
    assert later.record.work_limitation is None  # the same delivery opens no more
    assert later.record.health_needs is None
    assert later.record.family_name == profile.family_name


def test_regression_file_delivery_left_the_health_fields_sealed_for_an_entitled_gemeente(
    service: KeyService, tmp_path: Path
) -> None:
    """The file drop wrote the health fields of an entitled gemeente as null, with tokens
    nobody could open; now it writes them in plaintext while the consent holds, and not
    after the withdrawal."""
    who = records.subject()
    consent = service.grant_health(who)
    profile = _published(service, who)
    settings = service.partner_settings()

    before = deliver(
        settings, GEMEENTE, FileDrop(tmp_path / "drop-1", partner_id=GEMEENTE), idle_exit_s=3
    )
    assert before.dead_lettered == 0
    data = _delivered(tmp_path / "drop-1", profile.event_id)
    assert data["work_limitation"] is True
    assert data["health_needs"] == ["WORKPLACE_ADAPTATION"]
    assert data["sealed_fields"] is None

    _withdrawn(service, consent.id, who)
    after = deliver(
        settings, GEMEENTE, FileDrop(tmp_path / "drop-2", partner_id=GEMEENTE), idle_exit_s=3
    )
    assert after.dead_lettered == 0
    data = _delivered(tmp_path / "drop-2", profile.event_id)
    assert data["work_limitation"] is None
    assert data["health_needs"] is None
    assert data["sealed_fields"] is None


def _drop(directory: Path) -> FileDrop:
    return FileDrop(directory, partner_id=GEMEENTE)


def _delivered(directory: Path, event_id: str) -> dict[str, Any]:
    lines = [
        json.loads(line)
        for file in sorted(directory.glob("*.jsonl"))
        for line in file.read_text("utf-8").splitlines()
    ]
    (found,) = [e["data"] for e in lines if e["data"].get("event_id") == event_id]
    assert isinstance(found, dict)
    return found


def _token(service: KeyService, event_id: str) -> str:
    """A sealed token of the profile's delivery, as the gemeente decrypts it."""
    inbox = service.hub.read(service.hub.catalogue.inbox(GEMEENTE).name, decode=False)
    for received in inbox:
        if received.headers.get("rmt-source-event-id") != event_id.encode():
            continue
        opened = service.hub.partner(GEMEENTE).open_inbound(
            topic=received.topic,
            key=received.key,
            value=received.raw,
            headers=list(received.headers.items()),
        )
        assert opened.value is not None
        record = service.hub.codec.decode(opened.value, SerializationContext(received.topic))
        assert isinstance(record, ClientProfile)
        assert record.sealed_fields
        return next(iter(record.sealed_fields.values()))
    raise AssertionError(f"no delivery of {event_id}")


def _key_id(token: str) -> str:
    raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :])
    return raw[:16].hex()


# --- two replicas, one store ---------------------------------------------------------------


def _replica(hub: Hub, name: str, data_dir: Path) -> RouterProcess:
    """A router worker as a replica in its own container: a data dir of its own, the
    shared key store, database and master key."""
    data_dir.mkdir(parents=True, exist_ok=True)
    options = RouterOptions.for_embedded_broker(
        metrics_port=0, status_file=data_dir / "status.json", log_level="INFO"
    )
    settings = hub.settings.model_copy(update={"data_dir": data_dir})
    process = RouterProcess(settings, options, log_file=data_dir / "router.log")
    hub.workers.append(process.start())
    return process


def _subjects_on_every_partition(partitions: int) -> list[str]:
    found: dict[int, str] = {}
    while len(found) < partitions:
        who = records.subject()
        found.setdefault(partition_of(who.encode(), partitions), who)
    return [found[p] for p in sorted(found)]


def _sealing_key_ids(hub: Hub, who: str) -> list[str]:
    """The subject key id of each delivery about ``who`` to the gemeente, in order."""
    ids = []
    for received in hub.read(hub.catalogue.inbox(GEMEENTE).name, decode=False):
        if received.key != who.encode() or received.raw is None:
            continue
        opened = hub.partner(GEMEENTE).open_inbound(
            topic=received.topic,
            key=received.key,
            value=received.raw,
            headers=list(received.headers.items()),
        )
        assert opened.value is not None
        record = hub.codec.decode(opened.value, SerializationContext(received.topic))
        if isinstance(record, ClientProfile) and record.sealed_fields:
            ids += sorted({_key_id(t) for t in record.sealed_fields.values()})
    return ids


def test_regression_two_router_replicas_sealed_one_subject_with_different_keys(
    hub_settings: HubSettings, postgres_url: str, tmp_path: Path
) -> None:
    """Each router replica kept its subject keys in a SQLite file of its own: after a
    rebalance the next replica sealed the same person's health fields with a new key,
    and the keys of a rebuilt container were lost. Now two replicas (own data dirs, as in
    two containers) share one store in PostgreSQL, under one master key."""
    master = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with own_hub(
        hub_settings,
        tmp_path / "hub",
        "rep",
        database_url=postgres_url,
        subject_master_key=SecretStr(master),
        keys_dir=tmp_path / "keys",
    ) as hub:
        first = _replica(hub, "w1", tmp_path / "w1")
        second = _replica(hub, "w2", tmp_path / "w2")
        wait_split(hub, first, second, timeout_s=120)
        subjects = _subjects_on_every_partition(hub.settings.topic_partitions)
        for who in subjects:
            hub.grant(who, to=[GEMEENTE], purposes=[Purpose.ARRANGEMENT], categories=CATEGORIES)
            hub.publish(records.profile(who, **HEALTH))
        hub.wait_for(
            lambda: hub.inbox(GEMEENTE),
            lambda rs: len([r for r in rs if isinstance(r.record, ClientProfile)]) >= len(subjects),
            timeout_s=90,
            what="a delivery per subject",
        )
        first.stop()  # the other replica takes every partition over
        hub.workers.remove(first)
        second.wait_ready(90, partitions=hub.settings.topic_partitions)
        for who in subjects:
            hub.publish(records.profile(who, **HEALTH))
        hub.wait_for(
            lambda: hub.inbox(GEMEENTE),
            lambda rs: (
                len([r for r in rs if isinstance(r.record, ClientProfile)]) >= 2 * len(subjects)
            ),
            timeout_s=90,
            what="a second delivery per subject",
        )
        store = subject_key_store(hub.settings, cache_ttl_s=0.0)
        try:
            for who in subjects:
                ids = _sealing_key_ids(hub, who)
                assert len(ids) == 2
                assert ids[0] == ids[1], f"{who}: sealed with {ids} by the two replicas"
                assert [k.key_id for k in store.keys_of(who)] == ids[:1]  # in the database
            assert not (tmp_path / "w1" / "subject-keys.sqlite").exists()
            assert not (tmp_path / "w2" / "subject-keys.sqlite").exists()
        finally:
            store.close()
