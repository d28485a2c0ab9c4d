"""Monitor pseudonyms and event ids: keyed hashes with a monitor-only key, and key rotation.

Why the monitor has pseudonyms of its own, and why rotation works this way:
docs/decisions/0006-monitor-pseudonyms.md.

A monitor pseudonym is HMAC-SHA-256 of the normalised BSN under the **monitor key**,
written ``m<version>-<32 letters>``: 128 bits in ModHex (``cbdefghijklnrtuv``), so it
never holds a run of digits. Monitor **event ids** are UUIDs from an HMAC of the step's
business key under the same key; an id whose hex would hold eight or more digits in a
row is re-hashed (deterministically) until it does not.

Keys have versions 1, 2, 3, ... (the keyring)::

    p1 = HMAC(k1, "bsn" | BSN)          pn = HMAC(kn, "rekey" | p(n-1))

**Per period.** What events carry as ``monitor_pseudonym`` is a **period pseudonym**:
one per person and two-month reporting period, under a key derived for that period, so
one person's events in two periods do not share a pseudonym::

    kP = HMAC(k1, "period-key" | P)     q1 = HMAC(kP, "period" | client pseudonym)
    qn = HMAC(kn, "rekey" | q(n-1))     (forward exactly like a person's pseudonym)

**Linkage.** The events of the figures that need longer linkage also carry a
``linkage_pseudonym`` (docs/decisions/0016-monitor-access-by-need.md): one per person
across periods, under a key of its own derived for linkage alone, so it is neither the
person's pseudonym above (which the routing state keeps) nor any period's::

    kL = HMAC(k1, "linkage-key")        l1 = HMAC(kL, "linkage" | client pseudonym)
    ln = HMAC(kn, "rekey" | l(n-1))     (forward exactly like a person's pseudonym)

Events are written with the newest version (``key_version``). Rotating adds version n+1
(``rmt-hub monitor rotate-key`` or ``HUB_MONITOR_KEY``) and needs a restart of the
processes that derive events. :meth:`MonitorPseudonymiser.rekey` brings an event of
version m < n forward with keys m+1..n only, so the monitor never needs version 1.

Keys: ``HUB_MONITOR_KEY`` (:attr:`HubSettings.monitor_key`) wins when set - one urlsafe
base64 32-byte key (version 1) or ``1:<key>,2:<key>``; otherwise files in ``data_dir``
(0600, :func:`hub.keyfile.load_or_create_key`): ``monitor.key`` is version 1,
``monitor-v<N>.key`` version N.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from hub.config import HubSettings
from hub.errors import ConfigError
from hub.ids import EventId
from hub.keyfile import KEY_BYTES, load_or_create_key, passphrase_of
from hub.monitor.errors import MonitorInputError, MonitorKeyError
from hub.monitor.periods import parse_period
from schemas.identifiers import normalise_bsn

__all__ = [
    "KEY_ENV",
    "MODHEX",
    "PSEUDONYM_PATTERN",
    "MonitorKeyring",
    "MonitorPseudonymiser",
    "add_key_version",
    "key_path",
    "load_keyring",
]

KEY_ENV = "HUB_MONITOR_KEY"
MODHEX = "cbdefghijklnrtuv"
"""The 16 letters that write one nibble each (Yubico's ModHex): no digits at all."""
PSEUDONYM_PATTERN = re.compile(r"^m([1-9][0-9]*)-([" + MODHEX + r"]{32})$")
"""``m<version>-<32 ModHex letters>``."""

_DIGEST_BYTES = 16
_BSN_LABEL = b"rmt-monitor/pseudonym\x00"
_REKEY_LABEL = b"rmt-monitor/rekey\x00"
_EVENT_LABEL = b"rmt-monitor/event\x00"
_REKEY_EVENT_LABEL = b"rmt-monitor/rekey-event\x00"
_PERIOD_KEY_LABEL = b"rmt-monitor/period-key\x00"
_PERIOD_LABEL = b"rmt-monitor/period\x00"
_LINKAGE_KEY_LABEL = b"rmt-monitor/linkage-key\x00"
_LINKAGE_LABEL = b"rmt-monitor/linkage\x00"
_SEP = b"\x1f"
_DIGIT_RUN = re.compile(r"[0-9]{8}")
_FILE = re.compile(r"^monitor-v([1-9][0-9]*)\.key$")
_CACHE_LIMIT = 200_000


def _modhex(data: bytes) -> str:
    return "".join(MODHEX[b >> 4] + MODHEX[b & 0x0F] for b in data)


def _mac(key: bytes, label: bytes, data: bytes) -> bytes:
    return hmac.new(key, label + data, hashlib.sha256).digest()[:_DIGEST_BYTES]


def _uuid(digest: bytes) -> EventId:
    """A UUID from ``digest``, re-hashed until it holds no run of 8+ digits (no BSN look-alike)."""
    text = str(uuid.UUID(bytes=digest, version=4))
    while _DIGIT_RUN.search(text):
        digest = hashlib.sha256(digest).digest()[:_DIGEST_BYTES]
        text = str(uuid.UUID(bytes=digest, version=4))
    return EventId(text)


@dataclass(frozen=True)
class MonitorKeyring:
    """The monitor keys by version (1, 2, ...); the newest is the one events are written with.

    A keyring may lack low versions (the national monitor holds only 2..n, see the module
    doc); :attr:`current` is the highest version present.
    """

    keys: Mapping[int, bytes]

    def __post_init__(self) -> None:
        if not self.keys:
            raise MonitorKeyError("the monitor keyring is empty")
        for version, key in self.keys.items():
            if version < 1:
                raise MonitorKeyError(f"monitor key version {version}: versions start at 1")
            if len(key) != KEY_BYTES:
                raise MonitorKeyError(f"monitor key version {version}: must be {KEY_BYTES} bytes")

    @property
    def current(self) -> int:
        return max(self.keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self.keys)

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise MonitorKeyError(
                f"monitor key version {version} is not in the keyring (has {self.versions})"
            ) from None

    def without(self, *versions: int) -> MonitorKeyring:
        """The keyring without ``versions`` (e.g. the monitor's copy, without version 1)."""
        return MonitorKeyring({v: k for v, k in self.keys.items() if v not in versions})


def key_path(settings: HubSettings, version: int) -> Path:
    """Where key ``version`` lives when ``HUB_MONITOR_KEY`` is unset."""
    name = "monitor.key" if version == 1 else f"monitor-v{version}.key"
    return settings.data_dir / name


def _from_env(secret: SecretStr) -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    entries = [e.strip() for e in secret.get_secret_value().split(",") if e.strip()]
    if not entries:
        raise MonitorKeyError(f"{KEY_ENV} is set but empty")
    for entry in entries:
        version_text, sep, text = entry.partition(":")
        if not sep:
            version_text, text = "1", entry
        if not version_text.isdigit() or int(version_text) < 1:
            raise MonitorKeyError(f"{KEY_ENV}: key versions are positive integers ('N:<key>')")
        version = int(version_text)
        if version in keys:
            raise MonitorKeyError(f"{KEY_ENV}: version {version} is given twice")
        try:
            keys[version] = load_or_create_key(
                SecretStr(text), Path(), label="monitor key", env=f"{KEY_ENV} (version {version})"
            )
        except ConfigError as exc:
            raise MonitorKeyError(str(exc)) from exc
    return keys


def load_keyring(settings: HubSettings, *, create: bool = True) -> MonitorKeyring:
    """The monitor keyring from ``HUB_MONITOR_KEY`` or from the key files in ``data_dir``.

    Without either, version 1 is generated into ``data_dir/monitor.key`` when ``create``
    (the hub's first start); with ``create=False`` a missing keyring is an error.
    """
    if settings.monitor_key is not None:
        return MonitorKeyring(_from_env(settings.monitor_key))
    versions = {1} if key_path(settings, 1).exists() else set()
    if settings.data_dir.is_dir():
        for path in settings.data_dir.iterdir():
            found = _FILE.match(path.name)
            if found:
                versions.add(int(found.group(1)))
    if not versions:
        if not create:
            raise MonitorKeyError(
                f"no monitor key: set {KEY_ENV} or provide {key_path(settings, 1)}"
            )
        versions = {1}
    keys: dict[int, bytes] = {}
    for version in sorted(versions):
        try:
            keys[version] = load_or_create_key(
                None,
                key_path(settings, version),
                label="monitor key",
                env=KEY_ENV,
                passphrase=passphrase_of(settings),
            )
        except ConfigError as exc:
            raise MonitorKeyError(str(exc)) from exc
    return MonitorKeyring(keys)


def add_key_version(settings: HubSettings) -> int:
    """Rotate: generate the next key version into ``data_dir``; returns its number.

    Refused when the keys come from ``HUB_MONITOR_KEY`` (add an entry there instead).
    """
    if settings.monitor_key is not None:
        raise MonitorKeyError(
            f"the monitor keys come from {KEY_ENV}: rotate by adding an entry 'N:<key>' there"
        )
    version = load_keyring(settings).current + 1
    try:
        load_or_create_key(
            None,
            key_path(settings, version),
            label="monitor key",
            env=KEY_ENV,
            passphrase=passphrase_of(settings),
        )
    except ConfigError as exc:
        raise MonitorKeyError(str(exc)) from exc
    return version


@dataclass
class MonitorPseudonymiser:
    """Pseudonyms and event ids under a keyring; re-keys older versions forward.

    ``pseudonym`` and ``event_id`` need every version 1..current; ``rekey`` and
    ``rekey_event_id`` from version m need only m+1..current.
    """

    keyring: MonitorKeyring
    _rekeyed: dict[tuple[str, int], str] = field(default_factory=dict, repr=False)

    @property
    def key_version(self) -> int:
        """The version new pseudonyms and event ids are written with."""
        return self.keyring.current

    def pseudonym(self, bsn: str) -> str:
        """The monitor pseudonym of ``bsn`` (normalised; MonitorInputError if no BSN)."""
        try:
            digits = normalise_bsn(bsn)
        except ValueError as exc:
            raise MonitorInputError(f"cannot pseudonymise: {exc}") from None
        text = f"m1-{_modhex(_mac(self.keyring.key(1), _BSN_LABEL, digits.encode('ascii')))}"
        return self._forward(text, 1, _REKEY_LABEL)

    def period_pseudonym(self, subject: str, period: str) -> str:
        """The pseudonym of the person with client pseudonym ``subject`` in reporting
        ``period`` ('2021-03/04'), current version: HMAC under the key derived for
        ``period`` (see the module doc); another period gives an unrelated one."""
        if not subject:
            raise MonitorInputError("cannot pseudonymise: no client pseudonym")
        label = _PERIOD_KEY_LABEL + parse_period(period).encode("ascii")
        period_key = hmac.new(self.keyring.key(1), label, hashlib.sha256).digest()
        digest = _mac(period_key, _PERIOD_LABEL, subject.encode("utf-8"))
        return self._forward(f"m1-{_modhex(digest)}", 1, _REKEY_LABEL)

    def linkage_pseudonym(self, subject: str) -> str:
        """The pseudonym that links the person with client pseudonym ``subject`` across
        periods, current version: HMAC under the linkage key (see the module doc)."""
        if not subject:
            raise MonitorInputError("cannot pseudonymise: no client pseudonym")
        linkage_key = hmac.new(self.keyring.key(1), _LINKAGE_KEY_LABEL, hashlib.sha256).digest()
        digest = _mac(linkage_key, _LINKAGE_LABEL, subject.encode("utf-8"))
        return self._forward(f"m1-{_modhex(digest)}", 1, _REKEY_LABEL)

    def event_id(self, *parts: str) -> EventId:
        """A keyed event id over ``parts`` (the business key of a step), current version."""
        material = _SEP.join(part.encode("utf-8") for part in parts)
        text = _uuid(_mac(self.keyring.key(1), _EVENT_LABEL, material))
        return EventId(self._forward(text, 1, _REKEY_EVENT_LABEL))

    def rekey(self, pseudonym: str, version: int) -> str:
        """``pseudonym`` (written under ``version``) under the current version."""
        match = PSEUDONYM_PATTERN.match(pseudonym)
        if match is None or int(match.group(1)) != version:
            raise MonitorInputError(
                f"not a monitor pseudonym of key version {version} ('m{version}-' + 32 letters)"
            )
        return self._forward(pseudonym, version, _REKEY_LABEL)

    def rekey_event_id(self, event_id: str, version: int) -> EventId:
        """``event_id`` (written under ``version``) under the current version."""
        return EventId(self._forward(event_id, version, _REKEY_EVENT_LABEL))

    def _forward(self, text: str, version: int, label: bytes) -> str:
        current = self.keyring.current
        if version == current:
            return text
        if version > current:
            raise MonitorKeyError(
                f"an event of monitor key version {version} is newer than the keyring "
                f"(up to {current}): load the newer key"
            )
        pseudonym = label == _REKEY_LABEL
        cache_key = (text, version)
        cached = self._rekeyed.get(cache_key) if pseudonym else None
        if cached is not None:
            return cached
        out = text
        for step in range(version + 1, current + 1):
            digest = _mac(self.keyring.key(step), label, out.encode("ascii"))
            out = f"m{step}-{_modhex(digest)}" if pseudonym else _uuid(digest)
        if pseudonym:
            if len(self._rekeyed) >= _CACHE_LIMIT:
                self._rekeyed.clear()
            self._rekeyed[cache_key] = out
        return out
