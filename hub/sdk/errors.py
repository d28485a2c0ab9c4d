"""Errors of the partner SDK.

HubError (hub.errors)
└── SdkError                 the partner SDK
    ├── UnknownPartnerError  the identity is not in the partner directory
    ├── ForeignRecordError   a record claims another partner as its source
    ├── NotPublishableError  a record type that may not go to the partner's outbox
    └── PublishError         the broker did not take a record
"""

from __future__ import annotations

from hub.errors import HubError

__all__ = [
    "ForeignRecordError",
    "NotPublishableError",
    "PublishError",
    "SdkError",
    "UnknownPartnerError",
]


class SdkError(HubError):
    """Something went wrong in the partner SDK."""


class UnknownPartnerError(SdkError):
    """The partner id is not in the partner directory."""


class ForeignRecordError(SdkError):
    """A record's ``source_partner`` is not the client's own identity."""


class NotPublishableError(SdkError):
    """The record type may not be published to the partner's outbox."""


class PublishError(SdkError):
    """The broker did not acknowledge one or more records."""
