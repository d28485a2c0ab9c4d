"""``rmt-hub consent ...`` end to end (SQLite store, the session broker)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from hub.cli.consent import app, parse_recipient
from hub.config import HubSettings
from tests.helpers.consent import consent_settings, delete_topic


def test_recipient_syntax() -> None:
    assert parse_recipient("uwv") == {"partner_id": "uwv"}
    assert parse_recipient("kind:gemeente@groot_amsterdam") == {
        "partner_kind": "GEMEENTE",
        "region": "GROOT_AMSTERDAM",
    }


def test_consent_commands(hub_settings: HubSettings, tmp_path: Path) -> None:
    settings = consent_settings(hub_settings, f"sqlite:///{tmp_path / 'consent.db'}", tmp_path)
    env = {
        "HUB_BOOTSTRAP_SERVERS": str(settings.bootstrap_servers),
        "HUB_DATABASE_URL": str(settings.database_url),
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_TOPIC_PARTITIONS": str(settings.topic_partitions),
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
        result = runner.invoke(app, list(args), env=env, input=stdin)
        assert result.exit_code == code, result.output
        return result.output

    try:
        key = run("keys", "add", "--role", "partner", "--name", "uwv-system", "--partner", "uwv")
        assert key.strip().splitlines()[-1].startswith("rmtc_")
        assert "uwv-system" in run("keys", "list")
        assert "unknown partner" in run(
            "keys", "add", "--role", "partner", "--name", "x", "--partner", "nobody", code=1
        )

        granted = run(
            "grant",
            "--subject", "client-cli-1",
            "--controller", "gemeente-amsterdam",
            "--to", "uwv",
            "--purpose", "MATCHING_PLACEMENT",
            "--category", "contact",
            "--notice-version", "rmt-privacy-2026.1",
            "--method", "IN_PERSON_SIGNED",
            "--days", "30",
            "--with-bsn",
            "--actor", "officer:cli-test",
            stdin="111222333\n",
        )  # fmt: skip
        match = re.search(r"consent (\S+) given and published", granted)
        assert match, granted
        consent_id = match.group(1)

        assert consent_id in run("list", "client-cli-1")
        listed = json.loads(run("list", "client-cli-1", "--json"))
        assert [c["id"] for c in listed] == [consent_id]
        shown = json.loads(run("show", consent_id, "--history"))
        assert shown["status_now"] == "GIVEN"
        assert [e["actor"] for e in shown["history"]] == ["officer:cli-test"]
        assert "ALLOW" in run("decide", "client-cli-1", "uwv", "MATCHING_PLACEMENT", "contact")
        denied = run("decide", "client-cli-1", "uwv", "MATCHING_PLACEMENT", "health", code=2)
        assert "SPECIAL_NOT_EXPLICIT" in denied

        assert "WITHDRAWN" in run("withdraw", consent_id, "--reason", "asked", "--actor", "o:x")
        assert "WITHDRAWN" in run("withdraw", consent_id)  # idempotent
        run("decide", "client-cli-1", "uwv", "MATCHING_PLACEMENT", "contact", code=2)

        page = run("report", "client-cli-1", "--html")
        assert page.startswith("<!DOCTYPE html>")
        assert consent_id in page
        assert json.loads(run("report", "client-cli-1"))["bsn_on_file"] is True
        assert "111222333" not in page

        assert "no consent" in run("show", "nope", code=1)
        assert "special category" in run(
            "grant",
            "--subject", "client-cli-2",
            "--controller", "gemeente-amsterdam",
            "--to", "uwv",
            "--purpose", "MATCHING_PLACEMENT",
            "--category", "health",
            "--notice-version", "v1",
            "--method", "IN_PERSON_SIGNED",
            code=1,
        )  # fmt: skip
    finally:
        delete_topic(settings, f"{settings.topic_prefix}.consent.changes")
