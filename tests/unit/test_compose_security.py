"""deploy/kafka/: the security overlay is what hub/broker/secure.py renders, gen-secrets.sh
issues what the overlay mounts (certificates the brokers' principal mapping rule turns into
super users), and create-principals.sh creates the principals the overlay signs in as.

No Docker engine runs here: the apache/kafka image's entrypoint (env -> properties) and
Kafka's SslPrincipalMapper are mirrored in Python from their sources; the scripts run
against stub Kafka tools. tests/integration/test_broker_security_cluster.py starts a
secured cluster with gen-secrets.sh's certificates and passwords.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from hub.broker import overlay
from hub.broker.secure import (
    PRINCIPAL_MAPPING,
    SCRAM_ITERATIONS,
    broker_principal,
    java_client_properties,
    listener_properties,
    security_properties,
)
from hub.broker.tls import issue_test_pki
from hub.config import load_settings
from hub.security.acls import (
    SCHEMA_REGISTRY_GROUP,
    Operation,
    PatternType,
    ResourceType,
    principals,
    render_acls,
    to_kafka_acls_script,
    topic_grants,
)
from topics import SCHEMA_REGISTRY_PRINCIPAL, build_catalogue

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kafka"
COMPOSE = ROOT / "docker-compose.yml"
SECURITY = DEPLOY / "compose.security.yml"
BROKERS = [broker_principal(i) for i in range(1, overlay.BROKERS + 1)]


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def deployed_bindings() -> list[Any]:
    """The ACLs `kafka-acls-render` renders: the catalogue with compose's settings."""
    return render_acls(
        build_catalogue(
            load_settings(
                _env_file=None,
                schema_registry_url=overlay.CATALOGUE_ENVIRONMENT["HUB_SCHEMA_REGISTRY_URL"],
            )
        )
    )


def hub_principals(document: dict[str, Any]) -> dict[str, str]:
    """Compose service -> the SCRAM principal it signs in as."""
    return {
        name: service["environment"]["HUB_SASL_USERNAME"]
        for name, service in document["services"].items()
        if "HUB_SASL_USERNAME" in (service.get("environment") or {})
    }


# --- the overlay is generated -------------------------------------------------------------------
def test_the_checked_in_overlay_is_the_generated_one() -> None:
    assert SECURITY.read_text(encoding="utf-8") == overlay.render_overlay(), (
        "run: rmt-hub acls compose -o deploy/kafka/compose.security.yml"
    )


def _image_properties(environment: dict[str, str]) -> dict[str, str]:
    """What the apache/kafka image makes of KAFKA_* variables (KafkaDockerWrapper's
    getServerConfigsFromEnv, after compose turned $$ into $)."""
    excluded = {"KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_JMX_OPTS", "KAFKA_LOG4J_OPTS"}
    found = {}
    for key, value in environment.items():
        if key.startswith("KAFKA_") and key not in excluded:
            name = key.replace("KAFKA_", "").lower().replace("_", ".")
            found[name.replace("...", "-").replace("..", "_")] = value.replace("$$", "$")
    return found


def test_the_brokers_get_exactly_the_secured_settings_the_tests_run() -> None:
    services = load(SECURITY)["services"]
    for name in BROKERS:
        expected = security_properties(
            keystore=f"{overlay.MOUNT}/{overlay.KEYSTORE}",
            truststore=f"{overlay.MOUNT}/{overlay.CA}",
            brokers=BROKERS,
        ) | listener_properties(
            client=":9094", internal=":9092", controller=":9093", advertised_host=name
        )
        assert _image_properties(services[name]["environment"]) == expected, name
        assert services[name]["volumes"] == [f"./deploy/kafka/secrets/{name}:/etc/kafka/secrets:ro"]


