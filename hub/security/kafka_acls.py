"""Rendered ACLs on a cluster through the admin API (the test cluster; production applies
the ``kafka-acls.sh`` script of ``rmt-hub acls render``). The admin must be allowed to
alter the cluster: a broker's own principal (a super user)."""

from __future__ import annotations

from collections.abc import Iterable

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
)
from kafka.admin import ResourceType as KafkaResourceType

from hub.errors import BrokerError
from hub.kafka import kafka_errors
from hub.security.acls import AclBinding

__all__ = ["create_acls", "delete_acls", "to_kafka"]


def to_kafka(binding: AclBinding) -> ACL:
    """The kafka-python ACL of one rendered binding."""
    return ACL(
        principal=binding.principal,
        host=binding.host,
        operation=ACLOperation[_upper(binding.operation.value)],
        permission_type=ACLPermissionType[binding.permission.upper()],
        resource_pattern=ResourcePattern(
            KafkaResourceType[_upper(binding.resource_type.value)],
            binding.resource_name,
            ACLResourcePatternType[binding.pattern_type.value.upper()],
        ),
    )


def _upper(camel: str) -> str:
    """``DescribeConfigs`` -> ``DESCRIBE_CONFIGS``."""
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(camel)).upper()


def create_acls(admin: KafkaAdminClient, bindings: Iterable[AclBinding]) -> int:
    """Add ``bindings`` (existing ones are kept); return how many were sent."""
    acls = [to_kafka(b) for b in bindings]
    with kafka_errors("creating ACLs"):
        result = admin.create_acls(acls)
    if result["failed"]:
        acl, error = result["failed"][0]
        raise BrokerError(f"{len(result['failed'])} ACL(s) refused, first {acl}: {error}")
    return len(acls)


def delete_acls(admin: KafkaAdminClient, bindings: Iterable[AclBinding]) -> None:
    """Remove exactly ``bindings``."""
    filters = []
    for binding in bindings:
        acl = to_kafka(binding)
        pattern = acl.resource_pattern
        filters.append(
            ACLFilter(
                principal=acl.principal,
                host=acl.host,
                operation=acl.operation,
                permission_type=acl.permission_type,
                resource_pattern=ResourcePatternFilter(
                    pattern.resource_type, pattern.resource_name, pattern.pattern_type
                ),
            )
        )
    with kafka_errors("deleting ACLs"):
        admin.delete_acls(filters)
