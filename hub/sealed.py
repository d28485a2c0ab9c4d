"""Secret files under a passphrase: scrypt, then AES-256-GCM.

A sealed file is one line of JSON::

    {"sealed": "rmt-hub/v1", "kdf": "scrypt", "n": 32768, "r": 8, "p": 1,
     "salt": "<b64>", "nonce": "<b64>", "ciphertext": "<b64>"}

The key is scrypt(passphrase, salt; n, r, p), 32 bytes; the header (everything but the
ciphertext) is the associated data, so it cannot be changed without the file failing
to open. The cost parameters travel with the file: raising :data:`SCRYPT_N` later
leaves older files readable. Parameters beyond :data:`MAX_SCRYPT_N` are refused (a
crafted file must not exhaust memory). See docs/decisions/0009-secret-files.md.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import SecretStr

from hub.errors import ConfigError

__all__ = [
    "FORMAT",
    "MAX_SCRYPT_N",
    "SCRYPT_N",
    "SealedError",
    "is_sealed",
    "replace_file",
    "seal",
    "unseal",
]

FORMAT = "rmt-hub/v1"
SCRYPT_N = 2**15
"""scrypt cost (32 MiB with r=8): about 0.1 s per file opened."""
SCRYPT_R = 8
SCRYPT_P = 1
MAX_SCRYPT_N = 2**20
_SALT_BYTES = 16
_NONCE_BYTES = 12


class SealedError(ConfigError):
    """A sealed file is malformed, or the passphrase does not open it."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(passphrase: SecretStr, salt: bytes, n: int, r: int, p: int) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=n, r=r, p=p)
    return kdf.derive(passphrase.get_secret_value().encode("utf-8"))


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def seal(secret: bytes, passphrase: SecretStr) -> bytes:
    """``secret`` sealed under ``passphrase`` (the file's whole content)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    header: dict[str, Any] = {
        "sealed": FORMAT,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
    }
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(key).encrypt(nonce, secret, _aad(header))
    return json.dumps({**header, "ciphertext": _b64(ciphertext)}).encode() + b"\n"


def is_sealed(content: bytes) -> bool:
    """Whether ``content`` is a sealed file (and not, say, a PEM or a bare key)."""
    return content.lstrip().startswith(b"{") and b'"sealed"' in content


def unseal(content: bytes, passphrase: SecretStr | None, *, source: str) -> bytes:
    """The secret in sealed ``content``; :class:`SealedError` naming ``source`` when it
    is malformed, no passphrase is given, or the passphrase is wrong."""
    if passphrase is None:
        raise SealedError(f"{source}: sealed under a passphrase: set HUB_KEYS_PASSPHRASE")
    try:
        document = json.loads(content)
        header = {k: document[k] for k in ("sealed", "kdf", "n", "r", "p", "salt", "nonce")}
        n, r, p = int(header["n"]), int(header["r"]), int(header["p"])
        salt = base64.b64decode(header["salt"], validate=True)
        nonce = base64.b64decode(header["nonce"], validate=True)
        ciphertext = base64.b64decode(document["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise SealedError(f"{source}: not a readable sealed file") from exc
    if header["sealed"] != FORMAT or header["kdf"] != "scrypt":
        raise SealedError(f"{source}: unknown sealed format {header['sealed']!r}")
    if not (2 <= n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise SealedError(f"{source}: scrypt parameters out of range")
    try:
        return AESGCM(_key(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, _aad(header))
    except (InvalidTag, ValueError) as exc:
        raise SealedError(f"{source}: the passphrase does not open it (or it was altered)") from exc


def replace_file(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Write ``content`` to ``path`` atomically (a temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
