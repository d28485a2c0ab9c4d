"""Crypto-shredding: sealed special-category fields, subject keys, destroy."""

from __future__ import annotations

import base64
import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from pydantic import SecretStr

from consent.store import ConsentStore, open_store
from consent.subject_keys import (
    LEGACY_SUBJECT_KEYS_DB,
    SUBJECT_MASTER_KEY_FILE,
    subject_key_store,
)
from hub.config import HubSettings
from hub.keyfile import load_or_create_key
from hub.security.errors import (
    ShreddingError,
    SubjectKeyRefused,
    SubjectKeyShredded,
    SubjectKeyUnknown,
)
from hub.security.hub_identity import keys_dir
from hub.security.keys import KeyStore
from hub.security.shredding import (
    MAX_CACHE_S,
    SEALED_FIELD,
    CachedSubjectKeys,
    FieldSealer,
    SubjectKey,
    SubjectKeyInfo,
    SubjectKeyStore,
    is_token,
    sealed_field_schema,
    special_fields,
    unwrap_subject_key,
    wrap_subject_key,
)
from hub.serde import self_contained_schema
from schemas import codec, load_schemas
from schemas.examples import example
from tests.helpers.security import AMSTERDAM, UWV

PROFILE = "nl.rmt.hub.ClientProfile"
SUBJECT = "pseudonym-1"
HEALTH = {"work_limitation": True, "banenafspraak": True, "health_needs": ["ADAPTED_WORKPLACE"]}


MASTER = bytes(range(32))


