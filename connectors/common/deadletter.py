"""Dead letters for rows a connector cannot map.

One :class:`~schemas.models.DeadLetter` per bad row, on the hub's dead-letter topic:
``source_topic`` says where the row came from (``file:<name>`` or ``http:<path>``),
``source_offset`` its line (or item number), ``original_value`` its text, ``reason`` the
first problem's code and ``message`` every problem. Its CloudEvents id is derived from
the row's content and problems (not the file name or the time), so re-importing the same
bad file reports each bad row once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from connectors.common.errors import FieldProblem
from hub.ids import PartnerId
from hub.sdk import PartnerClient, PublishResult
from schemas.models import DeadLetter

__all__ = ["publish_row_dead_letter", "row_dead_letter"]


def row_dead_letter(
    *,
    partner_id: str,
    source: str,
    line: int,
    raw: str,
    problems: Sequence[FieldProblem],
    record_type: str | None,
    failed_at: datetime | None = None,
) -> DeadLetter:
    """The dead letter of one bad row."""
    first = problems[0]
    message = "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems)
    return DeadLetter(
        source_topic=source,
        source_partition=0,
        source_offset=line,
        source_partner=PartnerId(partner_id),
        record_type=record_type,
        original_key=None,
        original_value=raw.encode("utf-8"),
        reason=first.code,
        message=message,
        field=first.field,
        event_id=None,
        failed_at=failed_at or datetime.now(UTC),
    )


def publish_row_dead_letter(
    client: PartnerClient,
    *,
    source: str,
    line: int,
    raw: str,
    problems: Sequence[FieldProblem],
    record_type: str | None,
) -> PublishResult:
    """Queue the dead letter of one bad row (once per row content and problems)."""
    letter = row_dead_letter(
        partner_id=client.partner_id,
        source=source,
        line=line,
        raw=raw,
        problems=problems,
        record_type=record_type,
    )
    event_id = client.dead_letter_id("row", str(line), raw, letter.message)
    return client.publish_dead_letter(letter, event_id=event_id)
