"""The audit hash chain: untouched logs pass; changed, removed, reordered entries fail."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.security.audit_chain import (
    AuditChainer,
    AuditEntry,
    BreakReason,
    ChainCursor,
    ChainHead,
    EntryCheck,
    FollowedEntry,
    follow,
    verify_chain,
)
from hub.security.errors import AuditChainError
from hub.security.headers import AUDIT_HASH, AUDIT_SEQ
from hub.security.keys import KeyStore, PartnerKeys, PublicDirectory
from tests.helpers.security import HUB, UWV, make_headers


def build(
    partitions: int = 2, per_partition: int = 5, signer: PartnerKeys | None = None
) -> list[AuditEntry]:
    chainer = AuditChainer(signer)
    entries = []
    for p in range(partitions):
        chainer.resume(p, None)
        for i in range(per_partition):
            key, value = f"subject-{i}".encode(), f"disclosure {p}/{i}".encode()
            headers = chainer.link(p, key=key, value=value, headers=make_headers(HUB))
            entries.append(AuditEntry(p, i, key, value, tuple(headers)))
    return entries


def renumber(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Offsets as a copy of the log would have them (contiguous again)."""
    counters: dict[int, int] = {}
    out = []
    for e in entries:
        offset = counters.get(e.partition, 0)
        counters[e.partition] = offset + 1
        out.append(dataclasses.replace(e, offset=offset))
    return out


def only(entries: list[AuditEntry], partition: int) -> list[AuditEntry]:
    return [e for e in entries if e.partition == partition]


def test_untouched_log_passes() -> None:
    entries = build()
    report = verify_chain(entries)
    assert report.ok
    assert report.entries == {0: 5, 1: 5}
    assert report.heads[1].seq == 4
    # interleaved partitions in any order are fine: each partition is checked alone
    shuffled = entries[:]
    random.Random(1).shuffle(shuffled)
    assert verify_chain(shuffled).ok


def test_changed_entry() -> None:
    entries = build()
    entries[2] = dataclasses.replace(entries[2], value=b"disclosure 0/2 (edited)")
    found = verify_chain(entries).first_break
    assert found is not None
    assert (found.partition, found.offset, found.reason) == (0, 2, BreakReason.CHANGED)


def test_changed_entry_with_recomputed_hash_is_caught_at_its_successor() -> None:
    entries = only(build(1), 0)
    chainer = AuditChainer()
    chainer.resume(0, ChainHead(0, 1, dict(entries[1].headers)[AUDIT_HASH].decode()))
    forged_headers = chainer.link(0, key=entries[2].key, value=b"forged", headers=make_headers(HUB))
    entries[2] = dataclasses.replace(entries[2], value=b"forged", headers=tuple(forged_headers))
    found = verify_chain(entries).first_break
    assert found is not None
    assert found.reason is BreakReason.CHANGED
    assert found.offset == 2


def test_signed_chain_cannot_be_recomputed(store: KeyStore) -> None:
    hub = store.private(HUB)
    entries = only(build(1, 4, signer=hub), 0)
    assert verify_chain(entries, directory=store.directory(), require_signatures=True).ok
    # rewrite from entry 1 on with a key that is not the hub's
    attacker = AuditChainer(store.private(UWV))
    attacker.resume(0, ChainHead(0, 0, dict(entries[0].headers)[AUDIT_HASH].decode()))
    rewritten = entries[:1]
    for e in entries[1:]:
        headers = attacker.link(0, key=e.key, value=b"rewritten", headers=make_headers(HUB))
        rewritten.append(dataclasses.replace(e, value=b"rewritten", headers=tuple(headers)))
    found = verify_chain(rewritten, directory=store.directory()).first_break
    assert found is not None
    assert found.reason is BreakReason.CHANGED
    assert found.offset == 1
    assert "signed by uwv" in found.detail
    unsigned = only(build(1, 2), 0)
    strict = verify_chain(unsigned, directory=store.directory(), require_signatures=True)
    assert strict.first_break is not None
    assert "not signed" in strict.first_break.detail


def test_removed_entry() -> None:
    entries = [e for e in build() if not (e.partition == 1 and e.offset == 2)]
    found = verify_chain(renumber(entries)).first_break
    assert found is not None
    assert (found.partition, found.offset, found.reason) == (1, 2, BreakReason.REMOVED)
    assert "seq 2 missing" in found.detail


def test_removed_first_entry() -> None:
    entries = only(build(1), 0)[1:]
    found = verify_chain(renumber(entries)).first_break
    assert found is not None
    assert found.reason is BreakReason.REMOVED


def test_reordered_entries() -> None:
    entries = only(build(1), 0)
    entries[1], entries[3] = entries[3], entries[1]
    found = verify_chain(renumber(entries)).first_break
    assert found is not None
    assert (found.offset, found.reason) == (1, BreakReason.REORDERED)


def test_duplicate_of_the_previous_entry_is_a_retry_not_a_break() -> None:
    entries = only(build(1, 3), 0)
    entries.insert(2, entries[1])
    report = verify_chain(renumber(entries))
    assert report.ok
    assert report.duplicates[0] == 1
    assert report.entries[0] == 3


def test_an_older_duplicate_is_reordering() -> None:
    entries = only(build(1, 4), 0)
    entries.append(entries[0])
    found = verify_chain(renumber(entries)).first_break
    assert found is not None
    assert found.reason is BreakReason.REORDERED


def test_unchained_entry() -> None:
    entries = only(build(1, 3), 0)
    entries[1] = dataclasses.replace(entries[1], headers=tuple(make_headers(HUB)))
    found = verify_chain(entries).first_break
    assert found is not None
    assert found.reason is BreakReason.UNCHAINED


