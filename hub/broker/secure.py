"""The secured broker's settings, in one place: the test cluster and production use them.

Every node has three listeners: ``INTERNAL`` (inter-broker) and ``CONTROLLER`` (the
KRaft quorum) speak TLS with a client certificate required, ``CLIENT`` speaks SASL/
SCRAM-SHA-512 over TLS (the hub's services and the partners). A certificate's CN is its
principal (``kafka-1``), a SCRAM user name is its principal (``router``, ``uwv``).
``StandardAuthorizer`` denies whatever no ACL allows; only the brokers are super users.

:func:`security_properties` and :func:`listener_properties` are the broker settings;
:class:`SecuredBrokers` applies them to :class:`~hub.broker.apache.KafkaBroker` and
:class:`~hub.broker.apache.KafkaCluster` (with a throwaway CA and SCRAM credentials
given at format time) and :mod:`hub.broker.overlay` renders them into
deploy/kafka/compose.security.yml (``rmt-hub acls compose``). See
docs/decisions/0013-one-principal-per-service.md.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from hub.broker._process import format_address, pick_free_port
from hub.broker.tls import Pki, issue_test_pki
from hub.config import HubSettings

__all__ = [
    "AUTHORIZER",
    "SCRAM_ITERATIONS",
    "SCRAM_MECHANISM",
    "SecuredBrokers",
    "broker_principal",
    "client_fields",
    "client_settings",
    "java_client_properties",
    "listener_properties",
    "scram_format_args",
    "security_properties",
]

SCRAM_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
PROTOCOLS = {"INTERNAL": "SSL", "CONTROLLER": "SSL", "CLIENT": "SASL_SSL"}
#: a certificate's CN wherever it stands in the DN: ``O=rmt-hub,CN=kafka-1`` -> ``kafka-1``
#: (Java writes the DN in RFC 2253 order, the last RDN of the certificate first)
PRINCIPAL_MAPPING = "RULE:^(?:.*,)?CN=([a-zA-Z0-9.-]+)(?:,.*)?$/$1/,DEFAULT"
SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


def broker_principal(node_id: int) -> str:
    """The principal (and certificate CN, and compose service) of broker ``node_id``."""
    return f"kafka-{node_id}"


def security_properties(
    *, keystore: str, truststore: str, brokers: Iterable[str]
) -> dict[str, str]:
    """The broker settings of a secured node, except its addresses.

    ``keystore``: a PEM file with the node's key and certificate chain; ``truststore``:
    the CA's PEM; ``brokers``: the brokers' principals, the only super users."""
    jaas = f"{SCRAM_LOGIN_MODULE} required;"
    return {
        "listener.security.protocol.map": ",".join(f"{k}:{v}" for k, v in PROTOCOLS.items()),
        "inter.broker.listener.name": "INTERNAL",
        "controller.listener.names": "CONTROLLER",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": keystore,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": truststore,
        "listener.name.internal.ssl.client.auth": "required",
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.principal.mapping.rules": PRINCIPAL_MAPPING,
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.client.sasl.enabled.mechanisms": SCRAM_MECHANISM,
        f"listener.name.client.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": jaas,
        "authorizer.class.name": AUTHORIZER,
        "allow.everyone.if.no.acl.found": "false",
        "super.users": ";".join(f"User:{b}" for b in brokers),
    }


def listener_properties(
    *, client: str, internal: str, controller: str, advertised_host: str | None = None
) -> dict[str, str]:
    """``listeners`` and ``advertised.listeners`` for ``host:port`` (or ``:port``)
    addresses; ``advertised_host`` replaces an empty host in the advertised ones."""

    def advertised(address: str) -> str:
        return f"{advertised_host}{address}" if address.startswith(":") else address

    return {
        "listeners": f"INTERNAL://{internal},CONTROLLER://{controller},CLIENT://{client}",
        "advertised.listeners": (
            f"INTERNAL://{advertised(internal)},CLIENT://{advertised(client)}"
        ),
    }


def scram_format_args(credentials: Mapping[str, str]) -> list[str]:
    """``kafka-storage format`` arguments creating a SCRAM credential per principal."""
    args: list[str] = []
    for name, password in sorted(credentials.items()):
        entry = f"name={name},iterations={SCRAM_ITERATIONS},password={password}"
        args += ["--add-scram", f"{SCRAM_MECHANISM}=[{entry}]"]
    return args


def client_fields(*, username: str, password: str, cafile: str) -> dict[str, str]:
    """The :class:`~hub.config.HubSettings` fields of a client signing in as SCRAM
    principal ``username`` on the ``CLIENT`` listener, trusting the CA in ``cafile``."""
    return {
        "security_protocol": PROTOCOLS["CLIENT"],
        "sasl_mechanism": SCRAM_MECHANISM,
        "sasl_username": username,
        "sasl_password": password,
        "ssl_cafile": cafile,
    }


def java_client_properties(*, username: str, password: str, truststore: str) -> dict[str, str]:
    """The Java client settings of SCRAM principal ``username`` on the ``CLIENT`` listener,
    trusting the CA's PEM file ``truststore`` (the Confluent schema registry's store)."""
    return {
        "security.protocol": PROTOCOLS["CLIENT"],
        "sasl.mechanism": SCRAM_MECHANISM,
        "sasl.jaas.config": (
            f'{SCRAM_LOGIN_MODULE} required username="{username}" password="{password}";'
        ),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": truststore,
    }


def client_settings(
    settings: HubSettings, *, username: str, password: str, cafile: Path
) -> HubSettings:
    """``settings`` as the hub's SCRAM principal ``username`` on the ``CLIENT`` listener."""
    fields: dict[str, object] = dict(
        client_fields(username=username, password=password, cafile=str(cafile))
    )
    fields |= {"sasl_password": SecretStr(password), "ssl_cafile": cafile}
    return settings.model_copy(update=fields)


