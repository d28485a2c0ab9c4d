"""What can go wrong reading a partner's export, and how a bad row is reported.

    HubError (hub.errors)
    └── ConnectorError           a connector cannot do its work
        ├── InputFormatError     the whole input is unusable (missing file, bad header)
        └── RowRejected          one row cannot be mapped (carries its field problems)

A rejected row becomes one :class:`RowError` per problem (file, line, field, reason), a
line in the report table, and one dead letter on the hub's dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.errors import HubError
from schemas.models.enums import DeadLetterReason

__all__ = [
    "ConnectorError",
    "FieldProblem",
    "InputFormatError",
    "RowError",
    "RowRejected",
]


class ConnectorError(HubError):
    """A connector cannot do its work."""


class InputFormatError(ConnectorError):
    """The input as a whole cannot be read (names the file and what is wrong)."""


@dataclass(frozen=True)
class FieldProblem:
    """One reason a row cannot be mapped; ``field`` is None for the row as a whole."""

    field: str | None
    reason: str
    code: DeadLetterReason = DeadLetterReason.SCHEMA_INVALID


class RowRejected(ConnectorError):
    """A row cannot be mapped to canonical records."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("a rejected row needs at least one problem")
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in self.problems)
        )


@dataclass(frozen=True)
class RowError:
    """A bad row as reported: where it is, which field, and why."""

    file: str
    line: int
    field: str | None
    reason: str
    code: DeadLetterReason = DeadLetterReason.SCHEMA_INVALID
