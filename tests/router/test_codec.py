"""The router's codec shortcuts write exactly what the canonical codec writes."""

from __future__ import annotations

import io
import json

import pytest
from fastavro import parse_schema, schemaless_writer

from hub.registry import RegistryClient
from hub.router.codec import RouterCodec, _dump
from hub.serde import SerializationContext, self_contained_schema
from schemas import codec, load_schemas
from schemas.examples import example, examples
from schemas.models import ConsentChange, DisclosureEvent

SCHEMAS = load_schemas()


@pytest.mark.parametrize("fullname", sorted(examples()))
def test_the_models_own_dump_writes_the_same_avro(fullname: str) -> None:
    schema = parse_schema(json.loads(json.dumps(self_contained_schema(fullname, SCHEMAS.raw))))
    record = example(fullname)
    expected, fast = io.BytesIO(), io.BytesIO()
    schemaless_writer(expected, schema, codec.to_avro(record))
    schemaless_writer(fast, schema, _dump(record, None))
    assert fast.getvalue() == expected.getvalue()


def test_disclosure_headers_and_bare_consent_changes_round_trip() -> None:
    router_codec = RouterCodec(RegistryClient("http://127.0.0.1:9"))  # never contacted here
    event = example("DisclosureEvent")
    assert isinstance(event, DisclosureEvent)
    encoded = router_codec.encode_disclosure(event)
    assert encoded == codec.encode(event)
    assert router_codec.decode_disclosure(encoded) == event
    change = example("ConsentChange")
    assert isinstance(change, ConsentChange)
    ctx = SerializationContext("rmt.consent.changes")
    assert router_codec.decode_consent(codec.encode(change), ctx) == change
    router_codec.registry.close()
