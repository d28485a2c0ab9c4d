"""A partner's subject keys, granted by the hub's key service (the consent service).

The hub seals every special-category field it delivers with a key of the subject
(``sealed_fields``, docs/partner-protocol.md section 8). A partner entitled to the data -
a consent of the subject names it as a recipient of ``health`` on the legal basis of
explicit consent, now - gets the key on request::

    keys = consent_subject_keys(settings, "gemeente-amsterdam")  # HUB_CONSENT_URL, _API_KEY
    with PartnerClient(settings, "gemeente-amsterdam", subject_keys=keys) as client:
        for message in client.subscribe():  # health fields in plaintext while entitled
            ...

(:class:`~hub.sdk.client.PartnerClient` does this by itself when ``HUB_CONSENT_URL`` and
``HUB_CONSENT_API_KEY`` are set.) ``GET <consent url>/v1/subject-keys/<subject>/<key id>``
with the partner's API key (``X-API-Key``, role ``partner``) answers the key wrapped to
the partner's current X25519 key (the grant: ``blob_b64`` and the envelope ``headers``),
opened here with the partner's private keys (every generation it holds), and how long it
may be kept (``cache_for_s``). 403: no consent entitles the partner now
(SubjectKeyRefused: the fields stay null); 410: the key was destroyed
(SubjectKeyShredded: the data is gone); 404: no such key (SubjectKeyUnknown); anything
else, or no answer: KeyServiceUnavailable (the fields stay sealed, the next record asks
again). :class:`~hub.security.shredding.CachedSubjectKeys` keeps each answer at most
``HUB_SUBJECT_KEY_CACHE_S`` (60 s; never longer than the service says, nor than 300 s):
a withdrawal or erasure reaches the partner's process within that time, and at once when
the process reads the erasure notice.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from hub.config import HubSettings
from hub.security.config import partner_key_store
from hub.security.errors import (
    KeyServiceUnavailable,
    ShreddingError,
    SubjectKeyRefused,
    SubjectKeyShredded,
    SubjectKeyUnknown,
)
from hub.security.keys import PartnerKeys
from hub.security.shredding import CachedSubjectKeys, SubjectKey, unwrap_subject_key

__all__ = ["KeyServiceClient", "consent_subject_keys"]

API_KEY_HEADER = "X-API-Key"


class KeyServiceClient:
    """Asks the consent service for subject key grants and opens them (thread-safe)."""

    def __init__(
        self,
        url: str,
        api_key: SecretStr,
        keys: Iterable[PartnerKeys],
        *,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._keys = list(keys)
        if not self._keys:
            raise ShreddingError("a key service client needs the partner's private keys")
        self._http = httpx.Client(
            base_url=self.url,
            headers={API_KEY_HEADER: api_key.get_secret_value()},
            timeout=timeout_s,
            transport=transport,
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyServiceClient(url={self.url!r}, api_key=**********)"

    def close(self) -> None:
        self._http.close()

    def fetch(self, subject: str, key_id: str | None) -> tuple[SubjectKey, float]:
        """Key ``key_id`` of ``subject`` and how long it may be kept (seconds)."""
        if key_id is None:
            raise ShreddingError("a partner opens sealed fields; only the hub seals them")
        path = f"/v1/subject-keys/{quote(subject, safe='')}/{quote(key_id, safe='')}"
        try:
            with self._lock:
                answer = self._http.get(path)
        except httpx.HTTPError as exc:
            raise KeyServiceUnavailable(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if answer.status_code == 403:
            raise SubjectKeyRefused(subject, key_id, _detail(answer))
        if answer.status_code == 410:
            raise SubjectKeyShredded(subject, key_id)
        if answer.status_code == 404:
            raise SubjectKeyUnknown(f"no key {key_id} for subject {subject}: {_detail(answer)}")
        if answer.status_code != 200:
            raise KeyServiceUnavailable(
                f"{self.url}: HTTP {answer.status_code} for a subject key: {_detail(answer)}"
            )
        return self._open(subject, key_id, answer)

    def _open(self, subject: str, key_id: str, answer: httpx.Response) -> tuple[SubjectKey, float]:
        try:
            body: dict[str, Any] = answer.json()
            blob = base64.b64decode(body["blob_b64"], validate=True)
            headers = [(str(n), str(v).encode("utf-8")) for n, v in body["headers"]]
            ttl = float(body["cache_for_s"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyServiceUnavailable(f"{self.url}: not a subject key grant: {exc}") from exc
        if body.get("subject") != subject or body.get("key_id") != key_id:
            raise KeyServiceUnavailable(f"{self.url}: a grant of another key than asked for")
        return unwrap_subject_key(subject, key_id, blob, headers, self._keys), ttl


def _detail(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else answer.reason_phrase


def consent_subject_keys(
    settings: HubSettings,
    partner_id: str,
    *,
    url: str | None = None,
    api_key: SecretStr | str | None = None,
    ttl_s: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CachedSubjectKeys | None:
    """``partner_id``'s subject keys from the consent service at ``url`` (default
    ``HUB_CONSENT_URL``) with ``api_key`` (``HUB_CONSENT_API_KEY``), opened with its
    private keys from the key store, cached ``ttl_s`` (``HUB_SUBJECT_KEY_CACHE_S``); None
    when no URL or key is configured (the fields then stay sealed)."""
    url = url or settings.consent_url
    secret = SecretStr(api_key) if isinstance(api_key, str) else api_key
    secret = secret or settings.consent_api_key
    if not url or secret is None or not secret.get_secret_value():
        return None
    store = partner_key_store(settings)
    client = KeyServiceClient(url, secret, store.private_keys(partner_id), transport=transport)
    return CachedSubjectKeys(
        client.fetch,
        ttl_s=settings.subject_key_cache_s if ttl_s is None else ttl_s,
        on_close=client.close,
    )
