"""The hub's one configuration model.

Every setting can come from the environment with the ``HUB_`` prefix (or a ``.env``
file); secrets are :class:`pydantic.SecretStr`, so they print as ``**********`` in
logs, reprs and :meth:`HubSettings.masked`.

``HUB_BOOTSTRAP_SERVERS`` points the hub at any Kafka cluster. When it is unset the hub
starts its own broker on a loopback port: Apache Kafka where Java 17+ is present, Tansu
(memory-only) otherwise, or as ``HUB_EMBEDDED_BROKER`` says.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import ConfigError

__all__ = ["HubSettings", "load_settings"]

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class HubSettings(BaseSettings):
    """Settings for every hub process (env prefix ``HUB_``)."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- Kafka -------------------------------------------------------------------------
    bootstrap_servers: str | None = Field(
        default=None,
        description="Comma-separated host:port list of an existing Kafka cluster; "
        "unset means: start the embedded broker.",
    )
    client_id: str = Field(default="rmt-hub", description="Kafka client.id prefix.")
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    request_timeout_ms: int = Field(default=15_000, ge=1_000)
    idempotent_producer: bool = Field(
        default=True,
        description="Idempotent producers (no duplicates from retries after a leader "
        "change); the hub turns it off on Tansu, which cannot grant producer ids.",
    )

    # --- embedded broker -----------------------------------------------------------------
    embedded_host: str = Field(default="127.0.0.1", description="Loopback address to bind.")
    embedded_port: int = Field(default=0, ge=0, le=65_535, description="0 picks a free port.")
    embedded_ready_timeout_s: float = Field(default=60.0, gt=0)
    embedded_broker: Literal["kafka", "tansu"] | None = Field(
        default=None,
        description="Which broker the hub starts itself: 'kafka' (Apache Kafka, needs Java "
        "17+) or 'tansu' (memory-only); unset: Apache Kafka where Java 17+ is present.",
    )
    kafka_heap: str = Field(
        default="512m", pattern=r"^\d+[kmg]$", description="Java heap of the embedded Kafka."
    )

    # --- topics ----------------------------------------------------------------------------
    topic_prefix: str = Field(default="rmt", pattern=r"^[a-z][a-z0-9-]*$")
    topic_partitions: int = Field(
        default=4, ge=1, le=256, description="Partitions of every person-keyed topic."
    )
    replication_factor: int = Field(default=1, ge=1, le=16)
    partners_file: Path | None = Field(
        default=None, description="Partner directory (JSON); the built-in one when unset."
    )
    rollout_file: Path | None = Field(
        default=None,
        description="Roll-out phases per region (JSON); unset: the working document's "
        "appendix 3 (schemas/reference/rollout.json).",
    )

    # --- schema registry -----------------------------------------------------------------
    schema_registry_url: str | None = Field(
        default=None,
        description="URL of a Confluent-compatible registry; unset means: serve the embedded one.",
    )
    schema_registry_username: str | None = None
    schema_registry_password: SecretStr | None = None
    registry_host: str = Field(default="127.0.0.1", description="Embedded registry bind address.")
    registry_port: int = Field(default=8081, ge=0, le=65_535, description="0 picks a free port.")
    schema_registry_topic: str = Field(default="_schemas", description="Where schemas are kept.")

    # --- consent service -------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy-style URL of the consent store (sqlite:///path or "
        "postgresql://...); unset means SQLite in data_dir.",
    )
    consent_host: str = Field(default="127.0.0.1", description="Consent service bind address.")
    consent_port: int = Field(default=8082, ge=0, le=65_535, description="0 picks a free port.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies "
        "whose X-Forwarded-Proto and X-Forwarded-For the HTTP services believe; empty "
        "means none: the scheme and client address are the connection's own.",
    )
    consent_url: str | None = Field(
        default=None,
        description="A partner's side: base URL of the hub's consent service, where the SDK "
        "and the delivery connector ask for the subject keys that open sealed "
        "special-category fields; unset: those fields stay sealed.",
    )
    consent_api_key: SecretStr | None = Field(
        default=None,
        description="A partner's side: its API key (role partner) for the consent service.",
    )
    subject_key_cache_s: float = Field(
        default=60.0,
        ge=0,
        le=300,
        description="A partner's side: how long the SDK keeps a granted subject key at "
        "most (the consent service may say less); a withdrawal or erasure reaches the "
        "partner's process within this time.",
    )
    bsn_encryption_key: SecretStr | None = Field(
        default=None,
        description="Key (urlsafe base64, 32 bytes) encrypting citizen service numbers at "
        "rest; generated into data_dir when unset.",
    )

    # --- pseudonyms and keys ------------------------------------------------------------------
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Hub-wide key of the client pseudonym partners share (HMAC-SHA-256 of "
        "the BSN); never generated: unset, a public development key is used (with a "
        "warning), and a hub on an external cluster refuses to start.",
    )
    monitor_key: SecretStr | None = Field(
        default=None,
        description="Monitor-only key of the monitor pseudonyms (HMAC-SHA-256 of the BSN), "
        "never given to partners; generated into data_dir when unset.",
    )
    subject_master_key: SecretStr | None = Field(
        default=None,
        description="Master key (urlsafe base64, 32 bytes) wrapping the subject keys of "
        "sealed special-category fields in the consent database; every router replica and "
        "the consent service must share it. Generated into the keys dir when unset (a hub "
        "on an external cluster refuses to start without it).",
    )
    keys_dir: Path | None = Field(
        default=None, description="Partner and hub key store; data_dir/keys when unset."
    )
    security_enabled: bool = Field(
        default=True,
        description="Sign and encrypt records (partners and router); false only for "
        "benchmarks and migrations: it makes every record readable by whoever reads the topic.",
    )
    keys_passphrase: SecretStr | None = Field(
        default=None, description="Encrypts (and opens) the private key files of the key store."
    )
    allow_insecure: bool = Field(
        default=False,
        description="Start on an external cluster although HUB_PSEUDONYM_KEY is unset, "
        "record security is off or the key store is not persistent, logging each at "
        "CRITICAL; for tests and migrations only.",
    )

    # --- process -------------------------------------------------------------------------------
    data_dir: Path = Field(default=Path(".hub"), description="Local state of this process.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = Field(default=False, description="Structured JSON log lines.")

    @field_validator("bootstrap_servers")
    @classmethod
    def _servers_are_host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        servers = [s.strip() for s in value.split(",") if s.strip()]
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"'{server}' is not host:port")
        return ",".join(servers)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        networks = [p.strip() for p in value.split(",") if p.strip()]
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"'{network}' is not an IP address or network") from None
        return ",".join(networks)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """:attr:`trusted_proxies` as a list (empty: trust no proxy)."""
        return [p for p in self.trusted_proxies.split(",") if p]

    @model_validator(mode="after")
    def _sasl_is_complete(self) -> HubSettings:
        if self.security_protocol.startswith("SASL_") and not (
            self.sasl_mechanism and self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_mechanism, "
                "sasl_username and sasl_password"
            )
        return self

    @property
    def embedded(self) -> bool:
        """True when the hub must run its own broker."""
        return self.bootstrap_servers is None

    def masked(self) -> dict[str, Any]:
        """The settings as a JSON-safe dict with every secret masked, for logs."""
        return self.model_dump(mode="json")

    def with_bootstrap(self, bootstrap_servers: str) -> HubSettings:
        """A copy pointing at ``bootstrap_servers`` (e.g. once the embedded broker runs)."""
        return self.model_copy(update={"bootstrap_servers": bootstrap_servers})

    def secret_values(self) -> list[str]:
        """Plain values of every secret, so log filters can redact them anywhere."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        return values


def load_settings(**overrides: Any) -> HubSettings:
    """Read settings from the environment, translating validation errors to ConfigError."""
    try:
        return HubSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"HUB_{'_'.join(str(p) for p in err['loc']).upper() or '(settings)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc
