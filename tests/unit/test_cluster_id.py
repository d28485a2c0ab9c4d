"""KRaft cluster ids the launcher makes for Apache Kafka's storage tool."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from hub.broker import apache
from hub.broker.apache import new_cluster_id


def test_regression_a_cluster_id_starting_with_a_dash_failed_the_storage_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CI: formatting a secured test cluster failed with "argument --cluster-id: expected
    one argument": one random id in 64 starts with "-", which the tool reads as an option.
    Kafka's own ids never do; neither do ours now."""
    drawn: Iterator[uuid.UUID] = iter(
        [uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" + bytes(15))]
    )
    monkeypatch.setattr(apache.uuid, "uuid4", lambda: next(drawn))
    made = new_cluster_id()
    assert not made.startswith("-")
    assert made == "AQAAAAAAAAAAAAAAAAAAAA"


def test_cluster_ids_are_22_url_safe_characters() -> None:
    for _ in range(500):
        made = new_cluster_id()
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", made), made