def test_the_overlay_fits_the_base() -> None:
    base = load(COMPOSE)["services"]
    assert [n for n, s in base.items() if s.get("image", "").startswith("apache/kafka:")] == BROKERS
    listeners = base[BROKERS[0]]["environment"]["KAFKA_LISTENERS"]
    assert listeners == "INTERNAL://:9092,CONTROLLER://:9093"  # the overlay's ports
    assert ":9093" in base[BROKERS[0]]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    hub = {n for n, s in base.items() if s.get("image") == overlay.HUB_IMAGE}
    assert hub == set(overlay.HUB_SERVICES)  # every hub service signs in as itself
    # the ACLs are rendered for the catalogue the hub runs: same topic-naming settings
    naming = {"HUB_TOPIC_PREFIX", "HUB_PARTNERS_FILE", "HUB_SCHEMA_REGISTRY_URL"}
    naming |= {"HUB_SCHEMA_REGISTRY_TOPIC"}
    for service in hub:
        env = base[service]["environment"]
        assert {k: v for k, v in env.items() if k in naming} == overlay.CATALOGUE_ENVIRONMENT


def test_each_hub_service_is_its_own_principal_with_its_acls() -> None:
    signed_in = hub_principals(load(SECURITY))
    assert signed_in == overlay.HUB_SERVICES
    assert len(set(signed_in.values())) == len(signed_in)  # none shared
    bindings = deployed_bindings()
    for principal in signed_in.values():
        assert principal in principals(bindings)
        assert topic_grants(bindings, principal), f"{principal} has no topic ACL"


def test_regression_each_hub_service_read_every_secret_in_dotenv() -> None:
    base = load(COMPOSE)["services"]
    services = load(SECURITY)["services"]
    variable = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
    every_password = {overlay.password_variable(p) for p in overlay.SIGNED_IN.values()}
    for name, principal in overlay.SIGNED_IN.items():
        assert "env_file" not in base[name], f"{name} would read every password in .env"
        environment = base[name]["environment"] | services[name]["environment"]
        named = {v for value in environment.values() for v in variable.findall(str(value))}
        assert named & every_password == {overlay.password_variable(principal)}, name
    for name, principal in overlay.HUB_SERVICES.items():
        assert services[name]["environment"]["HUB_SASL_PASSWORD"].startswith(
            "${" + overlay.password_variable(principal) + ":?"
        )
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for principal in overlay.SIGNED_IN.values():
        assert f"\n{overlay.password_variable(principal)}=" in example


# --- the Confluent schema registry's Kafka store --------------------------------------------------
def _registry_environment() -> dict[str, str]:
    """The schema-registry container's environment with the overlay (compose merges maps)."""
    base = load(COMPOSE)["services"][overlay.REGISTRY_SERVICE]["environment"]
    environment: dict[str, str] = (
        base | load(SECURITY)["services"][overlay.REGISTRY_SERVICE]["environment"]
    )
    return environment


def _kafkastore_properties(environment: dict[str, str]) -> dict[str, str]:
    """The Kafka client settings cp-schema-registry makes of its variables
    (``SCHEMA_REGISTRY_KAFKASTORE_SASL_MECHANISM`` -> ``kafkastore.sasl.mechanism``), without
    the ``kafkastore.`` prefix its store strips before handing them to its clients."""
    prefix = "SCHEMA_REGISTRY_KAFKASTORE_"
    return {
        key.removeprefix(prefix).lower().replace("_", "."): value
        for key, value in environment.items()
        if key.startswith(prefix)
    }


def test_regression_the_schema_registry_spoke_plaintext_to_a_certificate_only_listener() -> None:
    """The overlay makes :9092 mTLS-only; the registry's store still connected there with
    PLAINTEXT and had no principal, so the stack did not come up under the overlay."""
    store = _kafkastore_properties(_registry_environment())
    servers = store["bootstrap.servers"].split(",")
    assert servers == [f"SASL_SSL://{b}:{overlay.PORTS['CLIENT']}" for b in BROKERS]
    variable = overlay.password_variable(SCHEMA_REGISTRY_PRINCIPAL)
    password = f"${{{variable}:?set {variable} in .env to deploy/kafka/secrets/scram/"
    assert store == {
        "bootstrap.servers": ",".join(servers),
        "topic": "_schemas",
        "topic.replication.factor": "3",
    } | java_client_properties(
        username=SCHEMA_REGISTRY_PRINCIPAL,
        password=password + f"{SCHEMA_REGISTRY_PRINCIPAL}}}",
        truststore=overlay.HUB_CAFILE,
    )
    assert overlay.SIGNED_IN[overlay.REGISTRY_SERVICE] == SCHEMA_REGISTRY_PRINCIPAL
    assert SCHEMA_REGISTRY_PRINCIPAL in principals(deployed_bindings())
    service = load(SECURITY)["services"][overlay.REGISTRY_SERVICE]
    assert service["depends_on"] == {"kafka-init": {"condition": "service_completed_successfully"}}
    assert service["volumes"] == [f"./deploy/kafka/secrets/ca/{overlay.CA}:{overlay.HUB_CAFILE}:ro"]


