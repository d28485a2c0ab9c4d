"""Identities: key ids, validity, the key store on disk, rotation and masking."""

from __future__ import annotations

import copy
import json
import pickle
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from hub.sealed import is_sealed
from hub.security.errors import KeyNotFound, KeyStoreError
from hub.security.keys import (
    KeyRole,
    KeyStatus,
    KeyStore,
    PartnerKeys,
    PublicDirectory,
    key_id_of,
)
from schemas.vocabulary import PartnerKind
from tests.helpers.security import AMSTERDAM, HUB, UWV


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_key_id_is_the_fingerprint_of_both_public_keys(store: KeyStore) -> None:
    record = store.directory().current(UWV)
    assert record.key_id == key_id_of(
        record.signing_public_bytes(), record.encryption_public_bytes()
    )
    other = store.directory().current(AMSTERDAM)
    forged = record.model_dump() | {"encryption_public_key": other.encryption_public_key}
    with pytest.raises(ValidationError, match="fingerprint"):
        type(record).model_validate(forged)


def test_files_and_modes(store: KeyStore) -> None:
    key_id = store.directory().current(UWV).key_id
    assert stat.S_IMODE(store.private_dir.stat().st_mode) == 0o700
    for part in ("signing", "encryption"):
        path = store.private_dir / f"{key_id}.{part}.pem"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    public = json.loads(store.directory_path.read_text())
    assert public["version"] == 1
    assert {k["partner_id"] for k in public["keys"]} == {HUB, UWV, AMSTERDAM, "gemeente-utrecht"}
    assert "PRIVATE" not in store.directory_path.read_text()
    assert store.directory().current(UWV).kind is PartnerKind.UWV


def test_private_key_readable_by_others_is_refused(store: KeyStore) -> None:
    key_id = store.directory().current(UWV).key_id
    (store.private_dir / f"{key_id}.signing.pem").chmod(0o640)
    with pytest.raises(KeyStoreError, match="readable by others"):
        store.private(UWV)


def test_passphrase_encrypts_private_files(tmp_path: Path) -> None:
    secret = "correct horse battery staple"
    locked = KeyStore(tmp_path, passphrase=SecretStr(secret))
    record = locked.new(UWV)
    pem = (locked.private_dir / f"{record.key_id}.signing.pem").read_bytes()
    assert is_sealed(pem)
    assert b"PRIVATE KEY" not in pem
    assert locked.private(UWV).key_id == record.key_id
    with pytest.raises(KeyStoreError, match="give the passphrase"):
        KeyStore(tmp_path).private(UWV)
    with pytest.raises(KeyStoreError, match="wrong passphrase") as info:
        KeyStore(tmp_path, passphrase=SecretStr("nope")).private(UWV)
    assert secret not in str(info.value)
    assert "nope" not in str(info.value)
    assert secret not in repr(locked)


def test_new_refuses_a_second_active_key(store: KeyStore) -> None:
    with pytest.raises(KeyStoreError, match="keys rotate"):
        store.new(UWV)


def test_rotation_retires_the_old_key_after_the_overlap(tmp_path: Path) -> None:
    clock = Clock()
    keys = KeyStore(tmp_path, clock=clock)
    first = keys.new(UWV, kind=PartnerKind.UWV)
    clock.now += timedelta(days=30)
    old, new = keys.rotate(UWV, overlap=timedelta(days=2))
    assert old.key_id == first.key_id
    assert old.status is KeyStatus.RETIRED
    assert old.not_after == clock.now + timedelta(days=2)
    assert new.status is KeyStatus.ACTIVE
    assert new.kind is PartnerKind.UWV
    directory = keys.directory()
    assert directory.current(UWV, clock.now).key_id == new.key_id
    assert [k.key_id for k in keys.private_keys(UWV)] == [new.key_id, first.key_id]
    assert keys.private(UWV).key_id == new.key_id


def test_revoked_keys_are_not_current(store: KeyStore) -> None:
    record = store.directory().current(UWV)
    revoked = store.revoke(record.key_id)
    assert revoked.status is KeyStatus.REVOKED
    assert not revoked.valid_at(datetime.now(UTC))
    with pytest.raises(KeyNotFound):
        store.directory().current(UWV)
    assert store.private_keys(UWV) == []


def test_expired_keys_are_not_current(tmp_path: Path) -> None:
    clock = Clock()
    keys = KeyStore(tmp_path, clock=clock)
    keys.new(UWV, valid_for=timedelta(days=1))
    with pytest.raises(KeyNotFound, match="no active key"):
        keys.directory().current(UWV, clock.now + timedelta(days=2))


def test_directory_round_trip_and_malformed_input(store: KeyStore) -> None:
    directory = store.directory()
    again = PublicDirectory.from_json(directory.to_json())
    assert [r.key_id for r in again] == [r.key_id for r in directory]
    with pytest.raises(KeyStoreError, match="version"):
        PublicDirectory.from_json('{"keys": []}')
    with pytest.raises(KeyStoreError, match=r"keys\.0\."):
        PublicDirectory.from_json('{"version": 1, "keys": [{"partner_id": "x"}]}')


def test_private_keys_are_masked_and_never_copied(store: KeyStore) -> None:
    keys = store.private(UWV)
    pem = (store.private_dir / f"{keys.key_id}.signing.pem").read_text()
    body = "".join(pem.splitlines()[1:-1])
    for text in (repr(keys), str(keys), f"{keys}", repr([keys])):
        assert "**********" in text
        assert body not in text
    with pytest.raises(TypeError):
        pickle.dumps(keys)
    with pytest.raises(TypeError):
        copy.deepcopy(keys)
    with pytest.raises(TypeError):
        copy.copy(keys)


def test_generated_keys_differ() -> None:
    assert PartnerKeys.generate(UWV).key_id != PartnerKeys.generate(UWV).key_id


def test_every_key_has_a_role_and_a_rotation_keeps_it(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys")
    assert keys.new(HUB).role is KeyRole.HUB
    assert keys.new("consent-service").role is KeyRole.CONSENT_SERVICE
    assert keys.new(UWV, kind=PartnerKind.UWV).role is KeyRole.PARTNER
    _, rotated = keys.rotate("consent-service")
    assert rotated.role is KeyRole.CONSENT_SERVICE
    assert {r.partner_id: r.role for r in keys.directory()}["consent-service"] == "consent-service"


def test_a_directory_written_before_roles_reads_the_hub_as_the_hub(store: KeyStore) -> None:
    payload = json.loads(store.directory().to_json())
    for entry in payload["keys"]:
        del entry["role"]
    roles = {r.partner_id: r.role for r in PublicDirectory.from_json(json.dumps(payload))}
    assert roles[HUB] is KeyRole.HUB
    assert roles[AMSTERDAM] is KeyRole.PARTNER