@dataclass
class SecuredBrokers:
    """The security of a loopback KafkaBroker or KafkaCluster: a throwaway CA, a
    certificate per node, a random SCRAM password per principal (created when the
    storage is formatted), :func:`security_properties` on every node.

    Pass it as ``security`` to :class:`~hub.broker.apache.KafkaBroker` or
    :class:`~hub.broker.apache.KafkaCluster`; :meth:`client` gives a principal's client
    settings. The readiness probe signs in as ``probe``."""

    pki: Pki
    credentials: dict[str, str]
    nodes: int = 1
    probe: str = ""
    _internal: dict[int, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls, directory: Path, principals: Sequence[str], *, nodes: int = 1
    ) -> SecuredBrokers:
        """Issue the CA and node certificates into ``directory``; a password per principal."""
        names = [broker_principal(i) for i in range(1, nodes + 1)]
        credentials = {p: secrets.token_hex(16) for p in principals}
        return cls.issued(issue_test_pki(directory, names), credentials, nodes=nodes)

    @classmethod
    def issued(cls, pki: Pki, credentials: Mapping[str, str], *, nodes: int = 1) -> SecuredBrokers:
        """With certificates issued elsewhere (e.g. by deploy/kafka/gen-secrets.sh) and
        these SCRAM passwords (principal -> password)."""
        if not credentials:
            raise ValueError("a secured cluster needs at least one SCRAM principal")
        return cls(pki, dict(credentials), nodes, next(iter(credentials)))

    @property
    def brokers(self) -> list[str]:
        return [broker_principal(i) for i in range(1, self.nodes + 1)]

    def node_properties(
        self, node_id: int, host: str, port: int, controller_port: int
    ) -> dict[str, str]:
        """The secured settings of node ``node_id`` whose CLIENT listener is ``port``."""
        if node_id not in self._internal:
            self._internal[node_id] = format_address(host, pick_free_port(host))
        return security_properties(
            keystore=str(self.pki.keystore(broker_principal(node_id))),
            truststore=str(self.pki.ca),
            brokers=self.brokers,
        ) | listener_properties(
            client=format_address(host, port),
            internal=self._internal[node_id],
            controller=format_address(host, controller_port),
        )

    def format_args(self) -> list[str]:
        return scram_format_args(self.credentials)

    def client(self, settings: HubSettings, principal: str) -> HubSettings:
        """``settings`` signed in as ``principal`` (one of :attr:`credentials`)."""
        return client_settings(
            settings,
            username=principal,
            password=self.credentials[principal],
            cafile=self.pki.ca,
        )

    def as_broker(self, settings: HubSettings, node_id: int = 1) -> HubSettings:
        """``settings`` as broker ``node_id`` itself (mTLS on its INTERNAL listener): a
        super user, for applying ACLs. The node must have been started."""
        keystore = self.pki.keystore(broker_principal(node_id))
        return settings.model_copy(
            update={
                "bootstrap_servers": self._internal[node_id],
                "security_protocol": "SSL",
                "ssl_cafile": self.pki.ca,
                "ssl_certfile": keystore,
                "ssl_keyfile": keystore,
            }
        )

    def probe_settings(self, bootstrap_servers: str) -> HubSettings:
        """What the readiness probe connects with: SCRAM as :attr:`probe`, over TLS."""
        base = HubSettings(bootstrap_servers=bootstrap_servers, client_id="rmt-hub-probe")
        return self.client(base, self.probe)
