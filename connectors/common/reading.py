"""Streaming readers for partner exports: one row at a time, in constant memory.

Each reader yields :class:`SourceRow` objects with the 1-based line number where the row
starts, the row as a dict, and its original text (kept for the dead letter). A row that
cannot even be parsed (broken JSON, JSON nested more than :data:`MAX_JSON_DEPTH` levels
or with a number of thousands of digits, wrong number of CSV fields, a CSV field longer
than the csv module's limit, bytes that are not UTF-8) is yielded too, with ``problem``
set, so the pipeline reports it and carries on.

:class:`CountingReader` counts the bytes taken from the file, for the progress bar.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from connectors.common.errors import FieldProblem, InputFormatError
from schemas.models.enums import DeadLetterReason

__all__ = [
    "MAX_JSON_DEPTH",
    "CountingReader",
    "SourceRow",
    "csv_rows",
    "json_too_deep",
    "jsonl_rows",
    "open_text",
    "sniff_delimiter",
]

MAX_JSON_DEPTH = 32
"""How deeply a JSON row may nest objects and lists (an export line needs 5 levels)."""
_REPLACEMENT = "\ufffd"
_NOT_UTF8 = FieldProblem(None, "the row is not valid UTF-8", DeadLetterReason.DECODE_ERROR)


@dataclass(frozen=True)
class SourceRow:
    """One row of an export."""

    line: int
    data: dict[str, Any]
    raw: str
    problem: FieldProblem | None = None


class CountingReader(io.RawIOBase):
    """A read-only binary stream that counts the bytes read from ``inner``."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        return size

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_text(path: Path) -> tuple[IO[str], CountingReader]:
    """``path`` as UTF-8 text (a BOM is skipped, bad bytes become U+FFFD) and its counter."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputFormatError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    counter = CountingReader(raw)
    text = io.TextIOWrapper(
        io.BufferedReader(counter, buffer_size=256 * 1024),
        encoding="utf-8-sig",
        errors="replace",
        newline="",
    )
    return text, counter


def json_too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` nests objects and lists more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


def _json_problem(text: str) -> tuple[Any, FieldProblem | None]:
    """(the JSON value of ``text``, None) or (None, why it has none)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON at column {exc.colno}: {exc.msg}"
    except RecursionError:
        reason = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        reason = f"invalid JSON: {exc}"
    else:
        if not json_too_deep(data):
            return data, None
        reason = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
    return None, FieldProblem(None, reason, DeadLetterReason.DECODE_ERROR)


def jsonl_rows(stream: IO[str], label: str = "input") -> Iterator[SourceRow]:
    """JSON Lines: one JSON object per line; blank lines are skipped.

    A file that starts with ``[`` is a JSON array, not JSON Lines: InputFormatError.
    """
    first = True
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        if not text:
            continue
        if first and text.startswith("["):
            raise InputFormatError(
                f"{label}: line {number}: a JSON array; the export must be JSON Lines "
                "(one object per line)"
            )
        first = False
        if _REPLACEMENT in text:
            yield SourceRow(number, {}, text, _NOT_UTF8)
            continue
        data, problem = _json_problem(text)
        if problem is not None:
            yield SourceRow(number, {}, text, problem)
            continue
        if not isinstance(data, dict):
            problem = FieldProblem(
                None, f"a line must hold a JSON object, not {type(data).__name__}"
            )
            yield SourceRow(number, {}, text, problem)
            continue
        yield SourceRow(number, data, text)


def sniff_delimiter(header_line: str) -> str:
    """``;`` or ``,``: whichever the header line uses more (Dutch exports use ``;``)."""
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a field is longer than {csv.field_size_limit()} characters"
    return f"the row is not CSV: {exc}"


def csv_rows(
    stream: IO[str],
    *,
    delimiter: str | None = None,
    required: Sequence[str] = (),
    label: str = "input",
) -> Iterator[SourceRow]:
    """CSV with a header row; keys are the header names (trimmed, as written).

    ``delimiter`` None sniffs it from the header. A header without a ``required`` column
    raises :class:`InputFormatError` before any row is read.
    """
    first = stream.readline()
    if not first.strip():
        raise InputFormatError(f"{label}: empty file, expected a header row")
    sep = delimiter or sniff_delimiter(first)
    header = [name.strip() for name in next(csv.reader([first], delimiter=sep))]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputFormatError(
            f"{label}: line 1: the header lacks column(s) {', '.join(missing)} "
            f"(found: {', '.join(header)}; separator {sep!r})"
        )
    reader = csv.reader(stream, delimiter=sep)
    previous = 1  # the header line
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
            start = previous + 1
            previous = reader.line_num + 1
            problem = FieldProblem(None, _csv_problem(exc), DeadLetterReason.DECODE_ERROR)
            yield SourceRow(start, {}, f"({label} line {start}: not read: {exc})", problem)
            continue
        start = previous + 1
        previous = reader.line_num + 1
        if not values or all(not v.strip() for v in values):
            continue
        data = dict(zip(header, values, strict=False))
        raw = json.dumps(data, ensure_ascii=False)
        if any(_REPLACEMENT in value for value in values):
            yield SourceRow(start, data, raw, _NOT_UTF8)
        elif len(values) != len(header):
            problem = FieldProblem(
                None,
                f"the row has {len(values)} fields, the header {len(header)} (separator {sep!r})",
            )
            yield SourceRow(start, data, raw, problem)
        else:
            yield SourceRow(start, data, raw)
