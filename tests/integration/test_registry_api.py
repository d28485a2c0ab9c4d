"""The embedded registry's Confluent REST API over real HTTP, stored on the real broker."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from typer.testing import CliRunner

from hub.cli.schema_gate import register
from hub.config import HubSettings, load_settings
from hub.errors import ConfigError
from hub.http import HttpServer
from hub.registry import IncompatibleSchemaError, RegistryClient, RegistryError, client_for
from hub.registry.api import create_app
from hub.registry.embedded import EmbeddedRegistry, registry_for
from hub.registry.errors import SchemaNotFoundError, SubjectNotFoundError
from schemas import load_schemas

pytestmark = pytest.mark.integration

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"

PERSON: dict[str, Any] = {
    "type": "record",
    "name": "Person",
    "namespace": "t",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["A", "B"]}},
    ],
}


def variant(**changes: Any) -> dict[str, Any]:
    """PERSON with fields replaced (name -> field dict, or None to drop) or added."""
    fields = {f["name"]: f for f in PERSON["fields"]}
    for name, value in changes.items():
        if value is None:
            fields.pop(name)
        else:
            fields[name] = {"name": name, **value}
    return {**PERSON, "fields": list(fields.values())}


def body(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"schema": json.dumps(schema), **extra}


@pytest.fixture
def registry(
    hub_settings: HubSettings, unique_name: Callable[[str], str]
) -> Iterator[EmbeddedRegistry]:
    settings = hub_settings.model_copy(update={"schema_registry_topic": unique_name("schemas")})
    with EmbeddedRegistry(settings, port=0) as running:
        yield running


@pytest.fixture
def http(registry: EmbeddedRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry.url, timeout=10) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    return response.json()


def refused(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()
    assert error["error_code"] == code, error
    return str(error["message"])


def test_register_read_back_and_lookup(http: httpx.Client) -> None:
    assert ok(http.get("/")) == {}
    assert ok(http.get("/subjects")) == []
    first = ok(http.post("/subjects/t.Person/versions", json=body(PERSON)))["id"]
    # Whitespace is not a new schema; the same schema under another subject keeps its id.
    again = http.post("/subjects/t.Person/versions", json={"schema": json.dumps(PERSON, indent=4)})
    assert ok(again)["id"] == first
    assert ok(http.post("/subjects/other/versions", json=body(PERSON)))["id"] == first

    assert ok(http.get("/subjects")) == ["other", "t.Person"]
    assert ok(http.get("/subjects/t.Person/versions")) == [1]
    latest = ok(http.get("/subjects/t.Person/versions/latest"))
    assert latest["subject"] == "t.Person"
    assert (latest["version"], latest["id"]) == (1, first)
    assert json.loads(latest["schema"]) == PERSON
    assert ok(http.get("/subjects/t.Person/versions/1")) == latest
    assert ok(http.get("/subjects/t.Person/versions/-1")) == latest
    assert ok(http.get("/subjects/t.Person/versions/1/schema")) == PERSON
    assert json.loads(ok(http.get(f"/schemas/ids/{first}"))["schema"]) == PERSON
    assert ok(http.get(f"/schemas/ids/{first}/subjects")) == ["other", "t.Person"]
    assert ok(http.get(f"/schemas/ids/{first}/versions")) == [
        {"subject": "other", "version": 1},
        {"subject": "t.Person", "version": 1},
    ]
    found = ok(http.post("/subjects/t.Person", json=body(PERSON)))
    assert (found["id"], found["version"]) == (first, 1)
    assert ok(http.get("/schemas/types")) == ["AVRO"]


def test_added_optional_field_with_default_is_a_new_version(http: httpx.Client) -> None:
    first = ok(http.post("/subjects/p/versions", json=body(PERSON)))["id"]
    evolved = variant(email={"type": ["null", "string"], "default": None})
    second = ok(http.post("/subjects/p/versions", json=body(evolved)))["id"]
    assert second == first + 1
    assert ok(http.get("/subjects/p/versions")) == [1, 2]


def test_type_change_is_refused_with_409_naming_field_and_rule(http: httpx.Client) -> None:
    ok(http.post("/subjects/p/versions", json=body(PERSON)))
    response = http.post("/subjects/p/versions", json=body(variant(age={"type": "string"})))
    message = refused(response, 409, 409)
    assert "incompatible" in message
    assert "TYPE_MISMATCH at field 'Person.age'" in message
    assert "BACKWARD_TRANSITIVE" in message
    assert ok(http.get("/subjects/p/versions")) == [1]


def test_enum_symbol_removal_is_refused_with_409(http: httpx.Client) -> None:
    ok(http.post("/subjects/p/versions", json=body(PERSON)))
    fewer = variant(status={"type": {"type": "enum", "name": "Status", "symbols": ["A"]}})
    message = refused(http.post("/subjects/p/versions", json=body(fewer)), 409, 409)
    assert "MISSING_ENUM_SYMBOLS at field 'Person.status'" in message
    assert "symbol(s) B" in message


def test_removed_field_without_default_is_refused_under_full_transitive(
    http: httpx.Client,
) -> None:
    ok(http.post("/subjects/p/versions", json=body(PERSON)))
    assert ok(http.put("/config/p", json={"compatibility": "FULL_TRANSITIVE"})) == {
        "compatibility": "FULL_TRANSITIVE"
    }
    message = refused(http.post("/subjects/p/versions", json=body(variant(age=None))), 409, 409)
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at field 'Person.age'" in message
    assert "version 1 has field 'age' without a default" in message
    # Under the default BACKWARD_TRANSITIVE the same removal is allowed (Avro's rules).
    assert ok(http.delete("/config/p")) == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert ok(http.post("/subjects/p/versions", json=body(variant(age=None))))["id"] > 0


def test_compatibility_endpoint_with_verbose_messages(http: httpx.Client) -> None:
    ok(http.post("/subjects/p/versions", json=body(PERSON)))
    ok(http.post("/subjects/p/versions", json=body(variant(age={"type": "long"}))))
    breaking = body(variant(name={"type": "int"}))
    result = ok(http.post("/compatibility/subjects/p/versions/latest?verbose=true", json=breaking))
    assert result["is_compatible"] is False
    assert any("TYPE_MISMATCH at field 'Person.name'" in m for m in result["messages"])
    assert "messages" not in ok(http.post("/compatibility/subjects/p/versions/1", json=breaking))
    fine = body(variant(age={"type": "long"}, nick={"type": "string", "default": ""}))
    assert ok(http.post("/compatibility/subjects/p/versions/latest", json=fine)) == {
        "is_compatible": True
    }
    # Without a version: against every version the subject's level asks for.
    ok(http.put("/config/p", json={"compatibility": "FORWARD_TRANSITIVE"}))
    narrowing = body(variant(age={"type": "int"}))
    assert ok(http.post("/compatibility/subjects/p/versions", json=narrowing))["is_compatible"]
    ok(http.put("/config/p", json={"compatibility": "BACKWARD"}))
    against_all = ok(http.post("/compatibility/subjects/p/versions?verbose=true", json=narrowing))
    assert against_all["is_compatible"] is False
    assert "version 2" in against_all["messages"][0]


def test_config_global_and_per_subject(http: httpx.Client) -> None:
    assert ok(http.get("/config")) == {"compatibilityLevel": "BACKWARD_TRANSITIVE"}
    refused(http.get("/config/p"), 404, 40408)
    assert ok(http.get("/config/p?defaultToGlobal=true")) == {
        "compatibilityLevel": "BACKWARD_TRANSITIVE"
    }
    assert ok(http.put("/config", json={"compatibility": "full"})) == {"compatibility": "FULL"}
    assert ok(http.put("/config/p", json={"compatibilityLevel": "NONE"})) == {
        "compatibility": "NONE"
    }
    assert ok(http.get("/config/p")) == {"compatibilityLevel": "NONE"}
    assert ok(http.get("/config")) == {"compatibilityLevel": "FULL"}
    refused(http.put("/config", json={"compatibility": "SIDEWAYS"}), 422, 42203)
    assert ok(http.delete("/config")) == {"compatibilityLevel": "FULL"}
    assert ok(http.get("/config")) == {"compatibilityLevel": "BACKWARD_TRANSITIVE"}
    assert ok(http.get("/mode")) == {"mode": "READWRITE"}


def test_soft_then_permanent_deletes_and_ids_never_reused(http: httpx.Client) -> None:
    first = ok(http.post("/subjects/p/versions", json=body(PERSON)))["id"]
    second_schema = variant(email={"type": ["null", "string"], "default": None})
    second = ok(http.post("/subjects/p/versions", json=body(second_schema)))["id"]

    refused(http.delete("/subjects/p/versions/1?permanent=true"), 404, 40407)
    assert ok(http.delete("/subjects/p/versions/1")) == 1
    refused(http.delete("/subjects/p/versions/1"), 404, 40406)
    assert ok(http.get("/subjects/p/versions")) == [2]
    assert ok(http.get("/subjects/p/versions?deleted=true")) == [1, 2]
    refused(http.get("/subjects/p/versions/1"), 404, 40402)
    assert ok(http.get("/subjects/p/versions/1?deleted=true"))["id"] == first
    assert ok(http.delete("/subjects/p/versions/1?permanent=true")) == 1

    refused(http.delete("/subjects/p?permanent=true"), 404, 40405)
    assert ok(http.delete("/subjects/p")) == [2]
    refused(http.delete("/subjects/p"), 404, 40404)
    assert ok(http.get("/subjects")) == []
    assert ok(http.get("/subjects?deleted=true")) == ["p"]
    refused(http.get("/subjects/p/versions"), 404, 40401)
    assert ok(http.delete("/subjects/p?permanent=true")) == [2]
    assert ok(http.get("/subjects?deleted=true")) == []
    refused(http.get(f"/schemas/ids/{second}"), 404, 40403)

    other = {"type": "record", "name": "Other", "namespace": "t", "fields": []}
    fresh = ok(http.post("/subjects/q/versions", json=body(other)))["id"]
    assert fresh > second  # never a deleted schema's id


def test_errors_use_confluent_codes(http: httpx.Client) -> None:
    refused(http.get("/subjects/nope/versions"), 404, 40401)
    refused(http.get("/subjects/nope/versions/latest"), 404, 40401)
    ok(http.post("/subjects/p/versions", json=body(PERSON)))
    refused(http.get("/subjects/p/versions/7"), 404, 40402)
    refused(http.get("/subjects/p/versions/0"), 422, 42202)
    refused(http.get("/subjects/p/versions/x"), 422, 42202)
    refused(http.get("/schemas/ids/999"), 404, 40403)
    refused(http.post("/subjects/p", json=body(variant(age=None))), 404, 40403)
    refused(http.post("/subjects/nope", json=body(PERSON)), 404, 40401)
    refused(http.post("/subjects/p/versions", json={"schema": "{not json"}), 422, 42201)
    bad_type = {"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}
    refused(http.post("/subjects/p/versions", json=body(bad_type)), 422, 42201)
    refused(http.post("/subjects/p/versions", json=body(PERSON, schemaType="PROTOBUF")), 422, 42201)
    refused(http.post("/subjects/p/versions", json={"no": "schema"}), 422, 422)
    refused(http.get("/no/such/route"), 404, 404)


def test_references_resolve_named_types_from_other_subjects(http: httpx.Client) -> None:
    currency = {"type": "enum", "name": "Currency", "namespace": "t", "symbols": ["EUR", "USD"]}
    money = {
        "type": "record",
        "name": "Money",
        "namespace": "t",
        "fields": [{"name": "cents", "type": "long"}, {"name": "currency", "type": "t.Currency"}],
    }
    ok(http.post("/subjects/t.Currency/versions", json=body(currency)))
    refs = [{"name": "t.Currency", "subject": "t.Currency", "version": 1}]
    refused(http.post("/subjects/t.Money/versions", json=body(money)), 422, 42201)
    money_id = ok(http.post("/subjects/t.Money/versions", json=body(money, references=refs)))["id"]
    by_id = ok(http.get(f"/schemas/ids/{money_id}"))
    assert by_id["references"] == refs
    assert ok(http.get("/subjects/t.Currency/versions/1/referencedby")) == [money_id]
    refused(http.delete("/subjects/t.Currency/versions/1"), 422, 42206)


def test_client_maps_confluent_errors_to_classes(registry: EmbeddedRegistry) -> None:
    with RegistryClient(registry.url) as client:
        schema_id = client.register("p", PERSON)
        assert client.register("p", json.dumps(PERSON)) == schema_id
        assert json.loads(client.schema(schema_id).schema) == PERSON
        assert client.lookup("p", PERSON).version == 1
        assert client.compatibility("p") == "BACKWARD_TRANSITIVE"
        with pytest.raises(IncompatibleSchemaError) as caught:
            client.register("p", variant(age={"type": "string"}))
        assert caught.value.details
        assert "Person.age" in caught.value.details[0]
        with pytest.raises(SubjectNotFoundError):
            client.versions("nope")
        with pytest.raises(SchemaNotFoundError):
            client.schema(999)
        compatible, reasons = client.test_compatibility("p", variant(age={"type": "string"}))
        assert not compatible
        assert reasons


def test_schemas_register_command_registers_every_message_then_is_idempotent(
    registry: EmbeddedRegistry, tmp_path: Path
) -> None:
    for file in SCHEMAS_DIR.glob("*.avsc"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "released").mkdir()
    levels = {"default": "BACKWARD_TRANSITIVE", "subjects": {"nl.rmt.hub.Vacancy": "FULL"}}
    (tmp_path / "released" / "compatibility.json").write_text(json.dumps(levels))
    app = typer.Typer()
    app.command("register")(register)
    app.command("unused")(lambda: None)
    runner = CliRunner()
    args = ["register", "--registry-url", registry.url, "--schemas-dir", str(tmp_path)]
    first = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    messages = load_schemas().messages()
    with RegistryClient(registry.url) as client:
        assert client.subjects() == messages
        assert client.compatibility("nl.rmt.hub.Vacancy") == "FULL"
        assert client.compatibility("nl.rmt.hub.Referral") == "BACKWARD_TRANSITIVE"
        ids = {name: client.version(name).schema_id for name in messages}
        assert len(set(ids.values())) == len(messages)
        again = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert again.exit_code == 0, again.output
        assert {name: client.versions(name) for name in messages} == {n: [1] for n in messages}

        # A registry holding an incompatible version makes the command fail with reasons.
        referral = "nl.rmt.hub.Referral"
        client.delete_subject(referral)
        client.delete_subject(referral, permanent=True)
        first_field = load_schemas().raw(referral)["fields"][0]["name"]
        odd = {
            "type": "record",
            "name": "Referral",
            "namespace": "nl.rmt.hub",
            "fields": [{"name": first_field, "type": "boolean"}],
        }
        client.register(referral, odd)
    refused_run = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert refused_run.exit_code == 1
    assert f"at field 'Referral.{first_field}'" in refused_run.output
    assert "nl.rmt.hub.Referral refused" in refused_run.output


def test_external_registry_url_with_basic_auth_starts_nothing(
    registry: EmbeddedRegistry,
) -> None:
    """HUB_SCHEMA_REGISTRY_URL (+ basic auth) selects an external registry.

    The "external" registry here is the embedded one's API behind a gate that demands
    basic auth and answers 401 in Confluent's JSON otherwise, as a secured registry does.
    """
    expected = "Basic " + base64.b64encode(b"hub:s3cret").decode()
    app = create_app(registry.service)

    @app.middleware("http")
    async def basic_auth(request: Request, call_next: Any) -> Any:
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error_code": 401, "message": "Unauthorized"}, status_code=401)
        return await call_next(request)

    with HttpServer(app, name="secured-registry") as secured:
        settings = load_settings(
            schema_registry_url=secured.url,
            schema_registry_username="hub",
            schema_registry_password="s3cret",
        )
        with registry_for(settings) as url:
            assert url == secured.url  # nothing embedded was started
        with client_for(settings) as client:
            assert client.register("p", PERSON) > 0
            assert client.subjects() == ["p"]
        wrong = settings.model_copy(update={"schema_registry_password": SecretStr("nope")})
        with client_for(wrong) as client, pytest.raises(RegistryError) as caught:
            client.subjects()
        assert caught.value.error_code == 401
        assert "Unauthorized" in str(caught.value)
    with pytest.raises(ConfigError, match="HUB_SCHEMA_REGISTRY_URL"):
        client_for(load_settings(schema_registry_url=None))
