"""A tamper-evident audit trail: disclosure events hash-chained per partition.

Each audit record (a DisclosureEvent on the audit topic) carries, in headers, its
position ``seq`` in its partition's chain, the hash of the previous entry and its own::

    entry bytes = canonical("rmt-hub/audit-entry/v1", u32 partition, u64 seq,
                            key, value, the ce_* and content-type headers sorted)
    hash(seq)   = SHA-256(hash(seq - 1) || entry bytes)        hash(-1) = 32 zero bytes

and optionally the hub's Ed25519 signature over ``canonical("rmt-hub/audit-signature/v1",
partition, seq, hash)``, so that someone able to rewrite the topic but without the hub's
key cannot recompute a consistent chain. :func:`verify_chain` reads entries in offset
order and reports the first break of each partition:

=========  ================================================================
CHANGED    an entry's bytes, or its hash or signature, do not match
REMOVED    a seq is missing (and does not appear later in the partition)
REORDERED  seqs out of order (a missing seq turns up later, or one goes back)
UNCHAINED  an entry without (well-formed) chain headers
TRUNCATED  the chain ends before an expected head (a checkpoint kept elsewhere)
=========  ================================================================

:func:`follow` checks one entry at a time against a :class:`ChainCursor` (for a reader
that keeps its place, like the consent service's ingester): it skips entries that are
not the hub's and notes breaks without stopping.

An exact copy of the entry just before (a producer retry without idempotence) is
counted as a duplicate, not a break. Removing entries at the *end* of a partition is
only detectable against an expected head: keep the heads printed by ``rmt-hub audit
verify --write-heads`` somewhere the topic's writers cannot change.

**Writing.** :class:`AuditChainer` holds the head of each partition it writes; there
must be exactly one writer per partition (the router worker that owns the partition).
It resumes from the last entry of the partition on assignment
(:meth:`AuditChainer.resume`); :meth:`AuditChainer.link` advances the head, so the
record must then be produced to exactly that partition, and if producing fails the
writer must resume from the topic again before linking more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.exceptions import InvalidSignature

from hub.security import canonical
from hub.security.errors import AuditChainError, KeyNotFound
from hub.security.headers import (
    AUDIT_HASH,
    AUDIT_KEY,
    AUDIT_PREV,
    AUDIT_SEQ,
    AUDIT_SIG,
    AmbiguousHeader,
    HeaderList,
    header_text,
    replace_headers,
)
from hub.security.keys import PartnerKeys, PublicDirectory

__all__ = [
    "ENTRY_LABEL",
    "GENESIS",
    "AuditChainer",
    "AuditEntry",
    "BreakReason",
    "ChainBreak",
    "ChainCursor",
    "ChainHead",
    "ChainReport",
    "EntryCheck",
    "FollowedEntry",
    "entry_bytes",
    "entry_hash",
    "follow",
    "verify_chain",
]

ENTRY_LABEL = b"rmt-hub/audit-entry/v1"
SIGNATURE_LABEL = b"rmt-hub/audit-signature/v1"
GENESIS = bytes(32)
_AUDIT_HEADERS = frozenset({AUDIT_SEQ, AUDIT_PREV, AUDIT_HASH, AUDIT_KEY, AUDIT_SIG})


def _chained(headers: HeaderList | None) -> list[tuple[str, bytes]]:
    picked: list[tuple[str, bytes]] = []
    names: set[str] = set()
    for name, value in headers or ():
        lowered = name.lower()
        if lowered.startswith("ce_") or lowered == "content-type":
            if name in names:
                raise AmbiguousHeader(name)
            names.add(name)
            picked.append((name, bytes(value) if value is not None else b""))
    picked.sort()
    return picked


def entry_bytes(
    partition: int, seq: int, key: bytes | None, value: bytes | None, headers: HeaderList | None
) -> bytes:
    """The canonical bytes of one audit entry."""
    covered = _chained(headers)
    parts = [
        canonical.u32(partition),
        canonical.u64(seq),
        canonical.optional(key),
        canonical.optional(value),
        canonical.u32(len(covered)),
    ]
    parts += [canonical.item(n) + canonical.item(v) for n, v in covered]
    return canonical.join(ENTRY_LABEL, parts)


def entry_hash(previous: bytes, entry: bytes) -> bytes:
    """SHA-256(previous hash || entry bytes)."""
    return hashlib.sha256(previous + entry).digest()


def _signed(partition: int, seq: int, digest: bytes) -> bytes:
    return canonical.join(
        SIGNATURE_LABEL, [canonical.u32(partition), canonical.u64(seq), canonical.item(digest)]
    )


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last entry of a partition's chain: its seq and hash (hex)."""

    partition: int
    seq: int
    hash: str

    @property
    def digest(self) -> bytes:
        return bytes.fromhex(self.hash)

    def to_json(self) -> dict[str, int | str]:
        return {"partition": self.partition, "seq": self.seq, "hash": self.hash}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ChainHead:
        try:
            head = cls(int(str(data["partition"])), int(str(data["seq"])), str(data["hash"]))
            bytes.fromhex(head.hash)
        except (KeyError, ValueError) as exc:
            raise AuditChainError(f"malformed chain head {dict(data)!r}") from exc
        return head


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record of the audit topic as read back."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class AuditChainer:
    """Links audit records into per-partition chains (one writer per partition)."""

    def __init__(self, signer: PartnerKeys | None = None) -> None:
        self.signer = signer
        self._heads: dict[int, tuple[int, bytes]] = {}

    def __repr__(self) -> str:
        return f"AuditChainer(partitions={sorted(self._heads)!r}, signer={self.signer!r})"

    def resume(self, partition: int, head: ChainHead | None) -> None:
        """Continue ``partition`` after ``head`` (None: an empty partition)."""
        self._heads[partition] = (head.seq, head.digest) if head else (-1, GENESIS)

    def resume_from_headers(self, partition: int, headers: HeaderList | None) -> ChainHead:
        """Continue after the partition's last record, given its headers."""
        head = _head_of(partition, headers)
        if head is None:
            raise AuditChainError(f"the last record of partition {partition} is not chained")
        self.resume(partition, head)
        return head

    def head(self, partition: int) -> ChainHead | None:
        state = self._heads.get(partition)
        if state is None or state[0] < 0:
            return None
        return ChainHead(partition, state[0], state[1].hex())

    def link(
        self,
        partition: int,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList | None,
    ) -> list[tuple[str, bytes]]:
        """``headers`` plus the chain headers of the next entry of ``partition``.

        The partition must have been resumed first (a fresh chain: ``resume(p, None)``).
        """
        state = self._heads.get(partition)
        if state is None:
            raise AuditChainError(
                f"partition {partition} was not resumed: read its last entry first"
            )
        seq = state[0] + 1
        try:
            data = entry_bytes(partition, seq, key, value, headers)
        except AmbiguousHeader as exc:
            raise AuditChainError(f"cannot chain the entry: {exc}") from exc
        digest = entry_hash(state[1], data)
        additions = [
            (AUDIT_SEQ, str(seq).encode("ascii")),
            (AUDIT_PREV, state[1].hex().encode("ascii")),
            (AUDIT_HASH, digest.hex().encode("ascii")),
        ]
        if self.signer is not None:
            signature = self.signer.sign(_signed(partition, seq, digest))
            additions += [
                (AUDIT_KEY, self.signer.key_id.encode("ascii")),
                (AUDIT_SIG, base64.b64encode(signature)),
            ]
        self._heads[partition] = (seq, digest)
        return replace_headers(headers, additions)


