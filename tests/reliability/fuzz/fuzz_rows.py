"""Fuzz the file connectors' row parsers and mappers in-process: the bytes of an export
file (through the same UTF-8 text layer as an import) -> csv_rows / jsonl_rows -> the
gemeente, UWV and SBB mappers.

Allowed: InputFormatError for an unusable file as a whole (empty, no header, header
without its required columns, a JSON array), RowRejected for a row (it names field and
reason). Every row carries its 1-based line number.

Input: byte 0 picks the format (gemeente CSV, UWV JSONL, SBB CSV, SBB JSONL), the rest is
the file.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["connectors"]):
    from connectors import gemeente, sbb, uwv
    from connectors.common import FieldProblem, InputFormatError, RowRejected, SourceRow
    from connectors.common.reading import CountingReader

from tests.reliability.fuzz.fake_client import context
from tests.reliability.fuzz.harness import main

DATA = Path(__file__).resolve().parents[2] / "connectors" / "data"
FORMATS = [
    (gemeente.read_rows, gemeente.map_row, "gemeente-amsterdam"),
    (uwv.read_rows, uwv.map_row, "uwv"),
    (sbb.read_csv, sbb.map_row, "sbb"),
    (sbb.read_jsonl, sbb.map_row, "sbb"),
]
CONTEXTS = [context(partner) for _, _, partner in FORMATS]


def seeds() -> list[bytes]:
    files = ["gemeente.csv", "uwv.jsonl", "sbb.csv", "sbb_bad.jsonl"]
    out = [bytes([i]) + (DATA / name).read_bytes()[:4000] for i, name in enumerate(files)]
    out += [b"\x00" + (DATA / "gemeente_bad.csv").read_bytes()[:4000]]
    out += [b"\x01" + (DATA / "uwv_bad.jsonl").read_bytes()[:4000]]
    return out


def _text(data: bytes) -> io.TextIOWrapper:
    """``data`` as an import reads a file (UTF-8, BOM skipped, bad bytes replaced)."""
    return io.TextIOWrapper(
        io.BufferedReader(CountingReader(io.BytesIO(data))),
        encoding="utf-8-sig",
        errors="replace",
        newline="",
    )


def _mapped(mapper: Any, row: SourceRow, index: int) -> None:
    """Map ``row``; a refusal must name a reason for each problem."""
    problems: tuple[FieldProblem, ...] = ()
    try:
        mapper(row, CONTEXTS[index])
    except RowRejected as rejected:
        problems = rejected.problems
    assert all(p.reason for p in problems)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    index = data[0] % len(FORMATS)
    read, mapper, _ = FORMATS[index]
    try:
        last = 0
        for row in read(_text(data[1:]), "fuzz"):
            assert row.line > last, (row.line, last)
            last = row.line
            if row.problem is not None:
                assert row.problem.reason
                continue
            _mapped(mapper, row, index)
    except InputFormatError:
        pass


if __name__ == "__main__":
    main(test_one_input, seeds)
    sys.exit(0)