@pytest.fixture(params=("sqlite", "postgresql"))
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConsentStore]:
    """The consent database the subject keys live in, on SQLite and on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'consent.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def keys(database: ConsentStore) -> Iterator[SubjectKeyStore]:
    store = SubjectKeyStore(database, MASTER)
    yield store
    store.close()


def record() -> dict[str, Any]:
    return {"event_id": "e1", "client_pseudonym": SUBJECT, "municipality": "0363", **HEALTH}


def test_special_fields_come_from_the_schema_categories() -> None:
    schema_set = load_schemas()
    fields = special_fields(schema_set.field_categories(PROFILE))
    assert set(fields) >= {"work_limitation", "banenafspraak", "health_needs", "reduced_wage_value"}
    assert special_fields(schema_set.field_categories("nl.rmt.hub.Referral")) == ()


def test_seal_and_open(keys: SubjectKeyStore) -> None:
    sealer = FieldSealer(keys)
    sealed = sealer.seal(record(), HEALTH, subject=SUBJECT)
    assert all(sealed[f] is None for f in HEALTH)
    assert set(sealed[SEALED_FIELD]) == set(HEALTH)
    assert all(is_token(t) for t in sealed[SEALED_FIELD].values())
    assert "True" not in json.dumps(sealed)
    assert "ADAPTED" not in json.dumps(sealed)
    assert sealer.open(sealed, subject=SUBJECT) == record() | {SEALED_FIELD: None}


def test_null_fields_are_not_sealed(keys: SubjectKeyStore) -> None:
    sealed = FieldSealer(keys).seal(record() | {"banenafspraak": None}, HEALTH, subject=SUBJECT)
    assert set(sealed[SEALED_FIELD]) == {"work_limitation", "health_needs"}
    nothing = FieldSealer(keys).seal({"x": 1}, HEALTH, subject=SUBJECT)
    assert nothing[SEALED_FIELD] is None


def test_destroying_the_subject_key_shreds_every_copy(keys: SubjectKeyStore) -> None:
    sealer = FieldSealer(keys)
    copies = [sealer.seal(record(), HEALTH, subject=SUBJECT) for _ in range(3)]
    other = sealer.seal(record() | {"client_pseudonym": "p2"}, HEALTH, subject="p2")
    assert keys.destroy(SUBJECT) == 1
    for copy in copies:
        with pytest.raises(SubjectKeyShredded):
            sealer.open(copy, subject=SUBJECT)
        # also through a fresh sealer and a fresh store on the same database: gone for good
        fresh = SubjectKeyStore(keys.rows, MASTER)
        with pytest.raises(SubjectKeyShredded):
            FieldSealer(fresh).open(copy, subject=SUBJECT)
        fresh.close()
        blanked = sealer.open(copy, subject=SUBJECT, on_shredded="null")
        assert all(blanked[f] is None for f in HEALTH)
        assert blanked[SEALED_FIELD] is None
    assert sealer.open(other, subject="p2")["banenafspraak"] is True
    assert keys.is_shredded(SUBJECT)
    assert not keys.is_shredded("p2")


def test_new_data_after_shredding_gets_a_new_key(keys: SubjectKeyStore) -> None:
    sealer = FieldSealer(keys)
    old = sealer.seal(record(), HEALTH, subject=SUBJECT)
    keys.destroy(SUBJECT)
    new = sealer.seal(record(), HEALTH, subject=SUBJECT)
    assert sealer.open(new, subject=SUBJECT)["work_limitation"] is True
    with pytest.raises(SubjectKeyShredded):
        sealer.open(old, subject=SUBJECT)
    assert [i.destroyed for i in keys.keys_of(SUBJECT)] == [True, False]


def test_destroyed_key_material_leaves_the_database(tmp_path: Path) -> None:
    database = open_store(f"sqlite:///{tmp_path / 'consent.db'}")
    database.migrate()
    keys = SubjectKeyStore(database, MASTER)
    key = keys.current_key(SUBJECT)
    row = database.live_subject_key(SUBJECT)
    assert row is not None
    assert row.wrapped is not None

    def on_disk() -> bytes:  # the database file and its write-ahead log
        return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("consent.db*")))

    assert key.secret not in on_disk()  # stored wrapped under the master key
    assert row.wrapped in on_disk()
    keys.destroy(SUBJECT)
    assert row.wrapped not in on_disk()  # overwritten (secure_delete), the log emptied
    keys.close()
    database.close()


def test_replicas_share_one_key_per_subject(database: ConsentStore) -> None:
    """Two processes (router replicas, the consent service) on one database: the first
    to seal makes the subject's key, the others use it; a destroy holds for all."""
    replicas = [SubjectKeyStore(database, MASTER, cache_ttl_s=0.0) for _ in range(3)]
    made = {r.current_key(SUBJECT).key_id for r in replicas}
    assert len(made) == 1
    token = FieldSealer(replicas[0]).seal_value(SUBJECT, "banenafspraak", True)
    assert FieldSealer(replicas[2]).open_value(SUBJECT, "banenafspraak", token) is True
    assert replicas[1].destroy(SUBJECT) == 1
    with pytest.raises(SubjectKeyShredded):
        FieldSealer(replicas[2]).open_value(SUBJECT, "banenafspraak", token)