# --- verification ------------------------------------------------------------------------------


class BreakReason(StrEnum):
    CHANGED = "changed"
    REMOVED = "removed"
    REORDERED = "reordered"
    UNCHAINED = "unchained"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first break of one partition's chain."""

    partition: int
    offset: int | None
    reason: BreakReason
    detail: str

    def __str__(self) -> str:
        where = f"offset {self.offset}" if self.offset is not None else "end"
        return f"partition {self.partition} {where}: {self.reason.value}: {self.detail}"


@dataclass
class ChainReport:
    """Per partition: entries verified, duplicates, head, and the first break if any."""

    entries: dict[int, int] = field(default_factory=dict)
    duplicates: dict[int, int] = field(default_factory=dict)
    heads: dict[int, ChainHead] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)
    signed: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> ChainBreak | None:
        return self.breaks[0] if self.breaks else None


@dataclass(frozen=True, slots=True)
class _Parsed:
    seq: int
    prev: bytes
    digest: bytes
    key_id: str | None
    signature: bytes | None


def _parse(headers: HeaderList | None) -> _Parsed | None:
    try:
        seq = header_text(headers, AUDIT_SEQ)
        prev = header_text(headers, AUDIT_PREV)
        digest = header_text(headers, AUDIT_HASH)
        key_id = header_text(headers, AUDIT_KEY)
        sig = header_text(headers, AUDIT_SIG)
    except AmbiguousHeader:
        return None
    if seq is None or prev is None or digest is None or not seq.isdigit():
        return None
    try:
        prev_raw, digest_raw = bytes.fromhex(prev), bytes.fromhex(digest)
        signature = base64.b64decode(sig, validate=True) if sig is not None else None
    except (ValueError, binascii.Error):
        return None
    if len(prev_raw) != 32 or len(digest_raw) != 32:
        return None
    return _Parsed(int(seq), prev_raw, digest_raw, key_id, signature)


