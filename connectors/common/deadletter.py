"""Dead letters for rows a connector cannot map.

One :class:`~schemas.models.DeadLetter` per bad row, on the hub's dead-letter topic:
``source_topic`` says where the row came from (``file:<name>`` or ``http:<path>``),
``source_offset`` its line (or item number), ``original_value`` its text, ``reason`` the
first problem's code and ``message`` every problem. Its CloudEvents id is derived from
the row's content and problems (not the file name or the time), so re-importing the same
bad file reports each bad row once. A dead letter keeps at most :data:`MAX_RAW_BYTES` of
the row's text (a huge row's dead letter must still fit in a produce request); its
message says so, and where the whole row is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from connectors.common.errors import FieldProblem
from hub.ids import PartnerId
from hub.sdk import PartnerClient, PublishResult
from schemas.models import DeadLetter

__all__ = ["MAX_RAW_BYTES", "publish_row_dead_letter", "row_dead_letter"]

MAX_RAW_BYTES = 64 * 1024
"""How much of a bad row's text its dead letter keeps."""


def _text(value: str) -> str:
    """``value`` as valid Unicode (lone surrogates, from JSON escapes, become '?')."""
    return value.encode("utf-8", "replace").decode("utf-8")


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
    message = _text("; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems))
    value = raw.encode("utf-8", "replace")  # a JSON "\\ud800" is a lone surrogate
    if len(value) > MAX_RAW_BYTES:
        message += (
            f" (original_value holds the first {MAX_RAW_BYTES} of {len(value)} bytes of "
            f"line {line} of {source})"
        )
        value = value[:MAX_RAW_BYTES]
    return DeadLetter(
        source_topic=source,
        source_partition=0,
        source_offset=line,
        source_partner=PartnerId(partner_id),
        record_type=record_type,
        original_key=None,
        original_value=value,
        reason=first.code,
        message=message,
        field=_text(first.field) if first.field is not None else None,
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
    event_id = client.dead_letter_id(
        "row", str(line), raw.encode("utf-8", "surrogatepass"), letter.message
    )
    return client.publish_dead_letter(letter, event_id=event_id)
