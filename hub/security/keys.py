"""Partner and hub identities: key pairs, key ids, validity, the key store on disk.

Every identity (a partner, or the hub itself) holds **one key pair per key generation**:
an Ed25519 key that signs what it publishes and an X25519 key that data keys are wrapped
for. The **key id** is a fingerprint of both public keys::

    key_id = hex(SHA-256("rmt-hub/key-id/v1" | signing public key | encryption public key)[:16])

so a key id names exactly one pair and cannot be claimed for another.

The **public directory** (:class:`PublicDirectory`, ``directory.json``) is what the hub
and the partners share: per key id the partner id, kind, region, role (:class:`KeyRole`:
a partner, or one of the hub's own identities), both public keys
(base64 of the 32 raw bytes), ``not_before``/``not_after`` (UTC) and a status
(``active``, ``retired`` after a rotation, ``revoked``). Verifiers and encryptors only
ever need it.

The **key store** (:class:`KeyStore`) keeps the directory and, for the identities
generated on this machine, the private keys::

    <keys_dir>/directory.json                    public, 0644
    <keys_dir>/private/                          0700
    <keys_dir>/private/<key_id>.signing.pem      PKCS#8 Ed25519, 0600 (sealed with a passphrase)
    <keys_dir>/private/<key_id>.encryption.pem   PKCS#8 X25519, 0600

With a passphrase, a private file is the PEM sealed by :mod:`hub.sealed` (scrypt,
AES-256-GCM); PKCS#8's own encryption (PBKDF2 with 2,048 iterations) is read but no
longer written: such a file, or a plain one, is sealed in place when first read with
the passphrase.

A private file readable by group or others is refused. Private keys are only held by
:class:`PartnerKeys`, whose ``repr``/``str`` mask them, which cannot be pickled, and
which never appear in an error message; nothing here logs them.

The directory is **signed by the hub** (``signature`` in ``directory.json``: the hub's
Ed25519 signature over the canonical records, the digest of the partner directory in
effect and the signer's key id). A store that holds a hub private key signs on every
write (``new``, ``rotate``, ``revoke``, ``add_public``, :meth:`KeyStore.sign`); a
verifying store (every process's, :func:`hub.security.hub_identity.key_store`) refuses
an unsigned or altered directory, one signed by a hub key it does not hold (when it holds
one), and a partner directory other than the signed one (:class:`DirectoryRefused`).

Rotation makes a new pair the active one and retires the old one with a short overlap
(``not_after`` = now + overlap), so records in flight still verify and records already
encrypted to the old key can still be decrypted by its owner.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from hub.sealed import SealedError, is_sealed, replace_file, seal, unseal
from hub.security import canonical
from hub.security.errors import KeyNotFound, KeyStoreError
from schemas.regions import Region
from schemas.vocabulary import PartnerKind

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_VALIDITY",
    "KEY_ID_PATTERN",
    "DirectoryRefused",
    "DirectorySignature",
    "KeyRole",
    "KeyStatus",
    "KeyStore",
    "PartnerKeys",
    "PartnersDigest",
    "PublicDirectory",
    "PublicKeyRecord",
    "key_id_of",
    "role_of",
]

KEY_ID_PATTERN = r"^[0-9a-f]{32}$"
DEFAULT_VALIDITY = timedelta(days=365)
DEFAULT_OVERLAP = timedelta(days=7)
_KEY_ID_LABEL = b"rmt-hub/key-id/v1"
_RAW = 32
_MASK = "**********"
_DIRECTORY_VERSION = 1
_DIRECTORY_SIGNATURE_LABEL = b"rmt-hub/directory-signature/v1"
_MIGRATION = (
    "check it (`rmt-hub keys list`), then sign it where the hub's private key is: "
    "`rmt-hub keys sign-directory` (decision 0012)"
)
#: (private key file, key id, mtime) of hub keys proven to match their directory record
_PROVEN: set[tuple[str, str, int]] = set()


class DirectoryRefused(KeyStoreError):
    """The public directory is unsigned or altered: the process must not use it."""


@dataclass(frozen=True, slots=True)
class PartnersDigest:
    """The partner directory in effect: where it comes from and its SHA-256."""

    source: str
    sha256: str


@dataclass(frozen=True, slots=True)
class DirectorySignature:
    """The hub's signature of a directory: signer key id and Ed25519 signature."""

    key_id: str
    value: bytes


