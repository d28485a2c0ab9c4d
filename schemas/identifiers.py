"""Identifiers of the domain: the citizen service number (BSN).

Plain functions, no I/O. Error messages never quote the value (it is personal data).
"""

from __future__ import annotations

__all__ = ["BSN_DIGITS", "bsn_digits", "is_valid_bsn", "normalise_bsn"]

BSN_DIGITS = 9


def is_valid_bsn(value: str) -> bool:
    """Nine digits passing the BSN eleven-test (9*d1 + 8*d2 + ... + 2*d8 - d9 = 0 mod 11)."""
    if (
        len(value) != BSN_DIGITS
        or not value.isascii()
        or not value.isdigit()
        or value == "0" * BSN_DIGITS
    ):
        return False
    digits = [int(c) for c in value]
    total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
    return total % 11 == 0


def bsn_digits(value: str) -> str:
    """Nine digits: spaces and dots removed, an 8-digit number padded with a leading 0.

    Checks the form only (not the eleven-test); ValueError when it is not 8 or 9 digits.
    """
    digits = value.strip().replace(" ", "").replace(".", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (8, 9):
        raise ValueError("a BSN has 8 or 9 digits")
    return digits.zfill(BSN_DIGITS)


def normalise_bsn(value: str) -> str:
    """The BSN as nine digits (spaces and dots removed, an 8-digit one zero-padded).

    Raises ValueError (without quoting the value) when it is not a valid BSN.
    """
    try:
        digits = bsn_digits(value)
    except ValueError:
        digits = ""
    if not is_valid_bsn(digits):
        raise ValueError("not a valid BSN (nine digits passing the eleven-test)")
    return digits
