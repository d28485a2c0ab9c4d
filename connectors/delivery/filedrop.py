"""Delivery to a file drop: JSON Lines or CSV files, rotated, each written atomically.

Records are appended to a hidden part file (``.<name>.part``) in the drop directory; on
rotation (``max_records``, ``max_bytes``, or ``max_age_s`` after its first record) the
part is flushed, fsynced and renamed to its final name, so a partner's system only ever
sees complete files. Names sort by creation time::

    <partner>-<yyyymmddTHHMMSSffffffZ>-<seq>.jsonl
    <partner>-<RecordType>-<yyyymmddTHHMMSSffffffZ>-<seq>.csv     (one file per type)

Exactly once, across crashes: before a rename the file's event ids go into the ledger as
*pending*, after it they are *done*, and only then are the offsets committed.
:meth:`FileDrop.recover` settles a crash in between: a pending file whose part file is
still there was not renamed (the part is removed and its records are read again from the
committed offsets); one whose part is gone was renamed, so it counts as delivered.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from connectors.common.errors import ConnectorError
from connectors.delivery.formats import cloud_event, csv_columns, csv_row, short_type
from connectors.delivery.ledger import DeliveryLedger
from connectors.delivery.sink import Delivered
from hub.sdk import InboxMessage
from hub.spreadsheet import csv_line

__all__ = ["FileDrop", "FileDropError", "FileFormat"]

FileFormat = Literal["jsonl", "csv"]
_PART = ".part"


def _csv_line(cells: list[str]) -> str:
    return csv_line(cells, delimiter=";")


class FileDropError(ConnectorError):
    """The drop directory cannot be written."""


@dataclass
class _Part:
    final: Path
    part: Path
    handle: IO[str]
    opened_at: float
    records: int = 0
    size: int = 0
    messages: list[InboxMessage] = field(default_factory=list)


class FileDrop:
    """Writes a partner's inbox into ``directory``; see the module doc."""

    def __init__(
        self,
        directory: Path,
        *,
        partner_id: str,
        fmt: FileFormat = "jsonl",
        max_records: int = 1000,
        max_bytes: int = 16 * 1024 * 1024,
        max_age_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fmt not in ("jsonl", "csv"):
            raise FileDropError(f"unknown file format {fmt!r} (jsonl or csv)")
        self.directory = directory
        self.partner_id = partner_id
        self.fmt: FileFormat = fmt
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._clock = clock
        self._parts: dict[str, _Part] = {}
        self._seq = 0
        self._ledger: DeliveryLedger | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileDropError(f"file drop {directory}: {exc.strerror or exc}") from exc

    @property
    def name(self) -> str:
        digest = hashlib.sha256(str(self.directory.resolve()).encode()).hexdigest()[:12]
        return f"file-{self.fmt}-{digest}"

    # --- recovery -------------------------------------------------------------------------

    def recover(self, ledger: DeliveryLedger) -> None:
        """Settle files a crash left pending; remove stray part files; bind the ledger."""
        self._ledger = ledger
        for name in ledger.pending_files():
            part = self.directory / f".{name}{_PART}"
            if part.exists():
                part.unlink()
                ledger.abandon_file(name)
            else:
                ledger.complete_file(name)
        for stray in self.directory.glob(f".*{_PART}"):
            stray.unlink()

    # --- writing ----------------------------------------------------------------------------

    def _open(self, slot: str, message: InboxMessage) -> _Part:
        self._seq += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        kind = f"-{slot}" if self.fmt == "csv" else ""
        final = self.directory / f"{self.partner_id}{kind}-{stamp}-{self._seq:06d}.{self.fmt}"
        part = self.directory / f".{final.name}{_PART}"
        try:
            handle = part.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise FileDropError(f"file drop {self.directory}: {exc.strerror or exc}") from exc
        opened = _Part(final, part, handle, self._clock())
        if self.fmt == "csv":
            assert message.record is not None
            header = _csv_line(list(csv_columns(type(message.record))))
            handle.write(header)
            opened.size = len(header.encode("utf-8"))
        return opened

    def write(self, message: InboxMessage) -> Delivered:
        """Append ``message``; returns the rotated files' messages when a limit was reached."""
        record = message.record
        if record is None:
            raise FileDropError("only decoded records can be written to a file drop")
        slot = short_type(record.avro_name) if self.fmt == "csv" else "all"
        current = self._parts.get(slot)
        if current is None:
            current = self._parts[slot] = self._open(slot, message)
        if self.fmt == "jsonl":
            line = json.dumps(cloud_event(message), ensure_ascii=False, separators=(",", ":"))
            text = line + "\n"
        else:
            text = _csv_line(csv_row(record))
        try:
            current.handle.write(text)
        except OSError as exc:
            raise FileDropError(f"file drop {current.part}: {exc.strerror or exc}") from exc
        current.records += 1
        current.size += len(text.encode("utf-8"))
        current.messages.append(message)
        if current.records >= self.max_records or current.size >= self.max_bytes:
            return self.flush()
        return Delivered()

    def due(self) -> bool:
        now = self._clock()
        return any(now - p.opened_at >= self.max_age_s for p in self._parts.values())

    def flush(self) -> Delivered:
        """Rename every open part into place (write-ahead in the ledger); see module doc."""
        if not self._parts:
            return Delivered()
        parts, self._parts = list(self._parts.values()), {}
        messages: list[InboxMessage] = []
        files: list[str] = []
        for part in parts:
            try:
                part.handle.flush()
                os.fsync(part.handle.fileno())
                part.handle.close()
            except OSError as exc:
                raise FileDropError(f"file drop {part.part}: {exc.strerror or exc}") from exc
            event_ids = [m.event_id for m in part.messages if m.event_id]
            if self._ledger is not None:
                self._ledger.begin_file(part.final.name, event_ids)
            try:
                os.replace(part.part, part.final)
            except OSError as exc:
                raise FileDropError(f"file drop {part.final}: {exc.strerror or exc}") from exc
            self._sync_directory()
            if self._ledger is not None:
                self._ledger.complete_file(part.final.name)
            messages += part.messages
            files.append(part.final.name)
        messages.sort(key=lambda m: (m.partition, m.offset))
        return Delivered(tuple(messages), tuple(files))

    def _sync_directory(self) -> None:
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:  # pragma: no cover - platforms without directory fds
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Drop unflushed parts (their records were not committed and will be read again)."""
        for part in self._parts.values():
            part.handle.close()
            part.part.unlink(missing_ok=True)
        self._parts = {}
