"""The header tables of docs/partner-protocol.md come from hub/docs/headers.py, the same
source as the AsyncAPI message headers, and name every header the code writes."""

from __future__ import annotations

from pathlib import Path

from hub.docs.headers import BEGIN, END, HEADERS, Profile, header_tables, headers_schema
from hub.router import codec
from hub.security import headers

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "partner-protocol.md"


def test_the_protocol_documents_header_tables_are_current() -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    between = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert between == "\n" + header_tables(), (
        "docs/partner-protocol.md's header tables are stale: run `rmt-hub docs protocol`"
    )


def test_every_header_the_code_names_is_documented() -> None:
    documented = {h.name for h in HEADERS}
    named = {
        value
        for module in (headers, codec)
        for value in vars(module).values()
        if isinstance(value, str) and (value.startswith(("rmt-", "ce_")) and value != "rmt-")
    }
    assert named <= documented, named - documented


def test_each_profile_requires_what_it_promises() -> None:
    outbox = headers_schema(Profile.OUTBOX)
    assert {"ce_id", "ce_source", "rmt-sig", "rmt-enc-dek"} <= set(outbox["required"])
    assert "rmt-origin-source" not in outbox["properties"]
    selfcheck = headers_schema(Profile.SELFCHECK)
    assert not any(name.startswith("rmt-sig") for name in selfcheck["properties"])
    tombstone = headers_schema(Profile.TOMBSTONE)
    assert "content-type" not in tombstone["properties"]
    assert "rmt-sig" in tombstone["required"]