def _head_of(partition: int, headers: HeaderList | None) -> ChainHead | None:
    parsed = _parse(headers)
    return ChainHead(partition, parsed.seq, parsed.digest.hex()) if parsed else None


def _hub_signature_problem(
    directory: PublicDirectory | None,
    signer_id: str,
    partition: int,
    parsed: _Parsed,
    required: bool,
) -> str | None:
    """Why the hub signature of a parsed entry fails (None: it verifies, or is absent and
    not ``required``)."""
    if parsed.signature is None or parsed.key_id is None:
        return "the entry is not signed" if required else None
    if directory is None:
        return "no public directory to check the signature" if required else None
    try:
        record = directory.get(parsed.key_id)
        if record.partner_id != signer_id:
            return f"signed by {record.partner_id}, not by {signer_id}"
        directory.verifying_key(parsed.key_id).verify(
            parsed.signature, _signed(partition, parsed.seq, parsed.digest)
        )
    except KeyNotFound:
        return f"signed with key {parsed.key_id}, which is not in the directory"
    except InvalidSignature:
        return "the hub signature over the entry hash does not verify"
    return None


class _PartitionVerifier:
    def __init__(
        self,
        partition: int,
        entries: list[AuditEntry],
        directory: PublicDirectory | None,
        require_signatures: bool,
        signer_id: str,
    ) -> None:
        self.partition = partition
        self.entries = entries
        self.directory = directory
        self.require_signatures = require_signatures
        self.signer_id = signer_id
        self.hashes: dict[int, bytes] = {}
        self.duplicates = 0
        self.signed = 0

    def _break(self, offset: int | None, reason: BreakReason, detail: str) -> ChainBreak:
        return ChainBreak(self.partition, offset, reason, detail)

    def _signature_problem(self, parsed: _Parsed) -> str | None:
        problem = _hub_signature_problem(
            self.directory, self.signer_id, self.partition, parsed, self.require_signatures
        )
        if problem is None and parsed.signature is not None and self.directory is not None:
            self.signed += 1
        return problem

    def run(self) -> ChainBreak | None:  # noqa: PLR0911 - one return per kind of break
        expected = 0
        last = GENESIS
        last_offset: int | None = None
        parsed_all = [_parse(e.headers) for e in self.entries]
        for index, (entry, parsed) in enumerate(zip(self.entries, parsed_all, strict=True)):
            if parsed is None:
                return self._break(entry.offset, BreakReason.UNCHAINED, "no valid chain headers")
            try:
                data = entry_bytes(
                    self.partition, parsed.seq, entry.key, entry.value, entry.headers
                )
            except AmbiguousHeader as exc:
                return self._break(entry.offset, BreakReason.CHANGED, str(exc))
            if parsed.seq < expected:
                if (
                    parsed.seq == expected - 1
                    and parsed.digest == last
                    and entry_hash(parsed.prev, data) == last
                ):
                    self.duplicates += 1
                    continue
                return self._break(
                    entry.offset,
                    BreakReason.REORDERED,
                    f"seq {parsed.seq} comes after seq {expected - 1}",
                )
            if parsed.seq > expected:
                later = {p.seq for p in parsed_all[index + 1 :] if p is not None}
                missing = range(expected, parsed.seq)
                if any(s in later for s in missing):
                    return self._break(
                        entry.offset,
                        BreakReason.REORDERED,
                        f"seq {parsed.seq} comes before seq {expected}, which follows later",
                    )
                gap = (
                    f"seq {expected}"
                    if parsed.seq == expected + 1
                    else (f"seqs {expected}..{parsed.seq - 1}")
                )
                return self._break(entry.offset, BreakReason.REMOVED, f"{gap} missing before it")
            if parsed.prev != last:
                if entry_hash(parsed.prev, data) == parsed.digest and last_offset is not None:
                    return self._break(
                        last_offset,
                        BreakReason.CHANGED,
                        f"the entry was changed: the next entry (offset {entry.offset}) "
                        "links to a different hash",
                    )
                return self._break(
                    entry.offset, BreakReason.CHANGED, "the entry does not link to its predecessor"
                )
            computed = entry_hash(last, data)
            if computed != parsed.digest:
                return self._break(
                    entry.offset, BreakReason.CHANGED, "the entry's bytes do not match its hash"
                )
            problem = self._signature_problem(parsed)
            if problem is not None:
                return self._break(entry.offset, BreakReason.CHANGED, problem)
            self.hashes[parsed.seq] = computed
            last, last_offset, expected = computed, entry.offset, expected + 1
        return None


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    directory: PublicDirectory | None = None,
    require_signatures: bool = False,
    expected_heads: Mapping[int, ChainHead] | None = None,
    signer_id: str = "hub",
) -> ChainReport:
    """Verify the chains of ``entries`` (any partition mix, each partition in offset order).

    With ``directory`` the hub signatures that are present are checked (and must be by
    ``signer_id``); ``require_signatures`` makes an unsigned entry a break.
    ``expected_heads`` (from an earlier run) detects truncation and rewritten history.
    """
    by_partition: dict[int, list[AuditEntry]] = defaultdict(list)
    for entry in entries:
        by_partition[entry.partition].append(entry)
    for head in (expected_heads or {}).values():
        by_partition.setdefault(head.partition, [])
    report = ChainReport()
    for partition in sorted(by_partition):
        ordered = sorted(by_partition[partition], key=lambda e: e.offset)
        verifier = _PartitionVerifier(partition, ordered, directory, require_signatures, signer_id)
        found = verifier.run()
        report.entries[partition] = len(verifier.hashes)
        report.duplicates[partition] = verifier.duplicates
        report.signed[partition] = verifier.signed
        if verifier.hashes:
            top = max(verifier.hashes)
            report.heads[partition] = ChainHead(partition, top, verifier.hashes[top].hex())
        expected = (expected_heads or {}).get(partition)
        if found is None and expected is not None:
            seen = verifier.hashes.get(expected.seq)
            if seen is None:
                found = ChainBreak(
                    partition,
                    None,
                    BreakReason.TRUNCATED,
                    f"the chain ends at seq {max(verifier.hashes, default=-1)}, "
                    f"before the expected head seq {expected.seq}",
                )
            elif seen != expected.digest:
                found = ChainBreak(
                    partition,
                    None,
                    BreakReason.CHANGED,
                    f"seq {expected.seq} no longer has the expected head's hash: history rewritten",
                )
        if found is not None:
            report.breaks.append(found)
    return report


