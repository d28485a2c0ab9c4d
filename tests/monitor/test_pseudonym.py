"""Monitor pseudonyms: keyed, unlinkable to partner pseudonyms, free of digits; key rotation."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.config import HubSettings, load_settings
from hub.monitor.errors import MonitorInputError, MonitorKeyError
from hub.monitor.pseudonym import (
    PSEUDONYM_PATTERN,
    MonitorKeyring,
    MonitorPseudonymiser,
    add_key_version,
    key_path,
    load_keyring,
)
from hub.sdk.pseudonym import Pseudonymiser
from schemas.identifiers import is_valid_bsn

BSN = "111222333"
K1, K2, K3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def _keys(*versions: int) -> MonitorPseudonymiser:
    material = {1: K1, 2: K2, 3: K3}
    return MonitorPseudonymiser(MonitorKeyring({v: material[v] for v in versions}))


def _settings(tmp_path: Path, **overrides: object) -> HubSettings:
    return load_settings(data_dir=tmp_path, **overrides)


def test_a_pseudonym_is_keyed_deterministic_and_normalised() -> None:
    keys = _keys(1)
    assert is_valid_bsn(BSN)
    first = keys.pseudonym(BSN)
    assert PSEUDONYM_PATTERN.match(first)
    assert keys.pseudonym("111.222.333") == first
    assert keys.pseudonym(" 111 222 333 ") == first
    assert MonitorPseudonymiser(MonitorKeyring({1: K2})).pseudonym(BSN) != first
    assert keys.pseudonym("123456782") != first


def test_a_pseudonym_holds_no_digits_and_is_not_the_partners_pseudonym() -> None:
    monitor = _keys(1).pseudonym(BSN)
    assert not re.search(r"\d{2,}", monitor)  # only the key version is a digit
    partner = Pseudonymiser(K1)(BSN)  # even under the same key material
    assert partner not in monitor
    assert partner.removeprefix("psn-") not in monitor


def test_no_pseudonym_without_a_valid_bsn_and_the_error_does_not_quote_it() -> None:
    with pytest.raises(MonitorInputError) as caught:
        _keys(1).pseudonym("123456789")
    assert "123456789" not in str(caught.value)


def test_rotation_rekeys_forward_without_the_first_key() -> None:
    old = _keys(1).pseudonym(BSN)
    new = _keys(1, 2).pseudonym(BSN)
    assert new.startswith("m2-")
    assert new != old
    monitor = _keys(2)  # the national monitor holds versions 2.. only
    assert monitor.rekey(old, 1) == new
    assert _keys(2, 3).rekey(old, 1) == _keys(1, 2, 3).pseudonym(BSN)
    assert _keys(2, 3).rekey(new, 2) == _keys(1, 2, 3).pseudonym(BSN)
    with pytest.raises(MonitorKeyError):
        monitor.pseudonym(BSN)  # it cannot go from a BSN to a pseudonym
    with pytest.raises(MonitorInputError):
        monitor.rekey(old, 2)  # the version must match the pseudonym


def test_event_ids_are_keyed_uuids_and_rekey_like_pseudonyms() -> None:
    v1 = _keys(1).event_id("psn-abc", "uwv", "intake-1", "INTAKE")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", v1)
    assert _keys(1).event_id("psn-abc", "uwv", "intake-1", "INTAKE") == v1
    assert MonitorPseudonymiser(MonitorKeyring({1: K2})).event_id("psn-abc") != _keys(1).event_id(
        "psn-abc"
    )
    v2 = _keys(1, 2).event_id("psn-abc", "uwv", "intake-1", "INTAKE")
    assert _keys(2).rekey_event_id(v1, 1) == v2


def test_an_event_newer_than_the_keyring_is_refused() -> None:
    new = _keys(1, 2).pseudonym(BSN)
    with pytest.raises(MonitorKeyError, match="newer"):
        _keys(1).rekey(new, 2)


def test_keyring_from_the_environment(tmp_path: Path) -> None:
    one = base64.urlsafe_b64encode(K1).decode()
    two = base64.urlsafe_b64encode(K2).decode()
    single = load_keyring(_settings(tmp_path, monitor_key=SecretStr(one)))
    assert single.keys == {1: K1}
    ring = load_keyring(_settings(tmp_path, monitor_key=SecretStr(f"1:{one}, 2:{two}")))
    assert ring.keys == {1: K1, 2: K2}
    assert ring.current == 2
    assert not list(tmp_path.iterdir())  # nothing written
    for bad in ("1:abc", f"0:{one}", f"1:{one},1:{two}", " , "):
        with pytest.raises(MonitorKeyError):
            load_keyring(_settings(tmp_path, monitor_key=SecretStr(bad)))
    with pytest.raises(MonitorKeyError, match="HUB_MONITOR_KEY"):
        add_key_version(_settings(tmp_path, monitor_key=SecretStr(one)))


def test_keyring_files_are_created_private_and_rotated(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(MonitorKeyError):
        load_keyring(settings, create=False)
    first = load_keyring(settings)
    assert first.versions == [1]
    assert stat.S_IMODE(key_path(settings, 1).stat().st_mode) == 0o600
    assert load_keyring(settings).keys == first.keys  # stable
    assert add_key_version(settings) == 2
    ring = load_keyring(settings)
    assert ring.versions == [1, 2]
    assert ring.keys[1] == first.keys[1]
    key_path(settings, 2).chmod(0o644)
    with pytest.raises(MonitorKeyError, match="readable by others"):
        load_keyring(settings)


def test_the_monitor_copy_of_a_keyring_drops_version_one() -> None:
    ring = MonitorKeyring({1: K1, 2: K2})
    assert ring.without(1).versions == [2]
    with pytest.raises(MonitorKeyError):
        MonitorKeyring({})
    with pytest.raises(MonitorKeyError):
        MonitorKeyring({1: b"short"})


# --- per reporting period (issue 20) ------------------------------------------------------------

SUBJECT = "psn-client-1"


def test_a_period_pseudonym_is_keyed_per_period_and_per_person() -> None:
    keys = _keys(1)
    march = keys.period_pseudonym(SUBJECT, "2021-03/04")
    assert march == keys.period_pseudonym(SUBJECT, "2021-03/04")
    assert PSEUDONYM_PATTERN.match(march)
    assert march != keys.period_pseudonym(SUBJECT, "2021-05/06")
    assert march != keys.period_pseudonym("psn-client-2", "2021-03/04")
    assert march != _keys(2, 1).period_pseudonym(SUBJECT, "2021-03/04")  # the key decides
    other_key = MonitorPseudonymiser(MonitorKeyring({1: K2}))
    assert march != other_key.period_pseudonym(SUBJECT, "2021-03/04")
    with pytest.raises(MonitorInputError):
        keys.period_pseudonym("", "2021-03/04")


def test_a_period_pseudonym_rekeys_forward_like_a_person_s() -> None:
    """The monitor (holding versions 2 and up) brings an event of version 1 to the newest
    version and meets the pseudonym the router writes after the rotation."""
    before = _keys(1).period_pseudonym(SUBJECT, "2021-03/04")
    after = _keys(1, 2, 3).period_pseudonym(SUBJECT, "2021-03/04")
    assert after.startswith("m3-")
    assert MonitorPseudonymiser(MonitorKeyring({2: K2, 3: K3})).rekey(before, 1) == after


def test_a_period_pseudonym_is_not_the_person_s_and_not_the_client_pseudonym() -> None:
    keys = _keys(1)
    pseudonym = keys.period_pseudonym(SUBJECT, "2021-03/04")
    assert pseudonym != keys.pseudonym(BSN)
    assert SUBJECT not in pseudonym


def test_a_linkage_pseudonym_links_periods_under_a_key_of_its_own() -> None:
    keys = _keys(1)
    linkage = keys.linkage_pseudonym(SUBJECT)
    assert PSEUDONYM_PATTERN.match(linkage)
    assert linkage == keys.linkage_pseudonym(SUBJECT)  # the same in every period
    assert linkage != keys.linkage_pseudonym("psn-client-2")
    assert linkage != keys.pseudonym(BSN)  # not the person's (the routing state keeps that)
    assert linkage not in {keys.period_pseudonym(SUBJECT, p) for p in ("2021-03/04", "2021-05/06")}
    assert linkage != MonitorPseudonymiser(MonitorKeyring({1: K2})).linkage_pseudonym(SUBJECT)
    with pytest.raises(MonitorInputError):
        keys.linkage_pseudonym("")
    # it rekeys forward like a person's
    after = _keys(1, 2, 3).linkage_pseudonym(SUBJECT)
    assert MonitorPseudonymiser(MonitorKeyring({2: K2, 3: K3})).rekey(linkage, 1) == after