def test_truncation_is_caught_against_expected_heads() -> None:
    entries = build()
    heads = verify_chain(entries).heads
    truncated = [e for e in entries if not (e.partition == 0 and e.offset >= 3)]
    found = verify_chain(truncated, expected_heads=heads).first_break
    assert found is not None
    assert found.reason is BreakReason.TRUNCATED
    assert verify_chain(entries, expected_heads=heads).ok
    emptied = verify_chain([e for e in entries if e.partition == 1], expected_heads=heads)
    assert emptied.first_break is not None
    assert emptied.first_break.partition == 0


def test_chainer_needs_resuming_and_resumes_from_headers() -> None:
    chainer = AuditChainer()
    with pytest.raises(AuditChainError, match="not resumed"):
        chainer.link(0, key=b"k", value=b"v", headers=[])
    entries = only(build(1, 3), 0)
    head = chainer.resume_from_headers(0, entries[-1].headers)
    assert head.seq == 2
    more = chainer.link(0, key=b"k", value=b"v", headers=make_headers(HUB))
    assert dict(more)[AUDIT_SEQ] == b"3"
    assert verify_chain([*entries, AuditEntry(0, 3, b"k", b"v", tuple(more))]).ok
    with pytest.raises(AuditChainError):
        chainer.resume_from_headers(1, make_headers(HUB))


MUTATIONS = ("change", "remove", "swap")


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(MUTATIONS),
    n=st.integers(min_value=3, max_value=12),
    data=st.data(),
)
def test_any_single_mutation_is_detected(kind: str, n: int, data: st.DataObject) -> None:
    entries = only(build(1, n), 0)
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    if kind == "change":
        entries[i] = dataclasses.replace(entries[i], value=(entries[i].value or b"") + b"x")
        expected = BreakReason.CHANGED
    elif kind == "remove":
        del entries[i]
        expected = BreakReason.REMOVED
    else:
        entries[i], entries[i + 1] = entries[i + 1], entries[i]
        expected = BreakReason.REORDERED
    found = verify_chain(renumber(entries)).first_break
    assert found is not None
    assert found.reason is expected


# --- following the chain entry by entry (the consent service's ingester) --------------------------


def _follow_all(
    entries: list[AuditEntry], directory: PublicDirectory
) -> tuple[list[FollowedEntry], ChainCursor | None]:
    cursor: ChainCursor | None = None
    out = []
    for entry in entries:
        followed, cursor = follow(cursor, entry, directory=directory)
        out.append(followed)
    return out, cursor


@pytest.fixture
def signed_log(store: KeyStore) -> tuple[list[AuditEntry], PublicDirectory]:
    return only(
        build(partitions=1, per_partition=5, signer=store.private(HUB)), 0
    ), store.directory()


def test_a_follower_verifies_an_untouched_log(
    signed_log: tuple[list[AuditEntry], PublicDirectory],
) -> None:
    entries, directory = signed_log
    checks, cursor = _follow_all([*entries, entries[-1]], directory)  # a producer retry too
    assert [c.check for c in checks] == [EntryCheck.VERIFIED] * 5 + [EntryCheck.DUPLICATE]
    assert cursor is not None
    assert cursor.first_break is None
    assert cursor.next_seq == 5


def test_a_follower_skips_a_forgery_and_the_chain_goes_on(
    signed_log: tuple[list[AuditEntry], PublicDirectory], store: KeyStore
) -> None:
    entries, directory = signed_log
    plain = AuditEntry(0, 0, b"subject-x", b"forged", tuple(make_headers(HUB)))
    copied = dataclasses.replace(entries[2], value=b"forged with copied chain headers")
    chainer = AuditChainer(store.private(UWV))  # a partner's key, not the hub's
    chainer.resume(0, ChainHead(0, 1, dict(entries[1].headers)[AUDIT_HASH].decode()))
    by_partner = chainer.link(0, key=b"k", value=b"v", headers=make_headers(UWV))
    partner_signed = AuditEntry(0, 0, b"k", b"v", tuple(by_partner))
    log = [*entries[:2], plain, copied, partner_signed, *entries[2:]]
    checks, cursor = _follow_all(renumber(log), directory)
    assert [c.check for c in checks] == [
        EntryCheck.VERIFIED,
        EntryCheck.VERIFIED,
        EntryCheck.UNCHAINED,
        EntryCheck.CHANGED,
        EntryCheck.BAD_SIGNATURE,
        EntryCheck.VERIFIED,
        EntryCheck.VERIFIED,
        EntryCheck.VERIFIED,
    ]
    assert cursor is not None
    assert cursor.first_break is None


def test_a_follower_finds_a_removed_or_altered_entry_and_keeps_the_first_break(
    signed_log: tuple[list[AuditEntry], PublicDirectory],
) -> None:
    entries, directory = signed_log
    removed = renumber([*entries[:2], *entries[3:]])
    checks, cursor = _follow_all(removed, directory)
    assert all(c.check is EntryCheck.VERIFIED for c in checks)
    assert cursor is not None
    assert cursor.first_break is not None
    assert cursor.first_break.reason is BreakReason.REMOVED
    assert cursor.first_break.offset == 2
    assert "seq 2 missing" in cursor.first_break.detail

    altered = list(entries)
    altered[1] = dataclasses.replace(entries[1], value=b"another recipient")
    checks, cursor = _follow_all(altered, directory)
    assert checks[1].check is EntryCheck.CHANGED
    assert cursor is not None
    assert cursor.first_break is not None
    assert (cursor.first_break.reason, cursor.first_break.offset) == (BreakReason.REMOVED, 2)
    assert checks[2].chain_break == cursor.first_break
