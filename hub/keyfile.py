"""Symmetric keys from settings, or from a key file the hub generates once.

A key given in the environment (a :class:`~pydantic.SecretStr`, urlsafe base64 of 32
bytes) wins; otherwise the key lives in a file with mode 0600, created atomically on
first use (when two processes race, both end up with the winner's key). A key file
readable by others is refused.

With a passphrase (``HUB_KEYS_PASSPHRASE``, :func:`passphrase_of`) the file is sealed
(:mod:`hub.sealed`: scrypt, AES-256-GCM). A plain key file from before is still read,
and sealed in place the first time it is read with a passphrase (the migration).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from pydantic import SecretStr

from hub.config import HubSettings
from hub.errors import ConfigError
from hub.sealed import SealedError, is_sealed, replace_file, seal, unseal

__all__ = ["KEY_BYTES", "KeyFileError", "load_or_create_key", "passphrase_of"]

_LOG = logging.getLogger(__name__)

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


def passphrase_of(settings: HubSettings) -> SecretStr | None:
    """The passphrase of the secret files (``HUB_KEYS_PASSPHRASE``); None when unset or
    empty."""
    value = settings.keys_passphrase
    return value if value is not None and value.get_secret_value() else None


def _create(path: Path, label: str, passphrase: SecretStr | None) -> None:
    text = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n"
    content = seal(text, passphrase) if passphrase is not None else text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, content)
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


def load_or_create_key(
    secret: SecretStr | None,
    path: Path,
    *,
    label: str,
    env: str,
    passphrase: SecretStr | None = None,
) -> bytes:
    """The 32-byte key from ``secret`` (named ``env`` in errors) or from the file ``path``,
    sealed under ``passphrase`` when one is given."""
    if secret is not None:
        return _decode(secret.get_secret_value(), env)
    if not path.exists():
        _create(path, label, passphrase)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: the {label} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the {label}: {exc.strerror}") from exc
    sealed = is_sealed(content)
    if sealed:
        try:
            content = unseal(content, passphrase, source=f"{path} ({label})")
        except SealedError as exc:
            raise KeyFileError(str(exc)) from exc
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError as exc:
        raise KeyFileError(f"{path}: the {label} is not text") from exc
    key = _decode(text, str(path))
    if passphrase is not None and not sealed:
        _seal_in_place(path, text, label, passphrase)
    return key


def _seal_in_place(path: Path, text: str, label: str, passphrase: SecretStr) -> None:
    """Migrate a plain key file: the same key, sealed under the passphrase."""
    try:
        replace_file(path, seal(text.encode("ascii"), passphrase))
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot seal the {label}: {exc.strerror}") from exc
    _LOG.info("%s: the %s is now sealed under the keys passphrase", path, label)
