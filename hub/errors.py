"""The hub's exception tree.

Every error the hub raises on purpose derives from :class:`HubError`. Library errors
(kafka-python, fastavro, pydantic, the OS) are translated where they enter our code, so
callers handle one small tree:

    HubError
    ├── ConfigError            bad or inconsistent settings
    ├── BrokerError            the Kafka cluster (embedded or external)
    │   ├── BrokerStartError   the embedded broker did not come up
    │   └── BrokerUnavailable  no answer from the bootstrap servers
    ├── SchemaError            the canonical Avro schemas
    │   ├── SchemaDefinitionError   a malformed .avsc (names the file and field)
    │   └── RecordError             a record that does not fit its schema
    └── TopicError             the topic catalogue or applying it
"""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "BrokerStartError",
    "BrokerUnavailable",
    "ConfigError",
    "HubError",
    "RecordError",
    "SchemaDefinitionError",
    "SchemaError",
    "TopicError",
]


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ConfigError(HubError):
    """Settings are missing, malformed or contradict each other."""


class BrokerError(HubError):
    """Something went wrong talking to, or running, the Kafka cluster."""


class BrokerAuthorizationError(BrokerError):
    """The cluster's ACLs do not allow what was asked (``topics``: the topics named)."""

    def __init__(self, message: str, topics: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.topics = topics


class BrokerStartError(BrokerError):
    """The embedded broker could not be started or did not become ready."""


class BrokerUnavailable(BrokerError):
    """The bootstrap servers did not answer."""


class SchemaError(HubError):
    """A problem with the canonical schemas."""


class SchemaDefinitionError(SchemaError):
    """A schema file is malformed or breaks one of the hub's schema rules.

    ``file`` is the .avsc path (or name) and ``field`` the dotted path of the field
    at fault, when there is one.
    """

    def __init__(self, file: str, message: str, field: str | None = None) -> None:
        self.file = file
        self.field = field
        where = f"{file}: field '{field}'" if field else file
        super().__init__(f"{where}: {message}")


class RecordError(SchemaError):
    """A record does not match its schema or model (names the record type and field)."""

    def __init__(self, record_type: str, message: str, field: str | None = None) -> None:
        self.record_type = record_type
        self.field = field
        where = f"{record_type}.{field}" if field else record_type
        super().__init__(f"{where}: {message}")


class TopicError(HubError):
    """The topic catalogue is inconsistent, or the cluster disagrees with it."""
