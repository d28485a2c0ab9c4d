"""The Java partner SDK (sdk/java) end to end, with record security on, on the real broker.

Java publisher -> router -> Java reader, and the same deliveries -> Python SDK reader: UWV
publishes profiles with the Java SDK (registered through the hub's registry, encrypted to
the hub and signed); the router verifies, decrypts and routes them; gemeente-amsterdam
reads its inbox with the Java SDK and with the Python SDK. A record the router refuses
comes back to the Java publisher as a rejection notice. The jar is built once per session
(``mvn package``); each Java step is one JVM run of ``nl.rmt.hub.sdk.Example``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.config import HubSettings
from hub.docs.headers import HEADERS
from hub.sdk import InboxMessage, PartnerClient, event_id_for
from hub.security.config import partner_key_store
from schemas.models import ClientProfile
from schemas.vocabulary import DataCategory, Purpose
from tests.plugins.hub import own_hub
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "sdk" / "java"
SCHEMAS = ROOT / "schemas"
GEMEENTE = "gemeente-amsterdam"
CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
)


def _stale(jar: Path | None) -> bool:
    """True when the jar is missing or older than a source, the pom or a schema."""
    if jar is None:
        return True
    sources = [SDK / "pom.xml", *SDK.glob("src/**/*"), *SCHEMAS.glob("*.avsc")]
    built = jar.stat().st_mtime
    return any(p.stat().st_mtime > built for p in sources) or not (SDK / "target" / "lib").is_dir()


@pytest.fixture(scope="session")
def java_sdk() -> list[str]:
    """The command that runs the SDK's example; the jar is built once per session, and
    not at all when `dev.py test` (mvn verify) has just built it."""
    mvn, java = shutil.which("mvn"), shutil.which("java")
    if mvn is None or java is None:
        pytest.skip("the Java SDK needs java and mvn on PATH")
    jars = sorted(SDK.glob("target/rmt-hub-sdk-*.jar"))
    if _stale(jars[-1] if jars else None):
        built = subprocess.run(
            [mvn, "-q", "-B", "package", "-DskipTests"],
            cwd=SDK,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (jar,) = SDK.glob("target/rmt-hub-sdk-*.jar")
    classpath = os.pathsep.join([str(jar), str(SDK / "target" / "lib" / "*")])
    return [java, "-cp", classpath, "nl.rmt.hub.sdk.Example"]


@pytest.fixture(scope="module")
def hub(hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of its own, record security on, one router worker."""
    with own_hub(
        hub_settings, tmp_path_factory.mktemp("java-sdk"), "java", security_enabled=True
    ) as made:
        made.worker().wait_ready(60, partitions=made.settings.topic_partitions)
        yield made