def test_the_schema_registry_gets_exactly_what_its_store_needs() -> None:
    """Its store (Confluent's KafkaStore) lists, creates or checks (cleanup policy), writes
    and reads its topic; its leader election joins its group. Nothing else, nothing on the
    cluster, and nobody else gets its topic."""
    environment = _registry_environment()
    topic = environment["SCHEMA_REGISTRY_KAFKASTORE_TOPIC"]
    assert "SCHEMA_REGISTRY_SCHEMA_REGISTRY_GROUP_ID" not in environment  # Confluent's default
    catalogue = build_catalogue(
        load_settings(
            _env_file=None,
            schema_registry_url=overlay.CATALOGUE_ENVIRONMENT["HUB_SCHEMA_REGISTRY_URL"],
        )
    )
    assert catalogue.external_schema_store == topic
    assert topic not in catalogue.names()  # `topics apply` leaves it to the registry
    bindings = deployed_bindings()
    mine = {
        (b.resource_type, b.pattern_type, b.resource_name, b.operation)
        for b in bindings
        if b.principal == f"User:{SCHEMA_REGISTRY_PRINCIPAL}"
    }
    topic_operations = {
        Operation.CREATE,
        Operation.DESCRIBE,
        Operation.DESCRIBE_CONFIGS,
        Operation.READ,
        Operation.WRITE,
    }
    assert mine == {
        (ResourceType.TOPIC, PatternType.LITERAL, topic, op) for op in topic_operations
    } | {(ResourceType.GROUP, PatternType.LITERAL, SCHEMA_REGISTRY_GROUP, Operation.READ)}
    assert {b.principal for b in bindings if b.resource_name == topic} == {
        f"User:{SCHEMA_REGISTRY_PRINCIPAL}"
    }
    assert "registry" not in principals(bindings)  # the embedded registry does not run


# --- gen-secrets.sh and create-principals.sh ---------------------------------------------------
@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/kafka/gen-secrets.sh run for the deployed principals."""
    root = tmp_path_factory.mktemp("deploy")
    listed = root / "principals.txt"
    listed.write_text("".join(f"{p}\n" for p in principals(deployed_bindings())))
    out = root / "secrets"
    subprocess.run(
        ["sh", str(DEPLOY / "gen-secrets.sh"), str(out)],
        env={
            "PATH": "/usr/bin:/bin",
            "PRINCIPALS_FILE": str(listed),
            "BROKERS": " ".join(BROKERS),
            "KAFKA_UID": str(os.getuid()),
        },
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def _host_path(mount: str, secrets: Path) -> tuple[Path, str]:
    host, _, rest = mount.partition(":")
    target = rest.removesuffix(":ro")
    return secrets / host.removeprefix("./deploy/kafka/secrets/"), target


def test_regression_gen_secrets_wrote_passwords_for_the_embedded_registry_s_catalogue(
    tmp_path: Path,
) -> None:
    """Without PRINCIPALS_FILE it rendered the principals with the host's settings (no
    HUB_SCHEMA_REGISTRY_URL): a password for `registry`, which compose does not run, and
    none for `schema-registry`, so kafka-init failed. It renders compose's catalogue."""
    hub_bin = Path(sys.executable).parent
    assert (hub_bin / "rmt-hub").exists()
    out = tmp_path / "secrets"
    subprocess.run(
        ["sh", str(DEPLOY / "gen-secrets.sh"), str(out)],
        cwd=tmp_path,  # no .env
        env={
            "PATH": f"{hub_bin}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "BROKERS": BROKERS[0],
            "KAFKA_UID": str(os.getuid()),
        },
        check=True,
        capture_output=True,
        timeout=120,
    )
    written = sorted(p.name for p in (out / "scram").iterdir())
    assert written == principals(deployed_bindings())
    assert SCHEMA_REGISTRY_PRINCIPAL in written


