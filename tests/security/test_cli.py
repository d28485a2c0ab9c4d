"""``rmt-hub keys`` and ``rmt-hub acls`` (the lead wires them into the root app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import acls as acls_cli
from hub.cli import keys as keys_cli
from hub.sealed import is_sealed
from hub.security.keys import KeyStore

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_KEYS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


def test_keys_new_list_rotate_revoke(env: Path) -> None:
    result = runner.invoke(keys_cli.app, ["new", "--partner", "uwv"])
    assert result.exit_code == 0, result.output
    assert "active" in result.output
    assert "UWV" in result.output
    assert runner.invoke(keys_cli.app, ["new", "--partner", "hub"]).exit_code == 0
    again = runner.invoke(keys_cli.app, ["new", "--partner", "uwv"])
    assert again.exit_code == 1
    assert "keys rotate" in again.output

    rotated = runner.invoke(keys_cli.app, ["rotate", "--partner", "uwv", "--overlap-days", "1"])
    assert rotated.exit_code == 0, rotated.output
    assert "retired" in rotated.output
    assert "active" in rotated.output

    listed = runner.invoke(keys_cli.app, ["list"])
    assert listed.exit_code == 0
    store = KeyStore(env / "keys")
    for record in store.records():
        assert record.key_id in listed.output
    uwv_only = runner.invoke(keys_cli.app, ["list", "--partner", "uwv"])
    assert "hub" not in uwv_only.output.split("keys in")[1].split("\n", 1)[1]

    key_id = store.directory().current("uwv").key_id
    revoked = runner.invoke(keys_cli.app, ["revoke", key_id])
    assert revoked.exit_code == 0
    assert "revoked" in revoked.output

    # private keys never reach the terminal
    for pem in (env / "keys" / "private").glob("*.pem"):
        body = "".join(pem.read_text().splitlines()[1:-1])
        for output in (result.output, rotated.output, listed.output):
            assert body not in output
            assert "PRIVATE" not in output


def test_keys_unknown_partner(env: Path) -> None:
    result = runner.invoke(keys_cli.app, ["new", "--partner", "nobody"])
    assert result.exit_code == 1
    assert "not in the partner directory" in result.output


def test_keys_with_a_passphrase_file(env: Path) -> None:
    secret = env / "passphrase"
    secret.write_text("s3cret-phrase\n")
    result = runner.invoke(
        keys_cli.app, ["new", "--partner", "sbb", "--passphrase-file", str(secret)]
    )
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    pem = next((env / "keys" / "private").glob("*.signing.pem")).read_bytes()
    assert is_sealed(pem)
    assert b"PRIVATE KEY" not in pem


def test_acls_render_formats(env: Path) -> None:
    sh = runner.invoke(acls_cli.app, ["render"])
    assert sh.exit_code == 0
    assert "kafka-acls" in sh.output
    js = runner.invoke(acls_cli.app, ["render", "--format", "json"])
    assert json.loads(js.output)
    names = runner.invoke(acls_cli.app, ["render", "--format", "principals"])
    listed = set(names.output.split())
    assert {"router", "consent", "registry", "monitor", "operator", "uwv"} <= listed
    assert "hub" not in listed  # one principal per service, none shared
    out = env / "acls.sh"
    written = runner.invoke(acls_cli.app, ["render", "-o", str(out)])
    assert written.exit_code == 0
    assert out.read_text() == sh.output


def test_acls_compose_prints_the_checked_in_overlay(env: Path) -> None:
    overlay = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "compose.security.yml"
    printed = runner.invoke(acls_cli.app, ["compose"])
    assert printed.exit_code == 0
    assert printed.output == overlay.read_text(encoding="utf-8")
    out = env / "compose.security.yml"
    assert runner.invoke(acls_cli.app, ["compose", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == printed.output