def test_a_race_for_the_first_key_makes_one(database: ConsentStore) -> None:
    """Replicas sealing a new subject's first fields at the same moment agree on one key
    (the store makes it under the subject's lock)."""
    replicas = [SubjectKeyStore(database, MASTER, cache_ttl_s=0.0) for _ in range(4)]
    barrier = threading.Barrier(len(replicas))
    found: list[str] = []

    def seal(store: SubjectKeyStore) -> None:
        barrier.wait()
        found.append(store.current_key("racing-subject").key_id)

    threads = [threading.Thread(target=seal, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(found) == len(replicas)
    assert len(set(found)) == 1
    assert len(database.subject_key_rows("racing-subject")) == 1


def _legacy_file(path: Path, master: bytes) -> tuple[SubjectKey, SubjectKeyInfo]:
    """A per-process subject key file as the hub kept it before: one live key (wrapped
    under ``master``), one destroyed."""
    live = SubjectKey("psn-live", "11" * 16, bytes(range(1, 33)))
    wrapped = SubjectKeyStore(cast(Any, None), master).wrap(live, created_at_ms=1000)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE subject_keys (key_id TEXT PRIMARY KEY, subject TEXT NOT NULL, wrapped "
        "BLOB, created_at_ms INTEGER NOT NULL, destroyed_at_ms INTEGER)"
    )
    db.execute(
        "INSERT INTO subject_keys VALUES (?, ?, ?, ?, NULL)",
        (live.key_id, live.subject, wrapped.wrapped, 1000),
    )
    db.execute("INSERT INTO subject_keys VALUES (?, 'psn-gone', NULL, 500, 900)", ("22" * 16,))
    db.commit()
    db.close()
    return live, SubjectKeyInfo("psn-gone", "22" * 16, 500, 900)


def test_a_per_process_key_file_of_before_is_moved_into_the_database(tmp_path: Path) -> None:
    """Keys of the SQLite file each process kept before (data_dir/subject-keys.sqlite,
    under the master key file) are imported, tombstones too, wrapped anew under the
    master key now in use, and open through the shared store."""
    settings = HubSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    old_master = load_or_create_key(
        None, keys_dir(settings) / SUBJECT_MASTER_KEY_FILE, label="old", env="x"
    )
    live, dead = _legacy_file(tmp_path / LEGACY_SUBJECT_KEYS_DB, old_master)
    new_master = base64.urlsafe_b64encode(bytes(range(32))).decode()
    moved = subject_key_store(
        settings.model_copy(update={"subject_master_key": SecretStr(new_master)})
    )
    try:
        assert moved.key(live.subject, live.key_id) == live
        with pytest.raises(SubjectKeyShredded):
            moved.key(dead.subject, dead.key_id)
        assert moved.keys_of(dead.subject) == [dead]
        assert FieldSealer(moved).seal_value(live.subject, "banenafspraak", True)
        assert moved.current_key(live.subject) == live  # still the subject's key
    finally:
        moved.close()
    assert not (tmp_path / LEGACY_SUBJECT_KEYS_DB).exists()
    assert (tmp_path / f"{LEGACY_SUBJECT_KEYS_DB}.imported").exists()


def test_tokens_are_bound_to_subject_and_field(keys: SubjectKeyStore) -> None:
    sealer = FieldSealer(keys)
    token = sealer.seal_value(SUBJECT, "banenafspraak", True)
    with pytest.raises(ShreddingError, match="does not open"):
        sealer.open_value(SUBJECT, "work_limitation", token)
    with pytest.raises(SubjectKeyUnknown):
        sealer.open_value("p2", "banenafspraak", token)
    with pytest.raises(ShreddingError, match="not a sealed-field token"):
        sealer.open_value(SUBJECT, "banenafspraak", "true")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(ShreddingError):
        sealer.open_value(SUBJECT, "banenafspraak", tampered)


def test_wrong_master_key_is_refused(keys: SubjectKeyStore) -> None:
    keys.current_key(SUBJECT)
    wrong = SubjectKeyStore(keys.rows, bytes(32))
    with pytest.raises(ShreddingError, match="master key"):
        wrong.current_key(SUBJECT)
    wrong.close()
    with pytest.raises(ShreddingError, match="32 bytes"):
        SubjectKeyStore(keys.rows, b"short")


def test_sealed_records_still_fit_avro_with_the_sealed_field(keys: SubjectKeyStore) -> None:
    schema_set = load_schemas()
    schema = self_contained_schema(PROFILE, schema_set.raw)
    if SEALED_FIELD not in {f["name"] for f in schema["fields"]}:
        schema["fields"].append(sealed_field_schema())
    parsed = parse_schema(json.loads(json.dumps(schema)))
    value = codec.to_avro(example(PROFILE))
    value |= {"work_limitation": True, "banenafspraak": True}
    fields = special_fields(schema_set.field_categories(PROFILE))
    sealed = FieldSealer(keys).seal(value | {SEALED_FIELD: None}, fields, subject=SUBJECT)
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed, sealed)
    buffer.seek(0)
    decoded = schemaless_reader(buffer, parsed, parsed)
    assert isinstance(decoded, dict)
    opened = FieldSealer(keys).open(decoded, subject=SUBJECT)
    assert opened["work_limitation"] is True
    assert opened["banenafspraak"] is True


def test_cached_provider_for_processes_outside_the_hub(keys: SubjectKeyStore) -> None:
    calls: list[tuple[str, str | None]] = []
    now = [0.0]

    def fetch(subject: str, key_id: str | None) -> SubjectKey:
        calls.append((subject, key_id))
        return keys.current_key(subject) if key_id is None else keys.key(subject, key_id)

    provider = CachedSubjectKeys(fetch, ttl_s=60, clock=lambda: now[0])
    sealer = FieldSealer(provider)
    sealed = sealer.seal(record(), HEALTH, subject=SUBJECT)
    assert sealer.open(sealed, subject=SUBJECT)["banenafspraak"] is True
    assert len(calls) == 1  # current key, then served from the cache by id
    keys.destroy(SUBJECT)
    assert sealer.open(sealed, subject=SUBJECT)["banenafspraak"] is True  # within the TTL
    now[0] += 61
    with pytest.raises(SubjectKeyShredded):
        sealer.open(sealed, subject=SUBJECT)
    calls.clear()
    with pytest.raises(SubjectKeyShredded):
        sealer.open(sealed, subject=SUBJECT)
    assert len(calls) == 0  # the shredded answer is cached too


def test_subject_key_grants_open_only_for_the_recipient(
    keys: SubjectKeyStore, store: KeyStore
) -> None:
    key = keys.current_key(SUBJECT)
    blob, headers = wrap_subject_key(key, store.directory().current(AMSTERDAM))
    opened = unwrap_subject_key(SUBJECT, key.key_id, blob, headers, store.private_keys(AMSTERDAM))
    assert opened == key
    with pytest.raises(ShreddingError, match="does not open"):
        unwrap_subject_key(SUBJECT, key.key_id, blob, headers, store.private_keys(UWV))


def test_secrets_are_masked(keys: SubjectKeyStore) -> None:
    key = keys.current_key(SUBJECT)
    assert key.secret.hex() not in repr(key)
    assert "**********" in repr(key)
    assert "**********" in repr(keys)


def test_a_partner_keeps_a_granted_key_no_longer_than_the_bound(keys: SubjectKeyStore) -> None:
    """The SDK's cache keeps an answer at most its TTL, less when the key service says so,
    never more than MAX_CACHE_S; a refusal is cached like a shredded answer; forget()
    drops a subject at once (an erasure notice)."""
    now = [0.0]
    refused = [False]
    calls: list[str] = []

    def fetch(subject: str, key_id: str | None) -> tuple[SubjectKey, float]:
        calls.append(subject)
        if refused[0]:
            raise SubjectKeyRefused(subject, key_id, "consent withdrawn")
        assert key_id is not None
        return keys.key(subject, key_id), 10.0  # the service: keep it 10 s

    key = keys.current_key(SUBJECT)
    provider = CachedSubjectKeys(fetch, ttl_s=60, clock=lambda: now[0])
    assert provider.key(SUBJECT, key.key_id) == key
    now[0] = 9.0
    provider.key(SUBJECT, key.key_id)
    assert len(calls) == 1  # within the service's 10 s
    refused[0] = True
    now[0] = 10.5
    with pytest.raises(SubjectKeyRefused):
        provider.key(SUBJECT, key.key_id)  # asked again: refused from now on
    with pytest.raises(SubjectKeyRefused):
        provider.key(SUBJECT, key.key_id)
    assert len(calls) == 2
    provider.forget(SUBJECT)
    with pytest.raises(SubjectKeyRefused):
        provider.key(SUBJECT, key.key_id)
    assert len(calls) == 3
    with pytest.raises(ShreddingError, match="0 to 300"):
        CachedSubjectKeys(fetch, ttl_s=MAX_CACHE_S + 1)