def _utcnow() -> datetime:
    return datetime.now(UTC)


def key_id_of(signing_public: bytes, encryption_public: bytes) -> str:
    """The key id (fingerprint) of a pair of raw 32-byte public keys."""
    digest = hashlib.sha256(_KEY_ID_LABEL + signing_public + encryption_public).digest()
    return digest[:16].hex()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"{what} is not base64") from exc
    if len(raw) != _RAW:
        raise ValueError(f"{what} must be {_RAW} bytes, got {len(raw)}")
    return raw


class KeyStatus(StrEnum):
    """Where a key generation is in its life."""

    ACTIVE = "active"  # signs and receives new records
    RETIRED = "retired"  # replaced by a rotation; verifies/decrypts until not_after
    REVOKED = "revoked"  # compromised or withdrawn: refused at once


class KeyRole(StrEnum):
    """What an identity is to the hub. The hub's own identities are named after their role."""

    PARTNER = "partner"  # publishes to its outbox, reads its inbox
    HUB = "hub"  # the router: signs deliveries, the audit chain, hub-internal records
    CONSENT_SERVICE = "consent-service"  # signs the consent change feed
    OPERATIONS = "operations"  # hub operators: hub-internal topics are encrypted to it


def role_of(partner_id: str, kind: PartnerKind | None = None) -> KeyRole:
    """The role of a new identity: a hub identity by its id (``hub``, ``consent-service``,
    ``operations``), any other a partner."""
    if kind is None:
        for role in KeyRole:
            if role is not KeyRole.PARTNER and role.value == partner_id:
                return role
    return KeyRole.PARTNER


