"""HubSettings: env prefix, embedded default, validation, secrets never printed."""

from __future__ import annotations

import logging

import pytest

from hub.config import load_settings
from hub.errors import ConfigError
from hub.logging import JsonFormatter, SecretRedactor


def test_unset_bootstrap_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_BOOTSTRAP_SERVERS", raising=False)
    settings = load_settings()
    assert settings.embedded
    assert settings.bootstrap_servers is None


def test_env_prefix_selects_external_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_BOOTSTRAP_SERVERS", " kafka-1:9092, kafka-2:9092 ")
    monkeypatch.setenv("HUB_TOPIC_PARTITIONS", "12")
    settings = load_settings()
    assert not settings.embedded
    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.topic_partitions == 12


def test_malformed_bootstrap_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"HUB_BOOTSTRAP_SERVERS: .*'kafka' is not host:port"):
        load_settings(bootstrap_servers="kafka")


def test_sasl_without_credentials_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs sasl_mechanism"):
        load_settings(bootstrap_servers="k:9092", security_protocol="SASL_SSL")


def test_secrets_are_masked_in_repr_and_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SASL_PASSWORD", "hunter2-very-secret")
    settings = load_settings(
        bootstrap_servers="k:9092",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="hub",
    )
    assert "hunter2-very-secret" not in repr(settings)
    assert "hunter2-very-secret" not in str(settings.masked())
    assert settings.masked()["sasl_password"] == "**********"
    assert settings.secret_values() == ["hunter2-very-secret"]


def test_log_lines_never_carry_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    redactor = SecretRedactor(["hunter2-very-secret"])
    record = logging.makeLogRecord(
        {"msg": "connecting with password %s", "args": ("hunter2-very-secret",)}
    )
    assert redactor.filter(record)
    line = JsonFormatter().format(record)
    assert "hunter2-very-secret" not in line
    assert "**********" in line


def test_json_formatter_carries_extra_fields() -> None:
    record = logging.makeLogRecord({"msg": "delivered", "event_id": "ev-1", "levelname": "INFO"})
    line = JsonFormatter().format(record)
    assert '"event_id": "ev-1"' in line
    assert '"message": "delivered"' in line
