"""The BSN at rest: eleven-test, AES-GCM bound to the subject, keyed lookup hash, key file."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from consent.crypto import KEY_FILE_NAME, BsnVault, load_master_key
from consent.errors import ConsentCryptoError
from hub.config import load_settings
from hub.keyfile import KeyFileError
from schemas.identifiers import is_valid_bsn, normalise_bsn


def test_eleven_test() -> None:
    assert is_valid_bsn("111222333")
    assert is_valid_bsn("123456782")
    assert not is_valid_bsn("123456789")
    assert not is_valid_bsn("000000000")
    assert not is_valid_bsn("12345678")
    assert normalise_bsn(" 1112.22.333 ") == "111222333"
    assert normalise_bsn("12345672") == "012345672"  # leading zero dropped
    with pytest.raises(ValueError, match="not a valid BSN") as exc:
        normalise_bsn("123456789")
    assert "123456789" not in str(exc.value)


def test_encryption_is_bound_to_the_subject() -> None:
    vault = BsnVault(os.urandom(32))
    blob = vault.encrypt("111222333", "client-a")
    assert b"111222333" not in blob
    assert vault.decrypt(blob, "client-a") == "111222333"
    assert vault.encrypt("111222333", "client-a") != blob  # fresh nonce
    with pytest.raises(ConsentCryptoError):
        vault.decrypt(blob, "client-b")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ConsentCryptoError):
        vault.decrypt(tampered, "client-a")
    with pytest.raises(ConsentCryptoError):
        BsnVault(os.urandom(32)).decrypt(blob, "client-a")
    assert "111222333" not in repr(vault)


def test_lookup_hash_is_keyed() -> None:
    key = os.urandom(32)
    assert BsnVault(key).lookup_hash("111222333") == BsnVault(key).lookup_hash("111222333")
    assert BsnVault(key).lookup_hash("111222333") != BsnVault(key).lookup_hash("123456782")
    assert BsnVault(key).lookup_hash("111222333") != BsnVault(os.urandom(32)).lookup_hash(
        "111222333"
    )


def test_key_file_is_generated_private_and_reused(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = load_master_key(settings)
    path = tmp_path / "data" / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(settings) == first
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_master_key(settings)


def test_key_from_settings(tmp_path: Path) -> None:
    key = os.urandom(32)
    settings = load_settings(
        data_dir=tmp_path, bsn_encryption_key=SecretStr(base64.urlsafe_b64encode(key).decode())
    )
    assert load_master_key(settings) == key
    assert not (tmp_path / KEY_FILE_NAME).exists()
    short = load_settings(data_dir=tmp_path, bsn_encryption_key=SecretStr("c2hvcnQ="))
    with pytest.raises(KeyFileError, match="32 bytes"):
        load_master_key(short)