# --- following a chain entry by entry (a reader that keeps its place) ---------------------------


class EntryCheck(StrEnum):
    """What following one entry found (only VERIFIED entries are the hub's)."""

    VERIFIED = "verified"  # chained, its bytes match its hash, signed by the hub
    DUPLICATE = "duplicate"  # an exact copy of the entry before (a producer retry)
    UNCHAINED = "unchained"  # no (well-formed) chain headers
    CHANGED = "changed"  # its bytes do not match its own hash
    UNSIGNED = "unsigned"  # no hub signature
    BAD_SIGNATURE = "bad signature"  # a signature that is not the hub's, or does not verify


@dataclass(frozen=True, slots=True)
class ChainCursor:
    """Where a follower of one partition's chain is: the seq it expects next, the hash
    of the last verified entry, and the first break found (kept for good)."""

    next_seq: int = 0
    last_hash: str = GENESIS.hex()
    first_break: ChainBreak | None = None


@dataclass(frozen=True, slots=True)
class FollowedEntry:
    check: EntryCheck
    detail: str
    seq: int | None
    chain_break: ChainBreak | None = None  # a break found at this entry (the entry may be fine)


def follow(
    cursor: ChainCursor | None,
    entry: AuditEntry,
    *,
    directory: PublicDirectory,
    signer_id: str = "hub",
) -> tuple[FollowedEntry, ChainCursor]:
    """Check the next entry of a partition read in offset order against ``cursor`` (None:
    the partition's first entry); the outcome and the cursor to keep.

    Unlike :func:`verify_chain`, which stops at a partition's first break, a follower
    keeps going: an entry that is not the hub's (unchained, changed, unsigned, forged)
    is reported and skipped, so the chain continues after it; a hub-signed entry out of
    place (entries removed, reordered, or an earlier one changed) records the break on
    the cursor and the chain resumes from that entry. An unsigned entry is never
    accepted: a follower needs the hub's key in ``directory``."""
    at = cursor or ChainCursor()
    parsed = _parse(entry.headers)
    if parsed is None:
        return FollowedEntry(EntryCheck.UNCHAINED, "no valid chain headers", None), at
    try:
        data = entry_bytes(entry.partition, parsed.seq, entry.key, entry.value, entry.headers)
    except AmbiguousHeader as exc:
        return FollowedEntry(EntryCheck.CHANGED, str(exc), parsed.seq), at
    if entry_hash(parsed.prev, data) != parsed.digest:
        return FollowedEntry(
            EntryCheck.CHANGED, "the entry's bytes do not match its hash", parsed.seq
        ), at
    problem = _hub_signature_problem(directory, signer_id, entry.partition, parsed, True)
    if problem is not None:
        check = EntryCheck.UNSIGNED if parsed.signature is None else EntryCheck.BAD_SIGNATURE
        return FollowedEntry(check, problem, parsed.seq), at
    last = bytes.fromhex(at.last_hash)
    if parsed.seq == at.next_seq - 1 and parsed.digest == last:
        return FollowedEntry(EntryCheck.DUPLICATE, "a copy of the entry before", parsed.seq), at
    found: ChainBreak | None = None
    if parsed.seq > at.next_seq:
        gap = (
            f"seq {at.next_seq}"
            if parsed.seq == at.next_seq + 1
            else f"seqs {at.next_seq}..{parsed.seq - 1}"
        )
        found = ChainBreak(
            entry.partition, entry.offset, BreakReason.REMOVED, f"{gap} missing before it"
        )
    elif parsed.seq < at.next_seq:
        found = ChainBreak(
            entry.partition,
            entry.offset,
            BreakReason.REORDERED,
            f"seq {parsed.seq} comes after seq {at.next_seq - 1}",
        )
    elif parsed.prev != last:
        found = ChainBreak(
            entry.partition,
            entry.offset,
            BreakReason.CHANGED,
            f"seq {parsed.seq} does not link to the entry before it: history rewritten",
        )
    moved = ChainCursor(parsed.seq + 1, parsed.digest.hex(), at.first_break or found)
    return FollowedEntry(EntryCheck.VERIFIED, "signed by the hub", parsed.seq, found), moved
