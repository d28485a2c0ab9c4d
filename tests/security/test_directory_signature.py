"""The signed directory (issue 16, part 2): the hub signs the key directory (public keys,
kinds, regions, roles) bound to the partner directory in effect; every process's key
store refuses an unsigned or altered one, naming the file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import keys as keys_cli
from hub.config import HubSettings, load_settings
from hub.security.config import ensure_keys, partner_key_store
from hub.security.consent_feed import CONSENT_SERVICE_ID
from hub.security.hub_identity import ensure_identity
from hub.security.keys import DirectoryRefused, KeyStore, PartnerKeys
from hub.security.pipeline import HubSecurity, PartnerSecurity
from topics import load_partners

runner = CliRunner(env={"COLUMNS": "200"})
BUILT_IN = Path(__file__).parents[2] / "topics" / "partners.json"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    for name in list(os.environ):
        if name.startswith("HUB_") and name != "HUB_EMBEDDED_BROKER":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    partners = tmp_path / "partners.json"
    partners.write_text(BUILT_IN.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_PARTNERS_FILE", str(partners))
    configured = load_settings()
    ensure_keys(configured, load_partners(configured.partners_file))
    return configured


def _directory_file(settings: HubSettings) -> Path:
    return partner_key_store(settings).directory_path


def _edit(path: Path, change: Any) -> None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    change(payload)
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")


def _refusal(settings: HubSettings) -> str:
    with pytest.raises(DirectoryRefused) as refused:
        PartnerSecurity.from_store(partner_key_store(settings), "uwv")
    with pytest.raises(DirectoryRefused):
        HubSecurity.from_store(partner_key_store(settings))
    with pytest.raises(DirectoryRefused):
        ensure_identity(partner_key_store(settings), CONSENT_SERVICE_ID)
    return " ".join(str(refused.value).split())


def test_a_provisioned_directory_is_signed_and_used(settings: HubSettings) -> None:
    store = partner_key_store(settings)
    payload = json.loads(store.directory_path.read_text(encoding="utf-8"))
    assert payload["signature"]["key_id"] == store.directory().current("hub").key_id
    assert store.directory_problem() is None
    PartnerSecurity.from_store(store, "gemeente-utrecht")
    HubSecurity.from_store(store)


def test_regression_an_altered_directory_is_used(settings: HubSettings) -> None:
    path = _directory_file(settings)

    def move_uwv(payload: dict[str, Any]) -> None:
        for record in payload["keys"]:
            if record["partner_id"] == "uwv":
                record["region"] = "RIJNMOND"

    _edit(path, move_uwv)
    message = _refusal(settings)
    assert str(path) in message
    assert "altered since the hub signed it" in message
    assert "rmt-hub keys sign-directory" in message


def test_regression_an_unsigned_directory_is_used(settings: HubSettings) -> None:
    path = _directory_file(settings)
    _edit(path, lambda payload: payload.pop("signature"))
    message = _refusal(settings)
    assert f"key directory {path}: not signed by the hub" in message


def test_regression_a_directory_signed_by_a_planted_hub_key_is_used(
    settings: HubSettings, tmp_path: Path
) -> None:
    """An insider adds a key of role hub of their own and signs with it."""
    path = _directory_file(settings)
    planted = PartnerKeys.generate("hub")
    directory = KeyStore(tmp_path / "keys").directory()
    record = planted.public_record(
        not_before=directory.current("hub").not_before, not_after=directory.current("hub").not_after
    )
    path.write_text(
        directory.with_record(record).signed(planted, directory.partners_sha256).to_json(),
        encoding="utf-8",
    )
    message = _refusal(settings)
    assert f"signed by the hub key {planted.key_id}, which this store does not hold" in message


def test_regression_an_altered_partner_directory_is_used(settings: HubSettings) -> None:
    assert settings.partners_file is not None

    def make_uwv_a_municipality(payload: dict[str, Any]) -> None:
        payload["partners"][0]["kind"] = "GEMEENTE"
        payload["partners"][0]["region"] = "RIJNMOND"

    _edit(settings.partners_file, make_uwv_a_municipality)
    message = _refusal(settings)
    assert f"partner directory {settings.partners_file} (HUB_PARTNERS_FILE)" in message
    assert "not the one the hub signed" in message


def test_keys_new_rotate_revoke_keep_the_directory_signed(settings: HubSettings) -> None:
    store = partner_key_store(settings)
    uwv = store.directory().current("uwv").key_id
    assert runner.invoke(keys_cli.app, ["rotate", "--partner", "uwv"]).exit_code == 0
    assert store.directory_problem() is None
    assert runner.invoke(keys_cli.app, ["revoke", uwv]).exit_code == 0
    assert store.directory_problem() is None
    assert runner.invoke(keys_cli.app, ["rotate", "--partner", "hub"]).exit_code == 0
    assert store.directory_problem() is None
    listed = runner.invoke(keys_cli.app, ["list"])
    assert "directory: signature verified" in listed.output
    PartnerSecurity.from_store(store, "uwv")


def test_an_altered_directory_is_not_signed_by_a_key_command(settings: HubSettings) -> None:
    path = _directory_file(settings)
    _edit(path, lambda payload: payload["keys"].pop())
    rotated = runner.invoke(keys_cli.app, ["rotate", "--partner", "uwv"])
    assert rotated.exit_code == 1
    assert "altered since the hub signed it" in " ".join(rotated.output.split())


def test_migration_sign_directory_signs_an_unsigned_directory(settings: HubSettings) -> None:
    path = _directory_file(settings)
    _edit(path, lambda payload: payload.pop("signature"))
    listed = runner.invoke(keys_cli.app, ["list"])
    assert "directory refused" in listed.output
    signed = runner.invoke(keys_cli.app, ["sign-directory"])
    assert signed.exit_code == 0, signed.output
    assert "it was refused" in signed.output
    assert partner_key_store(settings).directory_problem() is None
    PartnerSecurity.from_store(partner_key_store(settings), "uwv")
