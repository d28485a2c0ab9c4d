"""The BSN eleven-test and key files."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from hub.keyfile import KeyFileError, load_or_create_key
from schemas.identifiers import is_valid_bsn, normalise_bsn


@pytest.mark.parametrize("bsn", ["123456782", "111222333", "999990019"])
def test_known_valid_bsns_pass(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@pytest.mark.parametrize("bsn", ["123456789", "000000000", "12345678", "12345678a", ""])
def test_invalid_bsns_fail(bsn: str) -> None:
    assert not is_valid_bsn(bsn)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_changing_one_digit_breaks_the_eleven_test(bsn: str) -> None:
    if not is_valid_bsn(bsn):
        return
    for i in range(9):
        for d in "0123456789":
            if d != bsn[i]:
                assert not is_valid_bsn(bsn[:i] + d + bsn[i + 1 :])


def test_normalise_strips_separators_and_pads_eight_digits() -> None:
    assert normalise_bsn("1234.56.782") == "123456782"
    assert normalise_bsn("10000008") == "010000008"  # an 8-digit BSN lost its leading 0
    with pytest.raises(ValueError, match="not a valid BSN") as info:
        normalise_bsn("123456789")
    assert "123456789" not in str(info.value)


def test_key_file_is_created_once_with_mode_600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.key"
    first = load_or_create_key(None, path, label="test key", env="HUB_X")
    assert len(first) == 32
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_or_create_key(None, path, label="test key", env="HUB_X") == first


def test_key_from_settings_wins_and_is_checked(tmp_path: Path) -> None:
    raw = os.urandom(32)
    secret = SecretStr(base64.urlsafe_b64encode(raw).decode())
    assert load_or_create_key(secret, tmp_path / "unused", label="k", env="HUB_X") == raw
    with pytest.raises(KeyFileError, match="HUB_X: must decode to 32 bytes"):
        load_or_create_key(SecretStr("c2hvcnQ="), tmp_path / "unused", label="k", env="HUB_X")


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    load_or_create_key(None, path, label="test key", env="HUB_X")
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_or_create_key(None, path, label="test key", env="HUB_X")
