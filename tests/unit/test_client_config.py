"""hub.kafka.config is the one mapping from HubSettings to each client's configuration:
the same settings reach kafka-python, aiokafka, faust and confluent-kafka alike."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest
from pydantic import SecretStr

from hub.broker.tls import issue_test_pki
from hub.config import HubSettings
from hub.errors import ConfigError
from hub.kafka.config import (
    aiokafka_config,
    confluent_config,
    confluent_producer_config,
    faust_broker_url,
    faust_credentials,
    kafka_python_config,
    producer_guarantees,
)


@pytest.fixture
def sasl_ssl(tmp_path: Path) -> HubSettings:
    pki = issue_test_pki(tmp_path, ["client"])
    return HubSettings(
        bootstrap_servers="k1:9093,k2:9093",
        client_id="hub-x",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="partner-a",
        sasl_password=SecretStr("s3cret"),
        ssl_cafile=pki.ca,
        ssl_certfile=pki.keystore("client"),
        ssl_keyfile=pki.keystore("client"),
        request_timeout_ms=7_000,
        idempotent_producer=False,
    )


def test_sasl_ssl_reaches_kafka_python(sasl_ssl: HubSettings) -> None:
    config = kafka_python_config(sasl_ssl)
    assert config == {
        "bootstrap_servers": ["k1:9093", "k2:9093"],
        "client_id": "hub-x",
        "security_protocol": "SASL_SSL",
        "request_timeout_ms": 7_000,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "partner-a",
        "sasl_plain_password": "s3cret",
        "ssl_cafile": str(sasl_ssl.ssl_cafile),
        "ssl_certfile": str(sasl_ssl.ssl_certfile),
        "ssl_keyfile": str(sasl_ssl.ssl_keyfile),
    }


def test_sasl_ssl_reaches_aiokafka(sasl_ssl: HubSettings) -> None:
    config = aiokafka_config(sasl_ssl)
    context = config.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.get_ca_certs()  # the CA file was loaded
    assert config == {
        "bootstrap_servers": ["k1:9093", "k2:9093"],
        "client_id": "hub-x",
        "security_protocol": "SASL_SSL",
        "request_timeout_ms": 7_000,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "partner-a",
        "sasl_plain_password": "s3cret",
    }
    assert aiokafka_config(sasl_ssl, "hub-x-router-writer")["client_id"] == "hub-x-router-writer"


def test_sasl_ssl_reaches_faust(sasl_ssl: HubSettings) -> None:
    assert faust_broker_url(sasl_ssl) == "kafka://k1:9093;kafka://k2:9093"
    credentials = faust_credentials(sasl_ssl)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "partner-a"
    assert credentials.password == "s3cret"
    assert str(credentials.mechanism.value) == "SCRAM-SHA-512"
    assert isinstance(credentials.ssl_context, ssl.SSLContext)
    assert credentials.ssl_context.get_ca_certs()


def test_sasl_ssl_reaches_confluent_kafka(sasl_ssl: HubSettings) -> None:
    assert confluent_config(sasl_ssl) == {
        "bootstrap.servers": "k1:9093,k2:9093",
        "client.id": "hub-x",
        "security.protocol": "SASL_SSL",
        "socket.timeout.ms": 7_000,
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "partner-a",
        "sasl.password": "s3cret",
        "ssl.ca.location": str(sasl_ssl.ssl_cafile),
        "ssl.certificate.location": str(sasl_ssl.ssl_certfile),
        "ssl.key.location": str(sasl_ssl.ssl_keyfile),
    }


def test_confluent_kafka_accepts_the_mapping(sasl_ssl: HubSettings) -> None:
    """librdkafka refuses unknown or misspelt properties when a client is built."""
    from confluent_kafka import Consumer, Producer  # noqa: PLC0415 - dev extra

    Producer(confluent_producer_config(sasl_ssl))
    Consumer(confluent_config(sasl_ssl) | {"group.id": "g"}).close()


def test_producer_guarantees_agree_for_every_producer(sasl_ssl: HubSettings) -> None:
    assert producer_guarantees(sasl_ssl) == {"acks": "all", "enable_idempotence": False}
    on = sasl_ssl.model_copy(update={"idempotent_producer": True})
    assert producer_guarantees(on) == {"acks": "all", "enable_idempotence": True}
    confluent = confluent_producer_config(on)
    assert (confluent["acks"], confluent["enable.idempotence"]) == ("all", True)


def test_plaintext_carries_no_credentials() -> None:
    plain = HubSettings(bootstrap_servers="k1:9092")
    assert not {k for k in kafka_python_config(plain) if k.startswith(("sasl", "ssl"))}
    assert not {k for k in aiokafka_config(plain) if k.startswith(("sasl", "ssl"))}
    assert not {k for k in confluent_config(plain) if k.startswith(("sasl", "ssl"))}
    assert faust_credentials(plain) is None


def test_every_mapping_needs_bootstrap_servers() -> None:
    embedded = HubSettings(bootstrap_servers=None)
    for mapping in (kafka_python_config, aiokafka_config, confluent_config, faust_broker_url):
        with pytest.raises(ConfigError, match="HUB_BOOTSTRAP_SERVERS"):
            mapping(embedded)