def java(
    command: list[str], hub: Hub, verb: str, partner: str, *args: str, stdin: str = ""
) -> list[dict[str, Any]]:
    """One run of the Java example as ``partner``; its JSON lines."""
    settings = hub.settings
    done = subprocess.run(
        [
            *command,
            verb,
            "--partner",
            partner,
            "--bootstrap",
            settings.bootstrap_servers or "",
            "--registry",
            str(settings.schema_registry_url),
            "--prefix",
            settings.topic_prefix,
            "--keys",
            str(partner_key_store(settings).root),
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"java {verb} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def lines(*profiles: ClientProfile | dict[str, Any]) -> str:
    return "\n".join(
        json.dumps(
            {
                "type": "nl.rmt.hub.ClientProfile",
                "record": p.model_dump(mode="json") if isinstance(p, ClientProfile) else p,
            }
        )
        for p in profiles
    )


@pytest.fixture(scope="module")
def published(hub: Hub, java_sdk: list[str]) -> tuple[list[ClientProfile], list[dict[str, Any]]]:
    """UWV publishes with the Java SDK (one JVM run): three consented profiles for the
    gemeente, then one the router refuses; (the profiles, what Java printed)."""
    who = [records.subject() for _ in range(3)]
    for subject in who:
        hub.grant(subject, to=[GEMEENTE], purposes=[Purpose.ARRANGEMENT], categories=CATEGORIES)
    profiles = [records.profile(subject) for subject in who]
    bad = records.profile(records.subject()).model_dump(mode="json") | {"municipality_code": "x"}
    return profiles, java(java_sdk, hub, "publish", "uwv", stdin=lines(*profiles, bad))


def test_java_publisher_to_router_to_java_and_python_readers(
    hub: Hub,
    java_sdk: list[str],
    published: tuple[list[ClientProfile], list[dict[str, Any]]],
) -> None:
    profiles, printed = published
    ids = [p["event_id"] for p in printed[:3]]
    # the Java SDK's deterministic event ids are the Python SDK's
    assert ids == [event_id_for(p, "uwv") for p in profiles]

    seen = java(java_sdk, hub, "read", GEMEENTE, "--count", "3", "--group", "java-reader")
    assert {m["kind"] for m in seen} == {"RECORD"}, seen
    assert sorted(m["subject"] for m in seen) == sorted(p.client_pseudonym for p in profiles)
    assert sorted(m["record"]["event_id"] for m in seen) == sorted(ids)
    assert all(m["record"]["given_name"] == "Fatima" for m in seen)

    with PartnerClient(hub.settings, GEMEENTE, security=True, dedupe=False) as client:
        got: list[InboxMessage] = []
        deadline = time.monotonic() + 30
        while len(got) < 3 and time.monotonic() < deadline:
            got += client.poll(timeout_s=0.5)
    assert all(m.ok for m in got), [m.error for m in got]
    assert sorted(str(getattr(m.record, "event_id", "")) for m in got) == sorted(ids)
    assert {m.event_id for m in got} == {m["event_id"] for m in seen}  # the same deliveries

    # the Java SDK registered exactly the hub's schema text: one version, the hub's id
    registry = str(hub.settings.schema_registry_url)
    subject = f"{registry}/subjects/nl.rmt.hub.ClientProfile/versions"
    assert httpx.get(subject).json() == [1]
    assert {p["schema_id"] for p in printed} == {httpx.get(f"{subject}/1").json()["id"]}


def test_a_refused_record_comes_back_to_the_java_publisher_as_a_rejection_notice(
    hub: Hub,
    java_sdk: list[str],
    published: tuple[list[ClientProfile], list[dict[str, Any]]],
) -> None:
    refused = published[1][3]["event_id"]
    seen = java(java_sdk, hub, "read", "uwv", "--count", "1", "--group", "java-uwv")
    assert [(m["kind"], m["rejected_event_id"]) for m in seen] == [("REJECTION", refused)], seen
    assert seen[0]["reason"]


def test_kcat_on_an_inbox_sees_ciphertext_and_documented_headers(
    hub: Hub, published: tuple[list[ClientProfile], list[dict[str, Any]]]
) -> None:
    """What a partner's stock tool shows (issue 17): Debian's kcat (librdkafka 2.0.2)
    reads an inbox on the embedded Apache Kafka: the values are the envelopes, byte for
    byte, and every header is one the protocol documents."""
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.skip("kcat is not installed (Debian: apt-get install kcat)")
    topic = hub.catalogue.inbox(GEMEENTE).name
    base = [kcat, "-C", "-b", hub.settings.bootstrap_servers or "", "-t", topic, "-e", "-q"]
    listed = subprocess.run(
        [*base, "-o", "beginning", "-J"], capture_output=True, timeout=60, check=False
    )
    assert listed.returncode == 0, listed.stderr
    seen = [json.loads(line.decode("utf-8", "replace")) for line in listed.stdout.splitlines()]
    assert len(seen) >= len(published[0])
    documented = {h.name for h in HEADERS if h.partner_visible}
    for record in seen:
        names = set(record["headers"][::2])
        assert names <= documented, names - documented
        assert {"rmt-enc-alg", "rmt-enc-dek", "rmt-sig"} <= names

    first = hub.inbox(GEMEENTE, timeout_s=30)[0]
    raw = subprocess.run(
        [*base, "-p", str(first.partition), "-o", str(first.offset), "-c", "1", "-f", "%s"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == first.raw  # the envelope, as the partner SDKs decrypt it
    assert first.value is not None
    assert first.value != first.raw
    assert first.value[:1] == b"\x00"  # its plaintext: Confluent-framed Avro
