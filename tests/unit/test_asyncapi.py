"""The AsyncAPI document: valid AsyncAPI 3.0, complete, and committed up to date."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import fastavro
import jsonschema
import pytest

from hub.config import HubSettings
from hub.docs import build_asyncapi, render_asyncapi
from schemas import load_schemas
from topics import build_catalogue

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).parent / "data" / "asyncapi" / "asyncapi-3.0.0.schema.json"
COMMITTED = ROOT / "docs" / "asyncapi.json"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    return HubSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def document(settings: HubSettings) -> dict[str, Any]:
    return build_asyncapi(settings, build_catalogue(settings), load_schemas())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SPEC.read_text()))


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_document_is_valid_asyncapi_3(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    errors = [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_validator_catches_a_broken_document(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    broken = copy.deepcopy(document)
    first = next(iter(broken["operations"].values()))
    first["action"] = "publish"  # AsyncAPI 2 wording, invalid in 3.0
    assert not validator.is_valid(broken)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert refs
    for ref in refs:
        assert _resolve(document, ref) is not None, ref


def test_every_topic_is_a_channel_with_its_binding(
    document: dict[str, Any], settings: HubSettings
) -> None:
    catalogue = build_catalogue(settings)
    assert set(document["channels"]) == set(catalogue.names())
    outbox = catalogue.outbox("uwv")
    channel = document["channels"][outbox.name]
    assert channel["bindings"]["kafka"]["partitions"] == outbox.partitions
    assert channel["x-rmt-writers"] == ["uwv"]
    assert "receive-" + outbox.name in document["operations"]
    assert "send-" + outbox.name not in document["operations"]


def test_messages_carry_self_contained_avro_and_data_categories(
    document: dict[str, Any],
) -> None:
    schemas = load_schemas()
    messages = document["components"]["messages"]
    avro = document["components"]["schemas"]
    for fullname in schemas.messages():
        short = fullname.rsplit(".", 1)[-1]
        # self-contained: parses on its own, with no other schema known
        parsed = fastavro.parse_schema(avro[short]["schema"], named_schemas={})
        assert parsed["name"] == fullname
        variants = [m for m in messages.values() if m["name"].split(".")[0] == short]
        assert variants, fullname
        expected = {k: v.value for k, v in schemas.field_categories(fullname).items()}
        for message in variants:
            assert message["x-rmt-data-categories"] == expected


def test_outbox_and_inbox_payloads_are_encrypted_envelopes_with_their_headers(
    document: dict[str, Any], settings: HubSettings
) -> None:
    """The truth on the wire: a partner reading its inbox (or anyone its outbox) sees an
    envelope, not Avro; the Avro record is what it holds (issue 17)."""
    catalogue = build_catalogue(settings)
    messages = document["components"]["messages"]
    for topic, signer in ((catalogue.outbox("uwv"), "partner"), (catalogue.inbox("uwv"), "hub")):
        refs = document["channels"][topic.name]["messages"].values()
        for ref in refs:
            message = _resolve(document, ref["$ref"])
            headers = _resolve(document, message["headers"]["$ref"])
            if message["name"] == "Tombstone":
                assert message["payload"] == {"type": "null"}
                assert "rmt-enc-alg" not in headers["properties"]
                continue
            assert message["contentType"] == "application/octet-stream"
            assert message["payload"]["format"] == "binary"
            assert "schemaIdLocation" not in message["bindings"]["kafka"]
            assert _resolve(document, message["x-rmt-plaintext"]["$ref"])["schemaFormat"]
            for name in ("ce_id", "rmt-sig", "rmt-sig-key", "rmt-enc-alg", "rmt-enc-dek"):
                assert name in headers["required"], (message["name"], name)
            assert ("rmt-origin-source" in headers["properties"]) is (signer == "hub")
    # the hub's own clear-text topics say so
    (consent,) = document["channels"][catalogue.consent_changes.name]["messages"].values()
    message = _resolve(document, consent["$ref"])
    assert message["contentType"] == "application/avro"
    headers = _resolve(document, message["headers"]["$ref"])
    assert "rmt-consent-prev" in headers["properties"]
    assert "rmt-enc-alg" not in headers["properties"]
    assert len(messages) > len(load_schemas().messages())


def test_committed_document_is_current(document: dict[str, Any]) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_asyncapi(document), (
        "docs/asyncapi.json is stale: run `rmt-hub docs asyncapi --out docs/asyncapi.json`"
    )
