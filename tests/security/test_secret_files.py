"""Every secret file under HUB_KEYS_PASSPHRASE, sealed with scrypt (issue 20, part 4),
and the files written before still read (and sealed in place)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from consent.crypto import KEY_FILE_NAME, load_master_key
from consent.subject_keys import SUBJECT_MASTER_KEY_FILE, subject_key_store
from hub.config import HubSettings
from hub.keyfile import KeyFileError, load_or_create_key
from hub.monitor.errors import MonitorKeyError
from hub.monitor.pseudonym import add_key_version, key_path, load_keyring
from hub.sealed import SCRYPT_N, SealedError, is_sealed, seal, unseal
from hub.security.errors import KeyStoreError
from hub.security.hub_identity import keys_dir
from hub.security.keys import KeyStore

PASSPHRASE = "correct horse battery staple"
UWV = "uwv"


def _settings(tmp_path: Path, passphrase: str | None = PASSPHRASE) -> HubSettings:
    return HubSettings(
        data_dir=tmp_path,
        keys_passphrase=SecretStr(passphrase) if passphrase else None,
        bsn_encryption_key=None,
    )


def _scrypt_n(content: bytes) -> int:
    document = json.loads(content)
    assert document["kdf"] == "scrypt"
    return int(document["n"])


def test_regression_key_files_use_pbkdf2_with_2048_iterations(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, passphrase=SecretStr(PASSPHRASE))
    record = store.new(UWV)
    for part in ("signing", "encryption"):
        content = (store.private_dir / f"{record.key_id}.{part}.pem").read_bytes()
        assert b"ENCRYPTED PRIVATE KEY" not in content  # PKCS#8: PBKDF2, 2,048 iterations
        assert is_sealed(content)
        assert _scrypt_n(content) >= 2**15
    assert store.private(UWV).key_id == record.key_id


def test_regression_master_keys_are_not_under_the_passphrase(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    bsn_key = load_master_key(settings)
    subject_keys = subject_key_store(settings)
    subject_keys.close()
    for path in (tmp_path / KEY_FILE_NAME, keys_dir(settings) / SUBJECT_MASTER_KEY_FILE):
        content = path.read_bytes()
        assert is_sealed(content), path
        assert _scrypt_n(content) >= 2**15
    assert base64.urlsafe_b64encode(bsn_key) not in (tmp_path / KEY_FILE_NAME).read_bytes()
    assert load_master_key(settings) == bsn_key  # opens again
    with pytest.raises(KeyFileError, match="HUB_KEYS_PASSPHRASE"):
        load_master_key(_settings(tmp_path, passphrase=None))
    with pytest.raises(KeyFileError, match="passphrase does not open it") as info:
        load_master_key(_settings(tmp_path, passphrase="nope"))
    assert PASSPHRASE not in str(info.value)


def test_plain_key_files_from_before_are_read_and_sealed_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.key"
    plain = load_or_create_key(None, path, label="old key", env="HUB_X")  # no passphrase
    assert not is_sealed(path.read_bytes())
    passphrase = SecretStr(PASSPHRASE)
    assert load_or_create_key(None, path, label="old key", env="HUB_X", passphrase=passphrase) == (
        plain
    )
    assert is_sealed(path.read_bytes())
    assert path.stat().st_mode & 0o077 == 0
    assert load_or_create_key(None, path, label="old key", env="HUB_X", passphrase=passphrase) == (
        plain
    )


@pytest.mark.parametrize("written_with", ["pkcs8-pbkdf2", "plain"])
def test_private_key_files_from_before_are_read_and_sealed_in_place(
    tmp_path: Path, written_with: str
) -> None:
    store = KeyStore(tmp_path)
    record = store.new(UWV)
    path = store.private_dir / f"{record.key_id}.signing.pem"
    if written_with == "pkcs8-pbkdf2":  # what the key store wrote before
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        legacy = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
        path.write_bytes(legacy)
    locked = KeyStore(tmp_path, passphrase=SecretStr(PASSPHRASE))
    assert locked.private(UWV).key_id == record.key_id
    assert is_sealed(path.read_bytes())
    assert is_sealed((store.private_dir / f"{record.key_id}.encryption.pem").read_bytes())
    assert locked.private(UWV).key_id == record.key_id
    with pytest.raises(KeyStoreError, match="give the passphrase"):
        KeyStore(tmp_path).private(UWV)


def test_a_sealed_file_is_bound_to_its_header() -> None:
    passphrase = SecretStr(PASSPHRASE)
    content = seal(b"secret bytes", passphrase)
    assert unseal(content, passphrase, source="x") == b"secret bytes"
    document = json.loads(content)
    assert document["n"] == SCRYPT_N
    document["n"] = SCRYPT_N // 2  # a cheaper KDF for the same ciphertext
    with pytest.raises(SealedError, match="does not open"):
        unseal(json.dumps(document).encode(), passphrase, source="x")
    document["n"] = 2**30  # would need 1 TiB of memory
    with pytest.raises(SealedError, match="out of range"):
        unseal(json.dumps(document).encode(), passphrase, source="x")
    with pytest.raises(SealedError, match="not a readable sealed file"):
        unseal(b'{"sealed": 1}', passphrase, source="x")


def test_regression_monitor_keys_were_not_under_the_passphrase(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    keyring = load_keyring(settings)
    version = add_key_version(settings)
    for v in (1, version):
        content = key_path(settings, v).read_bytes()
        assert is_sealed(content), v
        assert _scrypt_n(content) >= 2**15
    assert load_keyring(settings).keys[1] == keyring.keys[1]  # opens again
    with pytest.raises(MonitorKeyError, match="HUB_KEYS_PASSPHRASE"):
        load_keyring(_settings(tmp_path, passphrase=None))
