"""What a delivery target is to the delivery loop.

A sink takes inbox messages in order and says which of them are now *durably* delivered
(a webhook: each one as soon as the POST succeeded; a file drop: all of a file once it is
renamed into place). Only those are committed. A message the sink gives up on raises
:class:`DeliveryFailed`; the loop dead-letters it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors.common.errors import ConnectorError
from connectors.delivery.ledger import DeliveryLedger
from hub.sdk import InboxMessage

__all__ = ["Delivered", "DeliveryFailed", "DeliveryInterrupted", "Sink"]


class DeliveryFailed(ConnectorError):
    """The sink gave up on one message (after its retries); it will be dead-lettered."""


class DeliveryInterrupted(ConnectorError):
    """Stopping was requested while a message was being retried; it was not delivered."""


@dataclass(frozen=True)
class Delivered:
    """Messages now durably delivered, and the files that hold them (file drops)."""

    messages: tuple[InboxMessage, ...] = ()
    files: tuple[str, ...] = ()


class Sink(Protocol):
    """A delivery target."""

    @property
    def name(self) -> str:
        """Stable id of the target (part of the consumer group and the ledger's name)."""
        ...

    def recover(self, ledger: DeliveryLedger) -> None:
        """Settle what a crash left half-done (before the first write)."""
        ...

    def write(self, message: InboxMessage) -> Delivered:
        """Take one message; return what is durably delivered now (maybe nothing)."""
        ...

    def due(self) -> bool:
        """True when buffered messages should be made durable now (e.g. a file's age)."""
        ...

    def flush(self) -> Delivered:
        """Make everything taken so far durable."""
        ...

    def close(self) -> None:
        """Release resources; what was not flushed is dropped (and read again later)."""
        ...
