"""Crypto-shredding: sealed special-category fields, subject keys, destroy."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from hub.security.errors import ShreddingError, SubjectKeyShredded, SubjectKeyUnknown
from hub.security.keys import KeyStore
from hub.security.shredding import (
    SEALED_FIELD,
    CachedSubjectKeys,
    FieldSealer,
    SubjectKey,
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


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[SubjectKeyStore]:
    store = SubjectKeyStore(tmp_path / "subject-keys.sqlite", bytes(range(32)))
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
        # also through a fresh sealer and a fresh store on the same file: gone for good
        fresh = SubjectKeyStore(keys.path, bytes(range(32)))
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


def test_destroyed_key_material_leaves_the_database(keys: SubjectKeyStore) -> None:
    key = keys.current_key(SUBJECT)
    db = sqlite3.connect(keys.path)
    wrapped = db.execute("SELECT wrapped FROM subject_keys").fetchone()[0]
    db.close()
    data = keys.path.read_bytes()
    assert key.secret not in data  # stored wrapped under the master key
    assert wrapped in data
    keys.destroy(SUBJECT)
    assert wrapped not in keys.path.read_bytes()  # overwritten (secure_delete)


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
    wrong = SubjectKeyStore(keys.path, bytes(32))
    with pytest.raises(ShreddingError, match="master key"):
        wrong.current_key(SUBJECT)
    wrong.close()
    with pytest.raises(ShreddingError, match="32 bytes"):
        SubjectKeyStore(keys.path, b"short")


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
