"""Acknowledging erasure notices: the partner tells the consent service it erased.

An :class:`~schemas.models.ErasureNotice` in the inbox asks the partner to erase what it
received about ``client_pseudonym`` under ``consent_id`` (everything, when a tombstone
follows). Once it has, it calls :meth:`ErasureAcknowledger.acknowledge` with the notice:
the consent service records the acknowledgement, and the privacy officer sees the notice
turn from *sent* to *acknowledged* (``docs/partner-protocol.md``, section 8)::

    with ErasureAcknowledger(consent_url, api_key) as acks, PartnerClient(...) as client:
        for message in client.subscribe():
            if isinstance(message.record, ErasureNotice):
                erase(message.record)            # the partner's own deletion
                acks.acknowledge(message.record)
            client.commit(message)

The call is idempotent (a repeat answers 200 with the stored acknowledgement), so
acknowledging again after a crash between erasing and committing is safe. The API key is
the partner's key of the consent service (role ``partner``), the one it asks decisions
with.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from hub.sdk.errors import SdkError
from schemas.models import ErasureNotice

__all__ = ["ACKNOWLEDGEMENTS_PATH", "API_KEY_HEADER", "ErasureAcknowledger"]

ACKNOWLEDGEMENTS_PATH = "/v1/erasure-acknowledgements"
API_KEY_HEADER = "X-API-Key"


class ErasureAcknowledger:
    """A client of the consent service that acknowledges erasure notices."""

    def __init__(
        self,
        consent_url: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._own = client is None
        self._client = client or httpx.Client(base_url=consent_url, timeout=timeout_s)
        self._headers = {API_KEY_HEADER: api_key}

    def __repr__(self) -> str:
        return f"ErasureAcknowledger({self._client.base_url!s}, **********)"

    def acknowledge(self, notice: ErasureNotice, erased_at: datetime | None = None) -> Any:
        """Tell the consent service this partner erased what ``notice`` asked; returns the
        notice as the service now sees it (``status`` ``acknowledged``).

        Raises :class:`SdkError` when the service refuses (another partner's notice, a
        notice it does not know) or cannot be reached.
        """
        body: dict[str, Any] = {
            "notice_id": str(notice.event_id),
            "consent_event_id": str(notice.consent_event_id),
            "client_pseudonym": str(notice.client_pseudonym),
        }
        if erased_at is not None:
            body["erased_at"] = erased_at.isoformat()
        try:
            answer = self._client.post(ACKNOWLEDGEMENTS_PATH, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SdkError(
                f"could not reach the consent service to acknowledge erasure notice "
                f"{notice.event_id} ({type(exc).__name__}); try again, it is safe to repeat"
            ) from exc
        if answer.status_code not in (200, 201):
            detail = answer.text[:300]
            raise SdkError(
                f"the consent service refused the acknowledgement of erasure notice "
                f"{notice.event_id}: HTTP {answer.status_code} {detail}"
            )
        return answer.json()

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> ErasureAcknowledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
