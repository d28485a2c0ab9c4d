"""``rmt-hub deadletters list|show|replay`` on the real broker, with a real router worker.

A partner publishes with a key the hub's directory does not know yet: the router refuses
it (KEY_UNKNOWN) and dead-letters it, encrypted to the operators' key. The operator
lists it, opens it with the operations key, registers the partner's key and replays it:
it reaches the inbox exactly once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hub.cli import deadletters as deadletters_cli
from hub.router.validation import partition_of
from hub.security.hub_identity import OPERATIONS_ID
from hub.security.keys import KeyStore
from hub.security.pipeline import PartnerSecurity
from hub.serde.canonical import cloud_event_headers
from schemas.models import DeadLetter
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = pytest.mark.integration

GEMEENTE = "gemeente-amsterdam"


def cli(hub: Hub, *args: str, keys_dir: Path | None = None) -> Result:
    env = {
        "COLUMNS": "250",
        "HUB_BOOTSTRAP_SERVERS": str(hub.settings.bootstrap_servers),
        "HUB_TOPIC_PREFIX": hub.settings.topic_prefix,
        "HUB_DATA_DIR": str(hub.settings.data_dir),
        "HUB_SCHEMA_REGISTRY_URL": str(hub.settings.schema_registry_url),
    }
    if keys_dir is not None:
        env["HUB_KEYS_DIR"] = str(keys_dir)
    return CliRunner(env=env).invoke(deadletters_cli.app, list(args))


def publish_with(hub: Hub, security: PartnerSecurity, who: str) -> str:
    """A profile of ``who`` in UWV's outbox, sealed by ``security``; its event id."""
    record = records.profile(who)
    outbox = hub.catalogue.outbox("uwv").name
    key = record.client_pseudonym.encode()
    value, headers = security.seal_outbound(
        topic=outbox,
        key=key,
        value=hub.codec.encode(record, outbox),
        headers=cloud_event_headers(record),
    )
    hub.publish_raw(
        outbox,
        key=key,
        value=value,
        headers=headers,
        partition=partition_of(key, hub.settings.topic_partitions),
    )
    return record.event_id


def test_an_operator_lists_shows_and_replays_a_dead_letter(hub: Hub, tmp_path: Path) -> None:
    who = records.subject()
    hub.grant(
        who,
        to=[GEMEENTE],
        purposes=[Purpose.ARRANGEMENT],
        categories=[DataCategory.IDENTITY, DataCategory.LABOUR_MARKET_PROFILE],
    )
    own = KeyStore(tmp_path / "uwv-own")  # UWV's new key, not handed to the hub yet
    own.new("uwv")
    uwv = PartnerSecurity(keys=own.private("uwv"), directory=hub.keys.directory())
    event_id = publish_with(hub, uwv, who)
    dead = hub.wait_dead_letter(event_id)
    assert isinstance(dead.record, DeadLetter)
    assert dead.record.reason is DeadLetterReason.KEY_UNKNOWN
    where = f"{dead.partition}:{dead.offset}"

    listed = cli(hub, "list", "--reason", "KEY_UNKNOWN", "--partner", "uwv", "--since", "1h")
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.output.splitlines() if f" {where} " in line]
    assert len(rows) == 1, listed.output
    (row,) = rows
    assert "KEY_UNKNOWN" in row
    assert "uwv" in row
    assert f"{hub.catalogue.outbox('uwv').name}/" in row
    other = cli(hub, "list", "--reason", "BSN_INVALID")
    assert other.exit_code == 0, other.output
    assert f" {where} " not in other.output
    later = cli(hub, "list", "--since", "2999-01-01T00:00:00")
    assert later.exit_code == 0, later.output
    assert "0 of" in later.output

    shown = cli(hub, "show", where)
    assert shown.exit_code == 0, shown.output
    assert event_id in shown.output
    assert "KEY_UNKNOWN" in shown.output
    assert "encrypted to the hub" in shown.output
    assert f"replay: possible (rmt-hub deadletters replay {where})" in shown.output

    # the hub registers UWV's key; the operator replays the record: delivered once
    registered = own.directory().current("uwv")
    hub.keys.add_public(registered)
    try:
        _replay_once(hub, where, event_id)
    finally:  # the other tests publish as UWV with the hub's own copy of its keys
        hub.keys.revoke(registered.key_id)


def _replay_once(hub: Hub, where: str, event_id: str) -> None:
    replayed = cli(hub, "replay", where, "--yes")
    assert replayed.exit_code == 0, replayed.output
    assert f"replayed {where} (KEY_UNKNOWN, event {event_id})" in replayed.output
    hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: event_id in delivered_ids(rs),
        what="the replayed record in the gemeente's inbox",
    )
    again = cli(hub, "replay", where, "--yes")  # once more: the router refuses the copy
    assert again.exit_code == 0, again.output
    hub.wait_for(
        hub.dead_letters,
        lambda rs: any(
            getattr(r.record, "event_id", None) == event_id
            and r.record.reason is DeadLetterReason.REPLAYED  # type: ignore[union-attr]
            for r in rs
        ),
        what="the second replay refused as REPLAYED",
    )
    assert delivered_ids(hub.inbox(GEMEENTE)).count(event_id) == 1


def test_a_record_refused_after_its_signature_was_accepted_is_not_replayed(hub: Hub) -> None:
    refused = records.profile(records.subject(), bsn="987654320")  # fails the eleven-test
    hub.publish(refused)
    dead = hub.wait_dead_letter(refused.event_id)
    result = cli(hub, "replay", f"{dead.partition}:{dead.offset}", "--yes")
    assert result.exit_code == 1, result.output
    assert "BSN_INVALID" in result.output
    assert "would refuse a copy as REPLAYED" in " ".join(result.output.split())


def test_without_the_operations_key_the_commands_refuse_clearly(hub: Hub, tmp_path: Path) -> None:
    refused = records.profile(records.subject(), bsn="987654320")
    hub.publish(refused)
    dead = hub.wait_dead_letter(refused.event_id)
    copy = tmp_path / "keys-without-operations"
    shutil.copytree(hub.keys.root, copy)
    for record in hub.keys.directory().keys_of(OPERATIONS_ID):
        for part in copy.glob(f"private/{record.key_id}.*"):
            part.unlink()
    for command in (["show", f"{dead.partition}:{dead.offset}"], ["list"]):
        result = cli(hub, *command, keys_dir=copy)
        assert result.exit_code == 1, result.output
        text = " ".join(result.output.split())
        assert "the operations private key is not in the key store" in text
        assert "dead letters are encrypted to it" in text
