"""CSV injection where the hub writes CSV for people: the file drop's CSV delivery and the
national monitor's report. A text cell starting with = + - @ TAB CR is prefixed with a
single quote (OWASP), whatever text a partner put in a record."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.delivery.filedrop import FileDrop
from connectors.delivery.formats import csv_row
from hub.monitor.periods import parse_period
from hub.monitor.report import Published, Report, Table, render_csv
from hub.sdk.inbox import InboxMessage
from hub.spreadsheet import FORMULA_TRIGGERS, safe_cell
from schemas.models import Contact
from tests.plugins.reliability import Scale
from tests.reliability.test_hostile_files import INJECTIONS
from tests.router.helpers import records

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(INJECTIONS),
    st.tuples(st.sampled_from(FORMULA_TRIGGERS), st.text(max_size=20)).map("".join),
)


def _formula(cell: str) -> bool:
    return cell.startswith(FORMULA_TRIGGERS)


def test_safe_cell_quotes_exactly_the_formula_starts(scale: Scale) -> None:
    @settings(max_examples=scale.pick(300, 5000), deadline=None, derandomize=True)
    @given(text=texts)
    def run(text: str) -> None:
        safe = safe_cell(text)
        assert not _formula(safe)
        assert safe == ("'" + text if _formula(text) else text)

    run()
    assert safe_cell(-5) == -5  # numbers written as numbers stay numbers
    assert safe_cell(None) is None


def _message(record: object, offset: int) -> InboxMessage:
    return InboxMessage("t.inbox", 0, offset, b"k", b"", (), record)  # type: ignore[arg-type]


def test_regression_the_file_drop_wrote_partner_text_as_spreadsheet_formulas(
    tmp_path: Path,
) -> None:
    """A name like ``=cmd|' /C calc'!A0`` went into the delivered CSV as it was: opened
    in a spreadsheet, it ran. Every such text cell now starts with a single quote."""
    drop = FileDrop(tmp_path, partner_id="gemeente-amsterdam", fmt="csv")
    sent = []
    for offset, value in enumerate(INJECTIONS):
        profile = records.profile(
            records.subject(),
            given_name=value,
            family_name=value,
            contact=Contact(city=value, email="-a@example.nl"),
        )
        sent.append(value)
        drop.write(_message(profile, offset))
    drop.flush()
    (written,) = tmp_path.glob("*.csv")
    with written.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["given_name"] for r in rows] == ["'" + v for v in sent]
    assert [r["contact.city"] for r in rows] == ["'" + v for v in sent]
    assert {r["contact.email"] for r in rows} == {"'-a@example.nl"}
    for row in rows:
        for name, cell in row.items():
            assert not _formula(cell), (name, cell)


def test_the_delivered_csv_keeps_numbers_and_plain_text(scale: Scale) -> None:
    @settings(max_examples=scale.pick(100, 2000), deadline=None, derandomize=True)
    @given(name=texts)
    def run(name: str) -> None:
        profile = records.profile(records.subject(), given_name=name or "x")
        cells = csv_row(profile)
        assert not any(_formula(c) for c in cells)
        wanted = name or "x"
        assert wanted in cells or "'" + wanted in cells

    run()


def test_the_monitor_report_csv_neutralises_text_cells_and_keeps_numbers() -> None:
    table = Table(
        name="steps",
        title="Steps",
        unit="people",
        columns=[("intakes", '=HYPERLINK("http://evil.example")'), ("delta", "+delta")],
        rows=[("@row", "-1+cmd|' /C calc'!A0")],
        cells={
            ("@row", "intakes"): Published(12),
            ("@row", "delta"): Published(-5),
        },
    )
    report = Report(
        period=parse_period("2021-03/04"),
        region=None,
        threshold=10,
        tables=[table],
        budgets_source="test",
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert {r["value"] for r in rows} == {"12", "-5"}  # a negative number stays a number
    for row in rows:
        for name, cell in row.items():
            if name != "value":
                assert not _formula(cell), (name, cell)
    assert rows[0]["column_label"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["row"] == "'@row"


def test_regression_a_carriage_return_in_a_delivered_text_split_the_csv_row(
    tmp_path: Path,
) -> None:
    """With ``lineterminator="\\n"`` the csv module does not quote a lone CR: a name like
    ``Jan\\r=cmd|' /C calc'!A0`` became two rows in a reader, the second one a formula.
    Such a cell is now quoted and the file has one row per record."""
    drop = FileDrop(tmp_path, partner_id="gemeente-amsterdam", fmt="csv")
    names = ["Jan\r=cmd|' /C calc'!A0", "Piet\n@SUM(1)", "Kees\r\n+1"]
    for offset, name in enumerate(names):
        drop.write(_message(records.profile(records.subject(), given_name=name), offset))
    drop.flush()
    (written,) = tmp_path.glob("*.csv")
    with written.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["given_name"] for r in rows] == names