def test_gen_secrets_writes_what_the_overlay_mounts(secrets: Path) -> None:
    services = load(SECURITY)["services"]
    for name in [*BROKERS, "kafka-init"]:
        mounts = [m for m in services[name]["volumes"] if m.startswith("./deploy/kafka/secrets/")]
        for mount in mounts:
            host, target = _host_path(mount, secrets)
            assert host.exists(), mount
            if target == overlay.MOUNT:
                assert {p.name for p in host.iterdir()} == {
                    overlay.KEYSTORE,
                    overlay.CA,
                    overlay.CLIENT_CONFIG,
                }
                config = (host / overlay.CLIENT_CONFIG).read_text()
                assert f"ssl.keystore.location={overlay.MOUNT}/{overlay.KEYSTORE}" in config
                assert f"ssl.truststore.location={overlay.MOUNT}/{overlay.CA}" in config
    kafka_init = services["kafka-init"]["environment"]["COMMAND_CONFIG"]
    assert kafka_init == f"{overlay.MOUNT}/{overlay.CLIENT_CONFIG}"  # as a broker
    (ca_mount,) = services["router"]["volumes"]
    host, _ = _host_path(ca_mount, secrets)
    assert host.stat().st_mode & 0o044 == 0o044  # the hub reads it as another user
    assert not list(secrets.rglob("admin*"))  # no admin user any more


def test_gen_secrets_keystores_are_pem_with_a_pkcs8_key(secrets: Path) -> None:
    for name in BROKERS:
        keystore = (secrets / name / overlay.KEYSTORE).read_text()
        assert keystore.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
        assert keystore.count("-----BEGIN CERTIFICATE-----") == 2  # its own and the CA's
        assert (secrets / name / overlay.KEYSTORE).stat().st_mode & 0o077 == 0


# --- the brokers' principal mapping rule, as Kafka applies it ------------------------------------
_RULE = r"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)"


def _java_replacement(replacement: str, match: re.Match[str]) -> str:
    out, i = [], 0
    while i < len(replacement):
        c = replacement[i]
        if c == "\\" and i + 1 < len(replacement):
            out.append(replacement[i + 1])
            i += 2
        elif c == "$":
            digits = re.match(r"\d+", replacement[i + 1 :])
            assert digits, replacement
            out.append(match.group(int(digits.group())) or "")
            i += 1 + len(digits.group())
        else:
            out.append(c)
            i += 1
    return "".join(out)


def kafka_principal(rules: str, dn: str) -> str:
    """Kafka's SslPrincipalMapper.getName: the first rule whose pattern matches the whole
    DN gives the principal (``replaceAll`` with the replacement, then L/U); DEFAULT is the
    DN itself."""
    for found in re.finditer(r"\s*(" + _RULE + r")\s*(,\s*|$)", rules.strip()):
        rule = re.fullmatch(_RULE, found.group(1))
        assert rule, found.group(1)
        if rule.group(1):
            return dn
        if rule.group(2) is None:
            continue
        pattern, replacement, case = rule.group(2), rule.group(4), rule.group(6)
        if re.fullmatch(pattern, dn):
            name = re.sub(pattern, functools.partial(_java_replacement, replacement), dn)
            return name.lower() if case == "L" else name.upper() if case == "U" else name
    raise AssertionError(f"no rule applies to {dn}")


def java_dn(certificate: x509.Certificate) -> str:
    """X500Principal.getName(): RFC 2253, the certificate's last RDN first."""
    return certificate.subject.rfc4514_string()


def test_the_mapping_rule_takes_the_cn_in_either_order() -> None:
    assert kafka_principal(PRINCIPAL_MAPPING, "O=rmt-hub,CN=kafka-1") == "kafka-1"
    assert kafka_principal(PRINCIPAL_MAPPING, "CN=kafka-1,O=rmt-hub") == "kafka-1"
    assert kafka_principal(PRINCIPAL_MAPPING, "CN=uwv") == "uwv"
    assert kafka_principal(PRINCIPAL_MAPPING, "C=NL,O=rmt-hub test,CN=kafka-2") == "kafka-2"
    # no CN: the whole DN, which is nobody's principal (DEFAULT)
    assert kafka_principal(PRINCIPAL_MAPPING, "O=rmt-hub,OU=kafka-1") == "O=rmt-hub,OU=kafka-1"