class PublicKeyRecord(BaseModel):
    """One key generation of one identity, as shared in the public directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partner_id: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=60)
    kind: PartnerKind | None = Field(default=None, description="None for the hub itself.")
    region: Region | None = None
    key_id: str = Field(pattern=KEY_ID_PATTERN)
    signing_public_key: str = Field(description="Ed25519, base64 of the 32 raw bytes.")
    encryption_public_key: str = Field(description="X25519, base64 of the 32 raw bytes.")
    not_before: datetime
    not_after: datetime
    status: KeyStatus = KeyStatus.ACTIVE
    role: KeyRole = KeyRole.PARTNER

    @model_validator(mode="before")
    @classmethod
    def _role_of_old_records(cls, data: Any) -> Any:
        """Directories written before roles existed: the hub was the one identity without
        a kind."""
        if isinstance(data, dict) and "role" not in data and data.get("kind") is None:
            return {**data, "role": role_of(str(data.get("partner_id", "")))}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> PublicKeyRecord:
        signing = _unb64(self.signing_public_key, "signing_public_key")
        encryption = _unb64(self.encryption_public_key, "encryption_public_key")
        if key_id_of(signing, encryption) != self.key_id:
            raise ValueError("key_id is not the fingerprint of the two public keys")
        if self.not_before.tzinfo is None or self.not_after.tzinfo is None:
            raise ValueError("not_before and not_after must carry a time zone")
        if self.not_after <= self.not_before:
            raise ValueError("not_after must be later than not_before")
        return self

    def signing_public_bytes(self) -> bytes:
        return base64.b64decode(self.signing_public_key)

    def encryption_public_bytes(self) -> bytes:
        return base64.b64decode(self.encryption_public_key)

    def valid_at(self, moment: datetime) -> bool:
        """Not revoked and ``moment`` within [not_before, not_after]."""
        return self.status is not KeyStatus.REVOKED and (
            self.not_before <= moment <= self.not_after
        )


class PublicDirectory:
    """The public keys of every identity, by key id (immutable; ``with_record`` copies)."""

    def __init__(
        self,
        records: Iterable[PublicKeyRecord] = (),
        *,
        partners_sha256: str | None = None,
        signature: DirectorySignature | None = None,
    ) -> None:
        self.partners_sha256 = partners_sha256
        self.signature = signature
        self._records: dict[str, PublicKeyRecord] = {}
        for record in records:
            if record.key_id in self._records:
                raise KeyStoreError(f"key id {record.key_id} appears twice in the directory")
            self._records[record.key_id] = record
        self._verifying: dict[str, Ed25519PublicKey] = {}
        self._encrypting: dict[str, X25519PublicKey] = {}

    def __iter__(self) -> Iterator[PublicKeyRecord]:
        return iter(sorted(self._records.values(), key=lambda r: (r.partner_id, r.not_before)))

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._records

    def find(self, key_id: str) -> PublicKeyRecord | None:
        return self._records.get(key_id)

    def get(self, key_id: str) -> PublicKeyRecord:
        record = self._records.get(key_id)
        if record is None:
            raise KeyNotFound(f"no key {key_id} in the public directory")
        return record

    def keys_of(self, partner_id: str) -> list[PublicKeyRecord]:
        """Every key generation of ``partner_id``, oldest first."""
        return sorted(
            (r for r in self._records.values() if r.partner_id == partner_id),
            key=lambda r: r.not_before,
        )

    def partners(self) -> list[str]:
        return sorted({r.partner_id for r in self._records.values()})

    def current(self, partner_id: str, at: datetime | None = None) -> PublicKeyRecord:
        """The active key of ``partner_id`` valid at ``at`` (now); the newest if several."""
        moment = at or _utcnow()
        candidates = [
            r
            for r in self.keys_of(partner_id)
            if r.status is KeyStatus.ACTIVE and r.valid_at(moment)
        ]
        if not candidates:
            raise KeyNotFound(f"partner {partner_id} has no active key valid at {moment:%F %T}Z")
        return candidates[-1]

    def verifying_key(self, key_id: str) -> Ed25519PublicKey:
        """The Ed25519 public key of ``key_id`` (parsed once)."""
        key = self._verifying.get(key_id)
        if key is None:
            key = Ed25519PublicKey.from_public_bytes(self.get(key_id).signing_public_bytes())
            self._verifying[key_id] = key
        return key

    def encryption_key(self, key_id: str) -> X25519PublicKey:
        """The X25519 public key of ``key_id`` (parsed once)."""
        key = self._encrypting.get(key_id)
        if key is None:
            key = X25519PublicKey.from_public_bytes(self.get(key_id).encryption_public_bytes())
            self._encrypting[key_id] = key
        return key

    def with_record(self, record: PublicKeyRecord) -> PublicDirectory:
        """A copy (unsigned) with ``record`` added or replacing the record of its key id."""
        records = dict(self._records)
        records[record.key_id] = record
        return PublicDirectory(records.values())

    def signed_bytes(self, signer_key_id: str, partners_sha256: str | None) -> bytes:
        """What the hub signs: every record (canonical JSON), the partner directory's
        digest and the signer's key id."""
        keys = json.dumps(
            [r.model_dump(mode="json") for r in self], sort_keys=True, separators=(",", ":")
        )
        return canonical.join(
            _DIRECTORY_SIGNATURE_LABEL,
            [
                canonical.item(keys),
                canonical.optional(partners_sha256),
                canonical.item(signer_key_id),
            ],
        )

    def signed(self, signer: PartnerKeys, partners_sha256: str | None) -> PublicDirectory:
        """A copy signed by ``signer`` (a hub key), bound to ``partners_sha256``."""
        value = signer.sign(self.signed_bytes(signer.key_id, partners_sha256))
        return PublicDirectory(
            self,
            partners_sha256=partners_sha256,
            signature=DirectorySignature(signer.key_id, value),
        )

    def signature_problem(self) -> str | None:
        """Why the signature does not hold (None: signed by a hub key of this directory,
        not revoked, over exactly these records)."""
        if self.signature is None:
            return "not signed by the hub"
        signer = self.find(self.signature.key_id)
        if signer is None or signer.role is not KeyRole.HUB:
            return f"signed by {self.signature.key_id}, which is no hub key of the directory"
        if signer.status is KeyStatus.REVOKED:
            return f"signed by the revoked hub key {signer.key_id}"
        data = self.signed_bytes(signer.key_id, self.partners_sha256)
        try:
            self.verifying_key(signer.key_id).verify(self.signature.value, data)
        except InvalidSignature:
            return "altered since the hub signed it (the signature does not verify)"
        return None

    def to_json(self) -> str:
        payload: dict[str, Any] = {
            "version": _DIRECTORY_VERSION,
            "keys": [r.model_dump(mode="json") for r in self],
        }
        if self.signature is not None:
            payload["partners_sha256"] = self.partners_sha256
            payload["signature"] = {
                "key_id": self.signature.key_id,
                "value": _b64(self.signature.value),
            }
        return json.dumps(payload, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "public directory") -> PublicDirectory:
        try:
            payload = json.loads(text)
            if not isinstance(payload, dict) or payload.get("version") != _DIRECTORY_VERSION:
                raise ValueError(f"expected an object with version {_DIRECTORY_VERSION}")
            keys = payload.get("keys")
            if not isinstance(keys, list):
                raise ValueError("'keys' must be a list")
            signature = _signature_of(payload.get("signature"))
            partners_sha256 = payload.get("partners_sha256")
            if partners_sha256 is not None and not isinstance(partners_sha256, str):
                raise ValueError("'partners_sha256' must be a string")
        except ValueError as exc:
            raise KeyStoreError(f"{source}: {exc}") from exc
        records = []
        for index, entry in enumerate(keys):
            try:
                records.append(PublicKeyRecord.model_validate(entry))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in ("keys", index, *first["loc"]))
                raise KeyStoreError(f"{source}: {where}: {first['msg']}") from exc
        return cls(records, partners_sha256=partners_sha256, signature=signature)

    @classmethod
    def load(cls, path: Path) -> PublicDirectory:
        """Read a directory file (an empty directory when it does not exist)."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise KeyStoreError(f"{path}: cannot read: {exc.strerror}") from exc
        return cls.from_json(text, str(path))


def _signature_of(raw: object) -> DirectorySignature | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("key_id"), str):
        raise ValueError("'signature' must be an object with key_id and value")
    try:
        value = base64.b64decode(str(raw.get("value", "")).encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError("'signature.value' is not base64") from exc
    return DirectorySignature(raw["key_id"], value)


class PartnerKeys:
    """The private keys of one key generation. Masked in reprs; never pickled or logged."""

    __slots__ = ("_encryption", "_signing", "key_id", "partner_id")

    def __init__(
        self,
        partner_id: str,
        signing: Ed25519PrivateKey,
        encryption: X25519PrivateKey,
    ) -> None:
        self.partner_id = partner_id
        self._signing = signing
        self._encryption = encryption
        self.key_id = key_id_of(self.signing_public_bytes(), self.encryption_public_bytes())

    @classmethod
    def generate(cls, partner_id: str) -> PartnerKeys:
        return cls(partner_id, Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return self._signing

    @property
    def encryption_key(self) -> X25519PrivateKey:
        return self._encryption

    def signing_public_bytes(self) -> bytes:
        return self._signing.public_key().public_bytes_raw()

    def encryption_public_bytes(self) -> bytes:
        return self._encryption.public_key().public_bytes_raw()

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature over ``data``."""
        return self._signing.sign(data)

    def public_record(
        self,
        *,
        not_before: datetime,
        not_after: datetime,
        kind: PartnerKind | None = None,
        region: Region | None = None,
        status: KeyStatus = KeyStatus.ACTIVE,
        role: KeyRole | None = None,
    ) -> PublicKeyRecord:
        """The directory entry of this key generation (``role``: from the id by default)."""
        return PublicKeyRecord(
            partner_id=self.partner_id,
            kind=kind,
            region=region,
            role=role if role is not None else role_of(self.partner_id, kind),
            key_id=self.key_id,
            signing_public_key=_b64(self.signing_public_bytes()),
            encryption_public_key=_b64(self.encryption_public_bytes()),
            not_before=not_before,
            not_after=not_after,
            status=status,
        )

    def __repr__(self) -> str:
        return (
            f"PartnerKeys(partner_id={self.partner_id!r}, key_id={self.key_id!r}, private={_MASK})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("private keys cannot be pickled")

    def __copy__(self) -> NoReturn:
        raise TypeError("private keys are not copied")

    def __deepcopy__(self, memo: dict[int, Any]) -> NoReturn:
        raise TypeError("private keys are not copied")


class KeyStore:
    """The public directory and the private keys generated on this machine.

    ``root`` is ``settings.keys_dir`` (or ``data_dir/keys``, see
    :func:`hub.security.hub_identity.key_store`). ``passphrase`` encrypts private key
    files written from now on and decrypts encrypted ones. ``partners``: the partner
    directory in effect, bound into the directory's signature. ``verify``: refuse an
    unsigned or altered directory on every read (:class:`DirectoryRefused`).
    """

    DIRECTORY = "directory.json"
    PRIVATE = "private"

    def __init__(
        self,
        root: Path,
        *,
        passphrase: SecretStr | None = None,
        clock: Callable[[], datetime] = _utcnow,
        partners: PartnersDigest | None = None,
        verify: bool = False,
    ) -> None:
        self.root = root
        self._passphrase = passphrase
        self._clock = clock
        self._partners = partners
        self._verify = verify

    def __repr__(self) -> str:
        masked = _MASK if self._passphrase is not None else None
        return f"KeyStore(root={str(self.root)!r}, passphrase={masked})"

    # --- paths -------------------------------------------------------------------------------

    @property
    def directory_path(self) -> Path:
        return self.root / self.DIRECTORY

    @property
    def private_dir(self) -> Path:
        return self.root / self.PRIVATE

    def _private_path(self, key_id: str, part: str) -> Path:
        return self.private_dir / f"{key_id}.{part}.pem"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyStoreError(f"{self.root}: cannot open the key store: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # --- public directory ----------------------------------------------------------------------

    def directory(self) -> PublicDirectory:
        """The public directory; a verifying store refuses it unsigned or altered."""
        directory = PublicDirectory.load(self.directory_path)
        if self._verify:
            problem = self.directory_problem(directory)
            if problem is not None:
                raise DirectoryRefused(problem)
        return directory

    def records(self) -> list[PublicKeyRecord]:
        return list(PublicDirectory.load(self.directory_path))

    def directory_problem(self, directory: PublicDirectory | None = None) -> str | None:
        """Why this store must not use its directory (None: empty, or signed by the hub
        over these records and the partner directory in effect)."""
        directory = (
            directory if directory is not None else PublicDirectory.load(self.directory_path)
        )
        if len(directory) == 0 and directory.signature is None:
            return None
        where = f"key directory {self.directory_path}"
        problem = directory.signature_problem()
        if problem is not None:
            return f"{where}: {problem}; {_MIGRATION}"
        signature = directory.signature
        assert signature is not None  # signature_problem said so
        held = [r.key_id for r in directory if r.role is KeyRole.HUB and self.has_private(r.key_id)]
        if held and signature.key_id not in held:
            return (
                f"{where}: signed by the hub key {signature.key_id}, which this store does not "
                f"hold (it holds {', '.join(held)}); {_MIGRATION}"
            )
        if held:
            self._prove(signature.key_id)
        partners = self._partners
        if (
            partners is not None
            and directory.partners_sha256 is not None
            and directory.partners_sha256 != partners.sha256
        ):
            return (
                f"partner directory {partners.source}: not the one the hub signed with "
                f"{self.directory_path} (altered, or replaced since); {_MIGRATION}"
            )
        return None

    def _prove(self, key_id: str) -> None:
        """Load the hub key ``key_id`` once: its private files match its public record."""
        path = self._private_path(key_id, "signing")
        try:
            proof = (str(path), key_id, path.stat().st_mtime_ns)
        except OSError as exc:
            raise KeyStoreError(f"{path}: cannot read: {exc.strerror}") from exc
        if proof not in _PROVEN:
            self._keys_of(PublicDirectory.load(self.directory_path).get(key_id))
            _PROVEN.add(proof)

    def sign(self) -> PublicKeyRecord:
        """Sign the directory as it is with the hub's current key (held here), bound to
        the partner directory in effect: the migration of an unsigned directory, and
        how a deliberate change of the partner directory is accepted."""
        with self._locked():
            directory = PublicDirectory.load(self.directory_path)
            signer = self._hub_signer(directory)
            if signer is None:
                raise KeyStoreError(
                    f"{self.root}: holds no active hub private key: sign the directory where "
                    "the hub's key is (or create it: `rmt-hub keys new --partner hub`)"
                )
            self._save_directory(directory)
            return directory.get(signer.key_id)

    def _for_write(self) -> PublicDirectory:
        """The directory to change: refused when signed and altered (an unsigned one is
        signed by the write: the migration)."""
        directory = PublicDirectory.load(self.directory_path)
        if directory.signature is not None:
            problem = directory.signature_problem()
            if problem is not None:
                raise DirectoryRefused(
                    f"key directory {self.directory_path}: {problem}; {_MIGRATION}"
                )
        return directory

    def _hub_signer(self, directory: PublicDirectory) -> PartnerKeys | None:
        """The current hub key, when this store holds its private part."""
        now = self._clock()
        candidates = [
            r
            for r in directory
            if r.role is KeyRole.HUB
            and r.status is KeyStatus.ACTIVE
            and r.valid_at(now)
            and self.has_private(r.key_id)
        ]
        if not candidates:
            return None
        return self._keys_of(max(candidates, key=lambda r: r.not_before))

    def _save_directory(self, directory: PublicDirectory) -> None:
        signer = self._hub_signer(directory)
        if signer is not None:
            partners = self._partners.sha256 if self._partners is not None else None
            directory = directory.signed(signer, partners)
        path = self.directory_path
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, directory.to_json().encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise KeyStoreError(f"{path}: cannot write: {exc.strerror}") from exc

    def add_public(self, record: PublicKeyRecord) -> None:
        """Add or update a public record (e.g. a partner's key generated elsewhere)."""
        with self._locked():
            self._save_directory(self._for_write().with_record(record))

    # --- private keys --------------------------------------------------------------------------

    def _sealed(self, pem: bytes) -> bytes:
        """What a private file holds: the PEM, sealed when there is a passphrase."""
        return pem if self._passphrase is None else seal(pem, self._passphrase)

    def _write_private(self, keys: PartnerKeys) -> None:
        try:
            self.private_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.private_dir, 0o700)
        except OSError as exc:
            raise KeyStoreError(f"{self.private_dir}: cannot create: {exc.strerror}") from exc
        plain = serialization.NoEncryption()
        parts = {
            "signing": self._sealed(
                keys.signing_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, plain
                )
            ),
            "encryption": self._sealed(
                keys.encryption_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, plain
                )
            ),
        }
        for part, pem in parts.items():
            path = self._private_path(keys.key_id, part)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, pem)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise KeyStoreError(
                    f"{path}: cannot write the private key: {exc.strerror}"
                ) from exc

    def _read_private(self, key_id: str, part: str) -> Any:
        path = self._private_path(key_id, part)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError as exc:
            raise KeyNotFound(f"no private key for {key_id} in {self.private_dir}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyStoreError(
                f"{path}: private key readable by others "
                f"(mode {stat.S_IMODE(mode):o}); chmod 600 it"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyStoreError(f"{path}: cannot read: {exc.strerror}") from exc
        if is_sealed(data):
            if self._passphrase is None:
                raise KeyStoreError(f"{path}: the key file is encrypted: give the passphrase")
            try:
                return self._load_pem(path, unseal(data, self._passphrase, source=str(path)))
            except SealedError as exc:
                raise KeyStoreError(
                    f"{path}: cannot load the private key (wrong passphrase?)"
                ) from exc
        key = self._load_pem(path, data)  # a file from before sealing: PKCS#8 or plain
        if self._passphrase is not None:
            self._seal_in_place(path, key)
        return key

    def _load_pem(self, path: Path, data: bytes) -> Any:
        password = self._passphrase.get_secret_value().encode("utf-8") if self._passphrase else None
        try:
            return serialization.load_pem_private_key(data, password=password)
        except TypeError:  # PKCS#8 unencrypted (from before a passphrase was set, or sealed)
            pass
        except ValueError as exc:  # wrong passphrase or not a key; never quote the data
            raise KeyStoreError(f"{path}: cannot load the private key (wrong passphrase?)") from exc
        if password is None:
            raise KeyStoreError(f"{path}: the key file is encrypted: give the passphrase")
        try:
            return serialization.load_pem_private_key(data, password=None)
        except (TypeError, ValueError) as exc:
            raise KeyStoreError(f"{path}: cannot load the private key") from exc

    def _seal_in_place(self, path: Path, key: Any) -> None:
        """Migrate a private file written before sealing: the same key, sealed."""
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            replace_file(path, self._sealed(pem))
        except OSError as exc:
            raise KeyStoreError(f"{path}: cannot seal the private key: {exc.strerror}") from exc

    def has_private(self, key_id: str) -> bool:
        return self._private_path(key_id, "signing").exists()

    def private_key(self, key_id: str) -> PartnerKeys:
        """The private keys of generation ``key_id`` (KeyNotFound when not held here)."""
        return self._keys_of(self.directory().get(key_id))

    def _keys_of(self, record: PublicKeyRecord) -> PartnerKeys:
        key_id = record.key_id
        signing = self._read_private(key_id, "signing")
        encryption = self._read_private(key_id, "encryption")
        if not isinstance(signing, Ed25519PrivateKey) or not isinstance(
            encryption, X25519PrivateKey
        ):
            raise KeyStoreError(f"{self.private_dir}: key files of {key_id} have the wrong type")
        keys = PartnerKeys(record.partner_id, signing, encryption)
        if keys.key_id != key_id:
            raise KeyStoreError(f"{self.private_dir}: key files of {key_id} do not match its id")
        return keys

    def private(self, partner_id: str) -> PartnerKeys:
        """The current (active, valid) private keys of ``partner_id``."""
        return self.private_key(self.directory().current(partner_id, self._clock()).key_id)

    def private_keys(self, partner_id: str) -> list[PartnerKeys]:
        """Every non-revoked generation of ``partner_id`` held here, newest first.

        Recipients decrypt with all of them: records encrypted before a rotation name
        the old key id.
        """
        held = [
            r
            for r in self.directory().keys_of(partner_id)
            if r.status is not KeyStatus.REVOKED and self.has_private(r.key_id)
        ]
        return [self.private_key(r.key_id) for r in reversed(held)]

    # --- life cycle ------------------------------------------------------------------------------

    def new(
        self,
        partner_id: str,
        *,
        kind: PartnerKind | None = None,
        region: Region | None = None,
        valid_for: timedelta = DEFAULT_VALIDITY,
        role: KeyRole | None = None,
    ) -> PublicKeyRecord:
        """Generate the first key generation of ``partner_id`` (use rotate afterwards);
        ``role``: :func:`role_of` the id by default."""
        with self._locked():
            directory = self._for_write()
            now = self._clock()
            if any(
                r.status is KeyStatus.ACTIVE and r.not_after >= now
                for r in directory.keys_of(partner_id)
            ):
                raise KeyStoreError(
                    f"partner {partner_id} already has an active key: use `keys rotate`"
                )
            return self._generate(
                directory,
                partner_id,
                kind=kind,
                region=region,
                now=now,
                valid_for=valid_for,
                role=role,
            )

    def rotate(
        self,
        partner_id: str,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        valid_for: timedelta = DEFAULT_VALIDITY,
    ) -> tuple[PublicKeyRecord, PublicKeyRecord]:
        """A new active generation; the old active ones retire after ``overlap``.

        Returns (newest retired, new). The new key inherits kind, region and role.
        """
        with self._locked():
            directory = self._for_write()
            now = self._clock()
            active = [r for r in directory.keys_of(partner_id) if r.status is KeyStatus.ACTIVE]
            if not active:
                raise KeyNotFound(
                    f"partner {partner_id} has no active key to rotate: use `keys new`"
                )
            retired: list[PublicKeyRecord] = []
            for record in active:
                updated = record.model_copy(
                    update={
                        "status": KeyStatus.RETIRED,
                        "not_after": max(
                            record.not_before + timedelta(seconds=1),
                            min(record.not_after, now + overlap),
                        ),
                    }
                )
                directory = directory.with_record(updated)
                retired.append(updated)
            latest = active[-1]
            new = self._generate(
                directory,
                partner_id,
                kind=latest.kind,
                region=latest.region,
                now=now,
                valid_for=valid_for,
                role=latest.role,
            )
            return retired[-1], new

    def revoke(self, key_id: str) -> PublicKeyRecord:
        """Mark ``key_id`` revoked: its signatures and envelopes are refused from now on."""
        with self._locked():
            directory = self._for_write()
            record = directory.get(key_id).model_copy(update={"status": KeyStatus.REVOKED})
            self._save_directory(directory.with_record(record))
            return record

    def _generate(
        self,
        directory: PublicDirectory,
        partner_id: str,
        *,
        kind: PartnerKind | None,
        region: Region | None,
        now: datetime,
        valid_for: timedelta,
        role: KeyRole | None = None,
    ) -> PublicKeyRecord:
        keys = PartnerKeys.generate(partner_id)
        try:
            record = keys.public_record(
                not_before=now, not_after=now + valid_for, kind=kind, region=region, role=role
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            raise KeyStoreError(f"cannot create a key for {partner_id!r}: {first['msg']}") from exc
        self._write_private(keys)
        self._save_directory(directory.with_record(record))
        return record
