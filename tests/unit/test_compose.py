"""docker-compose.yml (and the security overlay) against the Compose Specification's JSON
Schema, plus what the schema cannot say: pinned images, healthchecks, no literal secrets,
the production topology. No Docker engine is needed (nor available here)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hub.broker import distribution
from hub.security.startup import REQUIRED_SECRETS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "compose-spec" / "compose-spec.json"
COMPOSE = ROOT / "docker-compose.yml"
SECURITY = ROOT / "deploy" / "kafka" / "compose.security.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"

_SECRET_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ENCRYPTION_KEY|_KEY$)")
_INTERPOLATED = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$")
_PINNED = re.compile(r"^[^:@\s]+(:[vV]?\d+(\.\d+)*[A-Za-z0-9._-]*)?(@sha256:[0-9a-f]{64})?$")
_COMPLETED = "service_completed_successfully"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


# --- what the schema cannot express ----------------------------------------------------------
def unpinned_images(document: dict[str, Any]) -> list[str]:
    """Services whose image has no version tag (or digest), or is 'latest'."""
    problems = []
    for name, service in document.get("services", {}).items():
        image = service.get("image")
        if image is None:
            if "build" in service:
                problems.append(f"{name}: builds without naming a versioned image")
            continue
        tag = image.rsplit("/", 1)[-1]
        if ":" not in tag and "@" not in tag:
            problems.append(f"{name}: image {image} has no tag")
        elif ":latest" in image or not _PINNED.match(image):
            problems.append(f"{name}: image {image} is not pinned to a version")
    return problems


def unhealthy(document: dict[str, Any]) -> list[str]:
    """Services with no healthcheck that do not wait for a healthy (or finished) one.

    A one-shot job (``restart: "no"``) needs no healthcheck of its own but must wait for
    healthy dependencies; a long-running service needs a healthcheck.
    """
    services = document.get("services", {})
    problems = []
    for name, service in services.items():
        check = service.get("healthcheck")
        if check and not check.get("disable"):
            continue
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        waits = [
            d
            for d, how in depends.items()
            if how.get("condition") in ("service_healthy", _COMPLETED)
        ]
        if service.get("restart") != "no":
            problems.append(f"{name}: a long-running service without a healthcheck")
        elif not waits:
            problems.append(f"{name}: no healthcheck and waits for no healthy service")
    return problems


def _environments(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, service in document.get("services", {}).items():
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.partition("=")[::2] for item in env)
        found.append((name, env))
    return found


def literal_secrets(document: dict[str, Any], text: str) -> list[str]:
    """Secret-looking settings with a literal value (they must be ${VAR} from .env)."""
    problems = []
    for name, env in _environments(document):
        for key, value in env.items():
            if value in (None, "") or not _SECRET_KEY.search(str(key)):
                continue
            if not _INTERPOLATED.match(str(value)):
                problems.append(f"{name}: {key} has a literal value")
    if "-----BEGIN" in text:
        problems.append("a PEM block in the file")
    for line in text.splitlines():
        # a value quoted inside a value (a JAAS config's password="${...}") is no literal
        literal = r'(?i)(password|secret)\s*[:=]\s*(\\?")?[^\s$#{"\\]'
        if re.search(literal, line) and "PASSWORD:" not in line:
            problems.append(f"a literal secret in: {line.strip()}")
    return problems


# --- the files ---------------------------------------------------------------------------------
def test_the_vendored_schema_is_the_current_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"name", "services", "volumes", "include"} <= set(schema["properties"])


@pytest.mark.parametrize("path", [COMPOSE, SECURITY], ids=lambda p: p.name)
def test_the_compose_files_follow_the_specification(
    validator: jsonschema.protocols.Validator, path: Path
) -> None:
    assert schema_errors(validator, load(path)) == []


def test_every_image_is_pinned_and_every_service_healthy() -> None:
    document = load(COMPOSE)
    assert unpinned_images(document) == []
    assert unhealthy(document) == []
    overlay = load(SECURITY)
    assert (
        unpinned_images(
            {"services": {n: s for n, s in overlay["services"].items() if "image" in s}}
        )
        == []
    )


@pytest.mark.parametrize("path", [COMPOSE, SECURITY], ids=lambda p: p.name)
def test_no_secrets_in_the_files(path: Path) -> None:
    assert literal_secrets(load(path), path.read_text(encoding="utf-8")) == []


def test_the_production_topology() -> None:
    services = load(COMPOSE)["services"]
    brokers = [n for n, s in services.items() if s.get("image", "").startswith("apache/kafka:")]
    assert len(brokers) == 3
    for name in brokers:
        env = services[name]["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    assert services["schema-registry"]["image"].startswith("confluentinc/cp-schema-registry:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    for name, command in (("router", "router"), ("consent", "consent")):
        assert services[name]["deploy"]["replicas"] >= 2, name
        assert services[name]["command"][0] == command
        env = services[name]["environment"]
        assert env["HUB_BOOTSTRAP_SERVERS"].count("kafka-") == 3  # never the embedded broker
        assert env["HUB_SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"
    assert "/readyz" in " ".join(services["consent"]["healthcheck"]["test"])
    assert services["hub-init"]["command"] == ["topics", "apply"]
    mounts = services["prometheus"]["volumes"]
    assert any(m.startswith("./deploy/prometheus/prometheus.yml:") for m in mounts)


def test_every_hub_service_gets_the_required_secrets_and_the_key_volume() -> None:
    """What the production start check demands (hub/security/startup.py) is given: each
    required secret from .env (listed in .env.example), a persistent key store."""
    document = load(COMPOSE)
    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if re.match(r"^[A-Z_]+=", line)
    }
    hub_services = [
        n for n, s in document["services"].items() if s.get("image", "").startswith("rmt-hub:")
    ]
    assert {"router", "consent", "hub-init"} <= set(hub_services)
    for name in hub_services:
        service = document["services"][name]
        env = service["environment"]
        for secret in REQUIRED_SECRETS:
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", str(env.get(secret))), (name, secret)
            assert secret in listed, secret
        volume, _, target = service["volumes"][0].partition(":")
        assert volume in document["volumes"], name
        assert env["HUB_KEYS_DIR"] == target.split(":")[0], name


def test_prometheus_scrapes_the_hub_services() -> None:
    services = load(COMPOSE)["services"]
    config = load(PROMETHEUS)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in ("consent", "router"):
        sd = jobs[name]["dns_sd_configs"][0]
        assert sd["names"] == [name]
        assert str(sd["port"]) in services[name]["expose"]
        assert jobs[name]["metrics_path"] == "/metrics"


def test_prometheus_alerts_on_expiring_consents() -> None:
    """The alert rules are loaded and mounted, and read the gauge the consent service
    publishes (hub/metrics.py)."""
    from hub.metrics import process_metrics  # noqa: PLC0415

    alerts = PROMETHEUS.parent / "alerts.yml"
    config = load(PROMETHEUS)
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    mounts = load(COMPOSE)["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
    rules = {r["alert"]: r for g in load(alerts)["groups"] for r in g["rules"]}
    assert {
        "ConsentsExpiringSoon",
        "ConsentsExpiringMetricAbsent",
        "ErasureAcknowledgementsOverdue",
    } <= set(rules)
    exposed = process_metrics().exposition().decode()
    published = set(re.findall(r"^# TYPE (rmt_\w+) ", exposed, re.MULTILINE))
    assert {"rmt_consents_expiring", "rmt_erasure_acks_overdue"} <= published
    for rule in rules.values():
        read = set(re.findall(r"rmt_\w+", rule["expr"]))
        assert read, rule["expr"]
        assert read <= published, read - published
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])


def test_the_overlay_only_extends_services_of_the_base() -> None:
    base = set(load(COMPOSE)["services"])
    overlay = load(SECURITY)["services"]
    own = {n for n, s in overlay.items() if "image" in s}  # services the overlay adds
    assert set(overlay) - own <= base


# --- the checks catch what they should ---------------------------------------------------------
def test_a_broken_document_fails_validation(validator: jsonschema.protocols.Validator) -> None:
    broken = copy.deepcopy(load(COMPOSE))
    broken["services"]["postgres"]["imagee"] = "postgres:16"  # unknown key
    broken["services"]["consent"]["deploy"]["replicas"] = [2]  # wrong type
    broken["services"]["router"]["depends_on"]["hub-init"]["condition"] = "when_ready"
    broken["volumes"] = ["not", "a", "mapping"]
    errors = schema_errors(validator, broken)
    assert len(errors) >= 4, errors
    where = " ".join(errors)
    for path in ("services/postgres", "services/consent/deploy/replicas", "volumes"):
        assert path in where, errors
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)
    assert schema_errors(validator, {"services": {"x": {"image": 3}}}) != []


def test_the_extra_checks_catch_what_they_should() -> None:
    document = copy.deepcopy(load(COMPOSE))
    document["services"]["postgres"]["image"] = "postgres:latest"
    document["services"]["prometheus"]["image"] = "prom/prometheus"
    del document["services"]["consent"]["healthcheck"]
    document["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"
    document["services"]["router"]["environment"] = {
        **document["services"]["router"]["environment"],
        "HUB_BSN_ENCRYPTION_KEY": "c2VjcmV0",
    }
    assert sorted(unpinned_images(document)) == [
        "postgres: image postgres:latest is not pinned to a version",
        "prometheus: image prom/prometheus has no tag",
    ]
    assert unhealthy(document) == ["consent: a long-running service without a healthcheck"]
    assert literal_secrets(document, "") == [
        "postgres: POSTGRES_PASSWORD has a literal value",
        "router: HUB_BSN_ENCRYPTION_KEY has a literal value",
    ]
    assert literal_secrets({}, "    password: hunter2\n") == [
        "a literal secret in: password: hunter2"
    ]
    jaas = 'JAAS: "ScramLoginModule required username=\\"u\\" password=\\"hunter2\\";"'
    assert literal_secrets({}, jaas) == [f"a literal secret in: {jaas}"]
    assert literal_secrets({}, jaas.replace("hunter2", "${PW:?set PW}")) == []


@pytest.mark.parametrize("path", [COMPOSE, SECURITY], ids=lambda p: p.name)
def test_compose_runs_the_apache_kafka_the_tests_run(path: Path) -> None:
    """The tests start Apache Kafka from hub/broker/kafka/pom.xml; production must run
    the same version, or what is tested is not what is deployed."""
    images = [
        s["image"]
        for s in load(path)["services"].values()
        if s.get("image", "").startswith("apache/kafka:")
    ]
    assert images
    assert {image.partition(":")[2] for image in images} == {distribution.kafka_version()}