def test_a_cn_first_rule_would_miss_javas_reversed_dn() -> None:
    """The hand-written overlay's rule was ``^CN=...``: Java puts the certificate's last
    RDN first, so gen-secrets.sh's ``/CN=kafka-1/O=rmt-hub`` mapped to its whole DN and
    the brokers were no super users."""
    old = r"RULE:^CN=([a-zA-Z0-9.-]+).*$/$1/,DEFAULT"
    assert kafka_principal(old, "O=rmt-hub,CN=kafka-1") == "O=rmt-hub,CN=kafka-1"
    assert kafka_principal(PRINCIPAL_MAPPING, "O=rmt-hub,CN=kafka-1") == "kafka-1"


def test_gen_secrets_brokers_are_the_super_users(secrets: Path) -> None:
    services = load(SECURITY)["services"]
    for name in BROKERS:
        env = _image_properties(services[name]["environment"])
        chain = x509.load_pem_x509_certificates((secrets / name / overlay.KEYSTORE).read_bytes())
        dn = java_dn(chain[0])
        assert dn == f"O=rmt-hub,CN={name}"
        principal = kafka_principal(env["ssl.principal.mapping.rules"], dn)
        assert f"User:{principal}" in env["super.users"].split(";")
        assert chain[0].issuer == chain[1].subject


def test_the_test_pki_maps_the_same_way(tmp_path: Path) -> None:
    pki = issue_test_pki(tmp_path, ["kafka-1"])
    chain = x509.load_pem_x509_certificates(pki.keystore("kafka-1").read_bytes())
    assert kafka_principal(PRINCIPAL_MAPPING, java_dn(chain[0])) == "kafka-1"


# --- create-principals.sh -----------------------------------------------------------------------
_STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
"""


def test_create_principals_creates_exactly_the_rendered_principals(
    secrets: Path, tmp_path: Path
) -> None:
    bindings = deployed_bindings()
    acls = tmp_path / "acls"
    acls.mkdir()
    (acls / "acls.sh").write_text(to_kafka_acls_script(bindings))
    (acls / "principals.txt").write_text("".join(f"{p}\n" for p in principals(bindings)))
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("kafka-broker-api-versions.sh", "kafka-configs.sh", "kafka-acls.sh"):
        (stubs / tool).write_text(_STUB.format(log=log))
        (stubs / tool).chmod(0o755)
    init = load(SECURITY)["services"]["kafka-init"]
    done = subprocess.run(
        ["bash", str(DEPLOY / "create-principals.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "KAFKA_BIN": str(stubs),
            "ACLS_DIR": str(acls),
            "SCRAM_DIR": str(secrets / "scram"),
        }
        | init["environment"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    created = {}
    for call in calls:
        if call.startswith("kafka-configs.sh"):
            user = re.search(r"--entity-name (\S+)", call)
            config = re.search(r"SCRAM-SHA-512=\[iterations=(\d+),password=(\w+)\]", call)
            assert user, call
            assert config, call
            assert int(config.group(1)) == SCRAM_ITERATIONS
            created[user.group(1)] = config.group(2)
        assert f"--command-config {init['environment']['COMMAND_CONFIG']}" in call
    assert sorted(created) == principals(bindings)
    assert set(overlay.SIGNED_IN.values()) <= set(created)  # the schema registry too
    assert "admin" not in created
    for user, password in created.items():
        assert (secrets / "scram" / user).read_text().strip() == password
    acl_calls = [c for c in calls if c.startswith("kafka-acls.sh")]
    assert len(acl_calls) == to_kafka_acls_script(bindings).count("--add")


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_scripts_are_shellcheck_clean() -> None:
    scripts = [DEPLOY / "gen-secrets.sh", DEPLOY / "create-principals.sh"]
    done = subprocess.run(
        ["shellcheck", *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
