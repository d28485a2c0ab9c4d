"""Unambiguous byte strings for signing, associated data and hashing.

Every variable-length item is written as a 4-byte big-endian length and its bytes; an
absent item (a null key or a tombstone's value) as the length ``0xFFFFFFFF`` and no
bytes, so ``None`` and ``b""`` never collide and no two item sequences share an
encoding. Integers are fixed-width big-endian. Each use starts with its own domain
label (e.g. ``rmt-hub/record-signature/v1``), so bytes made for one purpose are never
valid for another.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

__all__ = ["ABSENT", "item", "join", "optional", "u32", "u64"]

ABSENT = b"\xff\xff\xff\xff"
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_MAX_ITEM = 0xFFFFFFFE


def item(data: bytes | str) -> bytes:
    """Length-prefixed ``data`` (text as UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > _MAX_ITEM:
        raise ValueError("item too long for the canonical encoding")
    return _U32.pack(len(raw)) + raw


def optional(data: bytes | str | None) -> bytes:
    """:func:`item`, or the absent marker for None."""
    return ABSENT if data is None else item(data)


def u32(value: int) -> bytes:
    return _U32.pack(value)


def u64(value: int) -> bytes:
    """Unsigned 64-bit big-endian (ValueError when negative)."""
    if value < 0:
        raise ValueError("negative value in the canonical encoding")
    return _U64.pack(value)


def join(label: bytes, parts: Iterable[bytes]) -> bytes:
    """The domain label (itself length-prefixed) followed by the parts."""
    return item(label) + b"".join(parts)
