"""Symmetric keys from settings, or from a key file the hub generates once.

A key given in the environment (a :class:`~pydantic.SecretStr`, urlsafe base64 of 32
bytes) wins; otherwise the key lives in a file with mode 0600, created atomically on
first use (when two processes race, both end up with the winner's key). A key file
readable by others is refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path

from pydantic import SecretStr

from hub.errors import ConfigError

__all__ = ["KEY_BYTES", "KeyFileError", "load_or_create_key"]

KEY_BYTES = 32


class KeyFileError(ConfigError):
    """A key is malformed, unreadable, or stored with unsafe permissions."""


def _decode(text: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise KeyFileError(f"{source}: not urlsafe base64") from exc
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{source}: must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def _create(path: Path, label: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process created the key first
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create the {label}: {exc.strerror}") from exc


def load_or_create_key(secret: SecretStr | None, path: Path, *, label: str, env: str) -> bytes:
    """The 32-byte key from ``secret`` (named ``env`` in errors) or from the file ``path``."""
    if secret is not None:
        return _decode(secret.get_secret_value(), env)
    if not path.exists():
        _create(path, label)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: the {label} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read the {label}: {exc}") from exc
    return _decode(text, str(path))
